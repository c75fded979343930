//! Structural validation of incoming records, run before a record is logged.
//!
//! Every error names the offending field with its proto path, for example
//! `payload.history.items[2].path[0]`, so the daemon can hand it back to the
//! client as is. [`validate_record`] is what every record in a log satisfies
//! (the daemon's own records included); [`validate_client_record`] adds the
//! rules for records that come from clients. Validation is structural only:
//! whether a run exists or a step is in order is decided by the daemon and by
//! [`crate::apply()`].

use tracklab_proto::v1;
use v1::record::Payload;

use crate::keys::split_key_name;

/// Run ids: this many characters at most, from `[A-Za-z0-9_.-]`, not
/// starting with `.` (run ids become directory names).
pub const MAX_RUN_ID_CHARS: usize = 64;
/// Largest encoded record (log large objects as files).
pub const MAX_RECORD_BYTES: usize = 4 << 20;
/// Project names: 1 to this many characters; no `/`, `\`, control
/// characters, and not `.` or `..`.
pub const MAX_PROJECT_CHARS: usize = 128;
/// Run name, group and job type: at most this many characters.
pub const MAX_NAME_CHARS: usize = 256;
/// At most this many tags per run.
pub const MAX_TAGS: usize = 100;
/// Each tag: 1 to this many characters.
pub const MAX_TAG_CHARS: usize = 256;
/// Notes: at most this many bytes.
pub const MAX_NOTES_BYTES: usize = 64 * 1024;
/// Host, program, python, user and git fields: at most this many bytes.
pub const MAX_FIELD_BYTES: usize = 4096;
/// At most this many program arguments.
pub const MAX_ARGS: usize = 4096;
/// Each program argument: at most this many bytes.
pub const MAX_ARG_BYTES: usize = 64 * 1024;
/// Each path segment of an item: 1 to this many bytes.
pub const MAX_SEGMENT_BYTES: usize = 256;
/// Items are at most this deep.
pub const MAX_PATH_DEPTH: usize = 16;
/// Items (updates plus removals), console lines or files per record.
pub const MAX_ITEMS_PER_RECORD: usize = 100_000;
/// String, bytes and JSON values: at most this many bytes.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// Each console line: at most this many bytes.
pub const MAX_CONSOLE_LINE_BYTES: usize = 64 * 1024;
/// Metric and glob names: at most this many bytes.
pub const MAX_METRIC_NAME_BYTES: usize = 4096;
/// File paths: 1 to this many bytes, relative, without `..`.
pub const MAX_FILE_PATH_BYTES: usize = 4096;
/// Alert titles: at most this many characters.
pub const MAX_ALERT_TITLE_CHARS: usize = 256;
/// Alert texts: at most this many bytes.
pub const MAX_ALERT_TEXT_BYTES: usize = 64 * 1024;

/// A record that breaks a structural rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {reason}")]
pub struct InvalidRecord {
    /// The proto path of the offending field.
    pub field: String,
    pub reason: String,
}

type Result<T = ()> = std::result::Result<T, InvalidRecord>;

fn bad(field: impl Into<String>, reason: impl Into<String>) -> InvalidRecord {
    InvalidRecord {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Checks a record as it may appear in a log.
pub fn validate_record(rec: &v1::Record) -> Result {
    validate_run_id("run_id", &rec.run_id)?;
    if rec.seq == 0 {
        return Err(bad("seq", "sequence numbers start at 1"));
    }
    let Some(payload) = &rec.payload else {
        return Err(bad("payload", "no payload is set"));
    };
    validate_payload(payload)
}

/// Checks a record's payload alone (what [`validate_record`] checks beyond
/// the envelope).
pub fn validate_payload(payload: &Payload) -> Result {
    match payload {
        Payload::RunStart(s) => run_start(s),
        Payload::RunUpdate(u) => run_update(u),
        Payload::Config(c) => {
            count("payload.config", c.update.len() + c.remove.len())?;
            items("payload.config.update", &c.update, false)?;
            paths("payload.config.remove", &c.remove)
        }
        Payload::History(h) => {
            count("payload.history.items", h.items.len())?;
            items("payload.history.items", &h.items, true)
        }
        Payload::Summary(s) => {
            count("payload.summary", s.update.len() + s.remove.len())?;
            items("payload.summary.update", &s.update, true)?;
            paths("payload.summary.remove", &s.remove)
        }
        Payload::Metric(m) => metric(m),
        Payload::Output(o) => output(o),
        Payload::Files(f) => files(f),
        Payload::Stats(s) => {
            count("payload.stats.items", s.items.len())?;
            items("payload.stats.items", &s.items, false)
        }
        Payload::Alert(a) => alert(a),
        Payload::Exit(_) => Ok(()),
        Payload::Artifact(a) => crate::artifact::validate_artifact_log(a),
        Payload::UseArtifact(u) => crate::artifact::validate_artifact_use(u),
        Payload::Registry(op) => crate::artifact::validate_registry_op(op),
        Payload::Sweep(op) => crate::sweep::validate_sweep_op(op),
    }
}

/// Checks a record sent by a client: [`validate_record`], plus writer 0 and
/// crash marks are reserved for the daemon.
pub fn validate_client_record(rec: &v1::Record) -> Result {
    if rec.writer_id == 0 {
        return Err(bad("writer_id", "writer id 0 is reserved for the daemon"));
    }
    if rec.run_id == crate::artifact::REGISTRY_RUN_ID {
        return Err(bad(
            "run_id",
            format!("run id {:?} is reserved for the model registry", rec.run_id),
        ));
    }
    if rec.run_id == crate::sweep::SWEEPS_RUN_ID {
        return Err(bad(
            "run_id",
            format!("run id {:?} is reserved for sweeps", rec.run_id),
        ));
    }
    if let Some(p) = &rec.payload {
        daemon_only(p)?;
    }
    validate_record(rec)
}

/// A client's payload, checked without building a record around it (the
/// SDK checks every `log()` before enqueueing it).
pub fn validate_client_payload(payload: &Payload) -> Result {
    daemon_only(payload)?;
    validate_payload(payload)
}

/// Fields only the daemon may set.
fn daemon_only(payload: &Payload) -> Result {
    if let Payload::Sweep(_) = payload {
        return Err(bad(
            "payload.sweep",
            "sweep records are made by the daemon (the Sweeps service), not sent as records",
        ));
    }
    if let Payload::Registry(_) = payload {
        return Err(bad(
            "payload.registry",
            "registry changes are made by the daemon (Admin.Registry), not sent as records",
        ));
    }
    if let Payload::Exit(e) = payload
        && e.crashed
    {
        return Err(bad(
            "payload.exit.crashed",
            "only the daemon may mark a run crashed",
        ));
    }
    Ok(())
}

/// Checks a run id (also used for `fork_from.run_id`).
pub fn validate_run_id(field: &str, id: &str) -> Result {
    validate_file_name(field, "run id", id, MAX_RUN_ID_CHARS)
}

/// Checks a name that may become a file or directory name (run ids,
/// artifact and model names): 1 to `max_chars` characters from
/// `[A-Za-z0-9_.-]`, not starting with `.`.
pub fn validate_file_name(field: &str, what: &str, name: &str, max_chars: usize) -> Result {
    if name.is_empty() {
        return Err(bad(field, format!("{what} is empty")));
    }
    if name.chars().count() > max_chars {
        return Err(bad(
            field,
            format!("{what} is longer than {max_chars} characters"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(bad(
            field,
            format!("{what} {name:?} has the character {c:?}; allowed are A-Z a-z 0-9 _ . -"),
        ));
    }
    if name.starts_with('.') {
        return Err(bad(
            field,
            format!("{what} {name:?} must not start with '.'"),
        ));
    }
    Ok(())
}

/// Checks a project name.
pub fn validate_project(field: &str, project: &str) -> Result {
    if project.is_empty() {
        return Err(bad(field, "project is empty"));
    }
    if project.chars().count() > MAX_PROJECT_CHARS {
        return Err(bad(
            field,
            format!("project is longer than {MAX_PROJECT_CHARS} characters"),
        ));
    }
    if project == "." || project == ".." {
        return Err(bad(field, "project must not be \".\" or \"..\""));
    }
    if project.contains(['/', '\\']) {
        return Err(bad(field, "project must not contain '/' or '\\'"));
    }
    no_control(field, project)
}

fn no_control(field: &str, s: &str) -> Result {
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(bad(field, format!("contains the control character {c:?}"))),
        None => Ok(()),
    }
}

fn max_chars(field: &str, s: &str, max: usize) -> Result {
    if s.chars().count() > max {
        return Err(bad(field, format!("is longer than {max} characters")));
    }
    Ok(())
}

fn max_bytes(field: &str, s: &str, max: usize) -> Result {
    if s.len() > max {
        return Err(bad(field, format!("is longer than {max} bytes")));
    }
    Ok(())
}

/// A short single-line text: at most `max` characters, no control characters.
fn label(field: &str, s: &str, max: usize) -> Result {
    max_chars(field, s, max)?;
    no_control(field, s)
}

fn count(field: &str, n: usize) -> Result {
    if n > MAX_ITEMS_PER_RECORD {
        return Err(bad(
            field,
            format!("{n} entries; at most {MAX_ITEMS_PER_RECORD} per record"),
        ));
    }
    Ok(())
}

fn tags(field: &str, tags: &[String]) -> Result {
    if tags.len() > MAX_TAGS {
        return Err(bad(
            field,
            format!("{} tags; at most {MAX_TAGS}", tags.len()),
        ));
    }
    for (i, tag) in tags.iter().enumerate() {
        let f = format!("{field}[{i}]");
        if tag.is_empty() {
            return Err(bad(f, "tag is empty"));
        }
        label(&f, tag, MAX_TAG_CHARS)?;
    }
    Ok(())
}

fn enum_value<E: TryFrom<i32>>(field: &str, v: i32) -> Result {
    match E::try_from(v) {
        Ok(_) => Ok(()),
        Err(_) => Err(bad(field, format!("unknown enum value {v}"))),
    }
}

fn run_start(s: &v1::RunStart) -> Result {
    let f = |name: &str| format!("payload.run_start.{name}");
    validate_project(&f("project"), &s.project)?;
    label(&f("name"), &s.name, MAX_NAME_CHARS)?;
    label(&f("group"), &s.group, MAX_NAME_CHARS)?;
    label(&f("job_type"), &s.job_type, MAX_NAME_CHARS)?;
    tags(&f("tags"), &s.tags)?;
    max_bytes(&f("notes"), &s.notes, MAX_NOTES_BYTES)?;
    count(&f("config"), s.config.len())?;
    items(&f("config"), &s.config, false)?;
    if !s.sweep_id.is_empty() {
        validate_file_name(
            &f("sweep_id"),
            "sweep id",
            &s.sweep_id,
            crate::sweep::MAX_SWEEP_ID_CHARS,
        )?;
    }
    for (name, value) in [
        ("host", &s.host),
        ("program", &s.program),
        ("python", &s.python),
        ("user", &s.user),
    ] {
        max_bytes(&f(name), value, MAX_FIELD_BYTES)?;
        no_control(&f(name), value)?;
    }
    if s.args.len() > MAX_ARGS {
        return Err(bad(
            f("args"),
            format!("{} arguments; at most {MAX_ARGS}", s.args.len()),
        ));
    }
    for (i, arg) in s.args.iter().enumerate() {
        max_bytes(&f(&format!("args[{i}]")), arg, MAX_ARG_BYTES)?;
    }
    if let Some(g) = &s.git {
        for (name, value) in [
            ("git.commit", &g.commit),
            ("git.branch", &g.branch),
            ("git.remote", &g.remote),
        ] {
            max_bytes(&f(name), value, MAX_FIELD_BYTES)?;
            no_control(&f(name), value)?;
        }
    }
    enum_value::<v1::ResumeMode>(&f("resume"), s.resume)?;
    if let Some(fork) = &s.fork_from {
        validate_run_id(&f("fork_from.run_id"), &fork.run_id)?;
        if fork.step < 0 {
            return Err(bad(f("fork_from.step"), "fork step must not be negative"));
        }
    }
    Ok(())
}

fn run_update(u: &v1::RunUpdate) -> Result {
    for (name, value) in [
        ("payload.run_update.name", &u.name),
        ("payload.run_update.group", &u.group),
        ("payload.run_update.job_type", &u.job_type),
    ] {
        if let Some(v) = value {
            label(name, v, MAX_NAME_CHARS)?;
        }
    }
    if let Some(notes) = &u.notes {
        max_bytes("payload.run_update.notes", notes, MAX_NOTES_BYTES)?;
    }
    tags("payload.run_update.tags", &u.tags)
}

fn path(field: &str, path: &[String]) -> Result {
    let f = format!("{field}.path");
    if path.is_empty() {
        return Err(bad(f, "path is empty"));
    }
    if path.len() > MAX_PATH_DEPTH {
        return Err(bad(
            f,
            format!("path is {} deep; at most {MAX_PATH_DEPTH}", path.len()),
        ));
    }
    for (j, segment) in path.iter().enumerate() {
        let f = format!("{f}[{j}]");
        if segment.is_empty() {
            return Err(bad(f, "path segment is empty"));
        }
        max_bytes(&f, segment, MAX_SEGMENT_BYTES)?;
        no_control(&f, segment)?;
    }
    Ok(())
}

fn paths(field: &str, list: &[v1::Path]) -> Result {
    for (i, p) in list.iter().enumerate() {
        path(&format!("{field}[{i}]"), &p.path)?;
    }
    Ok(())
}

/// Checks items; with `reserved`, also the types of `_step`, `_runtime` and
/// `_timestamp`.
fn items(field: &str, list: &[v1::Item], reserved: bool) -> Result {
    for (i, item) in list.iter().enumerate() {
        if plainly_valid(item) {
            continue;
        }
        let field = format!("{field}[{i}]");
        path(&field, &item.path)?;
        let vf = format!("{field}.value");
        let Some(value) = &item.value else {
            return Err(bad(vf, "value is missing"));
        };
        value_ok(&vf, value)?;
        if reserved && let [key] = item.path.as_slice() {
            reserved_key(&vf, key, value)?;
        }
    }
    Ok(())
}

/// The common case, checked without building any field name: a non-reserved
/// path of short, non-empty, control-free segments and a small value. Accepts
/// only what the full checks in [`items`] accept; anything else goes through
/// them to get its precise error.
fn plainly_valid(item: &v1::Item) -> bool {
    use v1::value::Kind;
    let path_ok = !item.path.is_empty()
        && item.path.len() <= MAX_PATH_DEPTH
        && !item.path[0].starts_with('_')
        && item.path.iter().all(|s| {
            !s.is_empty()
                && s.len() <= MAX_SEGMENT_BYTES
                && s.bytes().all(|b| b >= 0x20 && b != 0x7f && b < 0x80)
        });
    path_ok
        && match item.value.as_ref().and_then(|v| v.kind.as_ref()) {
            Some(Kind::Float(_) | Kind::Int(_) | Kind::Bool(_)) => true,
            Some(Kind::Str(x) | Kind::Json(x)) => x.len() <= MAX_VALUE_BYTES,
            Some(Kind::Bytes(b)) => b.len() <= MAX_VALUE_BYTES,
            None => false,
        }
}

fn value_ok(field: &str, value: &v1::Value) -> Result {
    use v1::value::Kind;
    let len = match &value.kind {
        None => return Err(bad(field, "value has no kind set")),
        Some(Kind::Str(s) | Kind::Json(s)) => s.len(),
        Some(Kind::Bytes(b)) => b.len(),
        Some(Kind::Float(_) | Kind::Int(_) | Kind::Bool(_)) => 0,
    };
    if len > MAX_VALUE_BYTES {
        return Err(bad(
            field,
            format!("value is {len} bytes; at most {MAX_VALUE_BYTES}"),
        ));
    }
    Ok(())
}

fn reserved_key(field: &str, key: &str, value: &v1::Value) -> Result {
    use v1::value::Kind;
    match (key, &value.kind) {
        ("_step", Some(Kind::Int(_))) => Ok(()),
        ("_step", _) => Err(bad(field, "`_step` must be an int")),
        ("_runtime" | "_timestamp", Some(Kind::Int(_))) => Ok(()),
        ("_runtime" | "_timestamp", Some(Kind::Float(f))) if f.is_finite() => Ok(()),
        ("_runtime" | "_timestamp", _) => {
            Err(bad(field, format!("`{key}` must be a finite number")))
        }
        _ => Ok(()),
    }
}

/// A metric name or step metric: no `*`, and as a path (`.` nests, `\.` is a
/// literal dot) valid segments and depth.
fn metric_name(field: &str, name: &str) -> Result {
    max_bytes(field, name, MAX_METRIC_NAME_BYTES)?;
    no_control(field, name)?;
    if name.contains('*') {
        return Err(bad(
            field,
            "a name must not contain '*'; send a suffix glob as glob_name",
        ));
    }
    let parts = split_key_name(name);
    if parts.len() > MAX_PATH_DEPTH {
        return Err(bad(
            field,
            format!("name is {} deep; at most {MAX_PATH_DEPTH}", parts.len()),
        ));
    }
    for part in &parts {
        if part.is_empty() {
            return Err(bad(field, "name has an empty segment"));
        }
        if part.len() > MAX_SEGMENT_BYTES {
            return Err(bad(
                field,
                format!("name has a segment longer than {MAX_SEGMENT_BYTES} bytes"),
            ));
        }
    }
    Ok(())
}

fn metric(m: &v1::MetricDefinition) -> Result {
    match (m.name.is_empty(), m.glob_name.is_empty()) {
        (true, true) => {
            return Err(bad(
                "payload.metric.name",
                "exactly one of name and glob_name must be set; neither is",
            ));
        }
        (false, false) => {
            return Err(bad(
                "payload.metric.glob_name",
                "exactly one of name and glob_name must be set; both are",
            ));
        }
        (false, true) => metric_name("payload.metric.name", &m.name)?,
        (true, false) => {
            let f = "payload.metric.glob_name";
            max_bytes(f, &m.glob_name, MAX_METRIC_NAME_BYTES)?;
            no_control(f, &m.glob_name)?;
            let stars = m.glob_name.matches('*').count();
            if !m.glob_name.ends_with('*') || stars != 1 {
                return Err(bad(f, "only suffix globs are allowed: one '*', at the end"));
            }
        }
    }
    if !m.step_metric.is_empty() {
        metric_name("payload.metric.step_metric", &m.step_metric)?;
    }
    enum_value::<v1::Goal>("payload.metric.goal", m.goal)
}

fn output(o: &v1::ConsoleOutput) -> Result {
    enum_value::<v1::OutputStream>("payload.output.stream", o.stream)?;
    count("payload.output.lines", o.lines.len())?;
    for (i, line) in o.lines.iter().enumerate() {
        max_bytes(
            &format!("payload.output.lines[{i}]"),
            line,
            MAX_CONSOLE_LINE_BYTES,
        )?;
    }
    Ok(())
}

fn files(f: &v1::Files) -> Result {
    count("payload.files.files", f.files.len())?;
    for (i, file) in f.files.iter().enumerate() {
        if !file.digest.is_empty() {
            crate::artifact::validate_digest(
                &format!("payload.files.files[{i}].digest"),
                &file.digest,
            )?;
        }
        let pf = format!("payload.files.files[{i}].path");
        let p = &file.path;
        if p.is_empty() {
            return Err(bad(pf, "file path is empty"));
        }
        max_bytes(&pf, p, MAX_FILE_PATH_BYTES)?;
        no_control(&pf, p)?;
        let b = p.as_bytes();
        if p.starts_with(['/', '\\'])
            || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
        {
            return Err(bad(pf, "file path must be relative to the run directory"));
        }
        if p.split(['/', '\\']).any(|c| c == "..") {
            return Err(bad(pf, "file path must not contain '..'"));
        }
        enum_value::<v1::FilePolicy>(&format!("payload.files.files[{i}].policy"), file.policy)?;
    }
    Ok(())
}

fn alert(a: &v1::Alert) -> Result {
    label("payload.alert.title", &a.title, MAX_ALERT_TITLE_CHARS)?;
    max_bytes("payload.alert.text", &a.text, MAX_ALERT_TEXT_BYTES)?;
    enum_value::<v1::AlertLevel>("payload.alert.level", a.level)
}
