//! How values, keys, times and durations appear to humans (and in JSON).

use tracklab_proto::v1::Value;
use tracklab_proto::v1::value::Kind;

/// A value as a short human string.
///
/// Floats use at most 6 significant digits without trailing zeros (`0.0123`,
/// `12345.7`, `3`); the integer part of numbers below 1e9 is never rounded
/// away (`123456789`). Scientific notation is used when |x| < 1e-4 or
/// |x| >= 1e9 (`1.5e-06`, `2.5e+10`). NaN and infinities are
/// `NaN`, `inf` and `-inf`. Ints and strings are shown as is, bools as
/// `true`/`false`, bytes as `<N bytes>`, JSON text as is, and a value without
/// a kind as the empty string.
pub fn value_to_string(v: &Value) -> String {
    match &v.kind {
        Some(Kind::Float(x)) => float_to_string(*x),
        Some(Kind::Int(i)) => i.to_string(),
        Some(Kind::Bool(b)) => b.to_string(),
        Some(Kind::Str(s)) => s.clone(),
        Some(Kind::Bytes(b)) => bytes_label(b.len()),
        Some(Kind::Json(s)) => s.clone(),
        None => String::new(),
    }
}

/// A float in the short form described at [`value_to_string`].
pub fn float_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    // Round to 6 significant digits first: the exponent after rounding
    // decides how many decimals the fixed notation keeps.
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    if x.abs() < 1e-4 || x.abs() >= 1e9 {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!(
            "{}e{sign}{:02}",
            strip_fraction_zeros(mantissa),
            exp.unsigned_abs()
        );
    }
    let decimals = usize::try_from(5 - exp).unwrap_or(0);
    strip_fraction_zeros(&format!("{x:.decimals$}")).to_string()
}

/// A value as a string that keeps every digit: floats in Rust's shortest
/// round-trip form (`0.1`, `3.0`, `1e-7`, `NaN`, `inf`); other kinds as in
/// [`value_to_string`]. For CSV and for telling close values apart.
pub fn value_to_exact_string(v: &Value) -> String {
    match &v.kind {
        Some(Kind::Float(x)) if x.is_finite() => format!("{x:?}"),
        _ => value_to_string(v),
    }
}

/// Removes trailing zeros after a decimal point, then a trailing point.
fn strip_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

fn bytes_label(n: usize) -> String {
    format!("<{n} bytes>")
}

/// A value as JSON.
///
/// Floats are JSON numbers, except NaN, inf and -inf, which become the
/// strings `"NaN"`, `"Infinity"` and `"-Infinity"`. JSON text is parsed; text
/// that is not strict JSON (for example one holding a `NaN` literal) is kept
/// as a string. Bytes become the string `"<N bytes>"`; a value without a kind
/// is `null`.
pub fn value_to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match &v.kind {
        Some(Kind::Float(x)) => float_to_json(*x),
        Some(Kind::Int(i)) => J::from(*i),
        Some(Kind::Bool(b)) => J::Bool(*b),
        Some(Kind::Str(s)) => J::String(s.clone()),
        Some(Kind::Bytes(b)) => J::String(bytes_label(b.len())),
        Some(Kind::Json(s)) => {
            serde_json::from_str::<J>(s).unwrap_or_else(|_| J::String(s.clone()))
        }
        None => J::Null,
    }
}

/// A float as JSON: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub fn float_to_json(x: f64) -> serde_json::Value {
    match serde_json::Number::from_f64(x) {
        Some(n) => serde_json::Value::Number(n),
        None if x.is_nan() => serde_json::Value::String("NaN".to_string()),
        None if x > 0.0 => serde_json::Value::String("Infinity".to_string()),
        None => serde_json::Value::String("-Infinity".to_string()),
    }
}

/// A float, int or bool (1 or 0) value as `f64`; `None` for anything else.
pub fn value_as_f64(v: &Value) -> Option<f64> {
    match &v.kind {
        Some(Kind::Float(x)) => Some(*x),
        // Precision loss above 2^53 is acceptable for display and ranking.
        Some(Kind::Int(i)) => Some(*i as f64),
        Some(Kind::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// The daemon's flat key for a path (elements joined with `.`, a literal
/// `.` written `\.` and `\` written `\\`), and its inverse: the same
/// functions the daemon uses, so the CLI names keys exactly as it does.
pub use tracklab_state::{key_name as item_key, split_key_name as split_key};

/// Unix time in microseconds as `YYYY-MM-DD HH:MM:SS` (UTC); `0` is `-`.
pub fn format_time_us(us: i64) -> String {
    if us == 0 {
        return "-".to_string();
    }
    let secs = us.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day);
/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = yoe + era * 400 + i64::from(m <= 2);
    // d and m are in small positive ranges, so the conversions cannot fail.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// A duration in microseconds, truncated to its two largest units:
/// `850ms`, `12s`, `3m07s`, `1h02m`, `2d03h`. Negative is `-`.
pub fn format_duration_us(us: i64) -> String {
    if us < 0 {
        return "-".to_string();
    }
    let ms = us / 1000;
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> Value {
        Value {
            kind: Some(Kind::Float(x)),
        }
    }

    fn k(kind: Kind) -> Value {
        Value { kind: Some(kind) }
    }

    #[test]
    fn floats_are_short() {
        let cases = [
            (0.0123, "0.0123"),
            (1.5e-6, "1.5e-06"),
            (12345.67, "12345.7"),
            (3.0, "3"),
            (-3.0, "-3"),
            (0.0, "0"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.333333"),
            (2.0 / 3.0, "0.666667"),
            (0.0001, "0.0001"),
            (0.00009999, "9.999e-05"),
            (0.000099999999, "1e-04"),
            (123456.0, "123456"),
            (1234567.0, "1234567"),
            (123456789.0, "123456789"),
            (999999999.0, "999999999"),
            (1e9, "1e+09"),
            (2.5e10, "2.5e+10"),
            (-1.23456789e-7, "-1.23457e-07"),
            (1e100, "1e+100"),
            (1e-300, "1e-300"),
            (f64::MAX, "1.79769e+308"),
            (999999.5, "1000000"),
            (0.5, "0.5"),
        ];
        for (x, want) in cases {
            assert_eq!(value_to_string(&f(x)), want, "{x:e}");
        }
    }

    #[test]
    fn special_floats() {
        assert_eq!(value_to_string(&f(f64::NAN)), "NaN");
        assert_eq!(value_to_string(&f(f64::INFINITY)), "inf");
        assert_eq!(value_to_string(&f(f64::NEG_INFINITY)), "-inf");
    }

    #[test]
    fn other_kinds_to_string() {
        assert_eq!(value_to_string(&k(Kind::Int(-42))), "-42");
        assert_eq!(value_to_string(&k(Kind::Bool(true))), "true");
        assert_eq!(value_to_string(&k(Kind::Bool(false))), "false");
        assert_eq!(value_to_string(&k(Kind::Str("a b".into()))), "a b");
        assert_eq!(value_to_string(&k(Kind::Bytes(vec![1, 2, 3]))), "<3 bytes>");
        assert_eq!(value_to_string(&k(Kind::Json("[1,2]".into()))), "[1,2]");
        assert_eq!(value_to_string(&Value { kind: None }), "");
    }

    #[test]
    fn exact_strings_keep_digits() {
        assert_eq!(value_to_exact_string(&f(0.1)), "0.1");
        assert_eq!(value_to_exact_string(&f(3.0)), "3.0");
        assert_eq!(value_to_exact_string(&f(1e-7)), "1e-7");
        assert_eq!(value_to_exact_string(&f(0.1234567891)), "0.1234567891");
        assert_eq!(value_to_exact_string(&f(f64::NAN)), "NaN");
        assert_eq!(value_to_exact_string(&f(f64::NEG_INFINITY)), "-inf");
        assert_eq!(value_to_exact_string(&k(Kind::Int(5))), "5");
    }

    #[test]
    fn json_values() {
        use serde_json::json;
        assert_eq!(value_to_json(&f(0.5)), json!(0.5));
        assert_eq!(value_to_json(&f(f64::NAN)), json!("NaN"));
        assert_eq!(value_to_json(&f(f64::INFINITY)), json!("Infinity"));
        assert_eq!(value_to_json(&f(f64::NEG_INFINITY)), json!("-Infinity"));
        assert_eq!(value_to_json(&k(Kind::Int(7))), json!(7));
        assert_eq!(value_to_json(&k(Kind::Bool(true))), json!(true));
        assert_eq!(value_to_json(&k(Kind::Str("x".into()))), json!("x"));
        assert_eq!(
            value_to_json(&k(Kind::Bytes(vec![0; 10]))),
            json!("<10 bytes>")
        );
        assert_eq!(
            value_to_json(&k(Kind::Json(r#"{"a":[1,null]}"#.into()))),
            json!({"a": [1, null]})
        );
        assert_eq!(
            value_to_json(&k(Kind::Json("[1, NaN]".into()))),
            json!("[1, NaN]")
        );
        assert_eq!(value_to_json(&Value { kind: None }), json!(null));
    }

    #[test]
    fn as_f64() {
        assert_eq!(value_as_f64(&f(1.5)), Some(1.5));
        assert_eq!(value_as_f64(&k(Kind::Int(-2))), Some(-2.0));
        assert_eq!(value_as_f64(&k(Kind::Bool(true))), Some(1.0));
        assert_eq!(value_as_f64(&k(Kind::Bool(false))), Some(0.0));
        assert_eq!(value_as_f64(&k(Kind::Str("1".into()))), None);
        assert_eq!(value_as_f64(&k(Kind::Json("1".into()))), None);
        assert_eq!(value_as_f64(&Value { kind: None }), None);
        assert!(value_as_f64(&f(f64::NAN)).is_some_and(f64::is_nan));
    }

    #[test]
    fn times() {
        assert_eq!(format_time_us(0), "-");
        assert_eq!(format_time_us(1), "1970-01-01 00:00:00");
        assert_eq!(format_time_us(-1), "1969-12-31 23:59:59");
        assert_eq!(format_time_us(951_782_400_000_000), "2000-02-29 00:00:00");
        assert_eq!(format_time_us(1_795_625_999_123_456), "2026-11-25 16:59:59");
        assert_eq!(format_time_us(4_107_542_400_000_000), "2100-03-01 00:00:00");
        // Extremes do not panic.
        assert!(!format_time_us(i64::MAX).is_empty());
        assert!(!format_time_us(i64::MIN).is_empty());
    }

    #[test]
    fn durations() {
        let s = 1_000_000;
        assert_eq!(format_duration_us(-1), "-");
        assert_eq!(format_duration_us(0), "0ms");
        assert_eq!(format_duration_us(850_999), "850ms");
        assert_eq!(format_duration_us(999_999), "999ms");
        assert_eq!(format_duration_us(s), "1s");
        assert_eq!(format_duration_us(12 * s + 999_999), "12s");
        assert_eq!(format_duration_us(187 * s), "3m07s");
        assert_eq!(format_duration_us(3600 * s - 1), "59m59s");
        assert_eq!(format_duration_us(3720 * s), "1h02m");
        assert_eq!(
            format_duration_us((2 * 86_400 + 3 * 3600 + 59) * s),
            "2d03h"
        );
        assert!(!format_duration_us(i64::MAX).is_empty());
    }
}
