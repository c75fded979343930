//! Flat key names for nested paths: `["a", "b"]` is `a.b`, `["a.b"]` is `a\.b`.
//!
//! History rows, summary items in queries and `define_metric` names all use
//! this form. It follows wandb's `splitEscapedDottedMetricName`
//! (`core/internal/runmetric/runmetric.go`): a `.` separates segments and
//! `\.` is a literal dot. We also escape `\` itself as `\\` so that
//! [`key_name`] is injective and [`split_key_name`] is its exact inverse; a
//! backslash before any other character is kept literally, as wandb does, so
//! the metric name `test\this\.that` still names the single segment
//! `test\this.that`.

/// Joins path segments with `.`, escaping `.` and `\` inside a segment with `\`.
pub fn key_name(path: &[String]) -> String {
    // The common case: one segment with nothing to escape.
    if let [only] = path
        && !only.contains(['.', '\\'])
    {
        return only.clone();
    }
    let mut out = String::with_capacity(path.iter().map(|s| s.len() + 1).sum());
    for (i, segment) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        for c in segment.chars() {
            if c == '.' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// Splits a flat key name into path segments; the inverse of [`key_name`].
///
/// The empty string is the empty path. A `\` not followed by `.` or `\` is a
/// literal backslash (wandb's rule for metric names).
pub fn split_key_name(name: &str) -> Vec<String> {
    if name.is_empty() {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('.' | '\\')) => {
                    current.push(next);
                    chars.next();
                }
                _ => current.push('\\'),
            },
            '.' => parts.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    parts.push(current);
    parts
}

/// Whether a key is internal to the tracker (`_step`, `_runtime`, ...):
/// its first segment starts with `_`. Such keys never match metric globs
/// (`createGlobMetrics` in wandb's `runmetric.go`).
pub(crate) fn is_internal(path: &[String]) -> bool {
    path.first().is_some_and(|s| s.starts_with('_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn nested_and_literal_dots_round_trip() {
        let cases = [
            (p(&["a", "b"]), "a.b"),
            (p(&["a.b"]), "a\\.b"),
            (p(&["a\\b"]), "a\\\\b"),
            (p(&["x", "y.z", "w\\"]), "x.y\\.z.w\\\\"),
            (p(&["train/loss"]), "train/loss"),
        ];
        for (path, name) in cases {
            assert_eq!(key_name(&path), name);
            assert_eq!(split_key_name(name), path);
        }
    }

    #[test]
    fn lone_backslash_is_literal_as_in_wandb() {
        assert_eq!(split_key_name("test\\this\\.that"), p(&["test\\this.that"]));
        assert_eq!(split_key_name("a\\"), p(&["a\\"]));
    }
}
