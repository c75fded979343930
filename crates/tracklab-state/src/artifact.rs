//! Artifact records: their validation, the manifest digest, and what a run
//! keeps of them (the store indexes the versions themselves).

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use tracklab_proto::v1;

use crate::validate::{InvalidRecord, MAX_FILE_PATH_BYTES};

/// Artifact, artifact type, registered model and alias names: 1 to this
/// many characters from `[A-Za-z0-9._-]`, not starting with `.`.
pub const MAX_ARTIFACT_NAME_CHARS: usize = 128;
/// Files per artifact version.
pub const MAX_MANIFEST_ENTRIES: usize = 100_000;
/// Aliases per log.
pub const MAX_ALIASES: usize = 32;
/// Description and metadata JSON: at most this many bytes each.
pub const MAX_ARTIFACT_TEXT_BYTES: usize = 256 * 1024;
/// Lineage roles ("base_model", "dataset", "final_checkpoint", ...).
pub const MAX_ROLE_CHARS: usize = 64;

type Result<T = ()> = std::result::Result<T, InvalidRecord>;

fn bad(field: impl Into<String>, reason: impl Into<String>) -> InvalidRecord {
    InvalidRecord {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Checks an artifact (or type, model, alias) name.
pub fn validate_name(field: &str, what: &str, name: &str) -> Result {
    crate::validate::validate_file_name(field, what, name, MAX_ARTIFACT_NAME_CHARS)
}

/// Checks a SHA-256 digest written as 64 lowercase hex digits.
pub fn validate_digest(field: &str, digest: &str) -> Result {
    if digest.len() != 64
        || !digest
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(bad(
            field,
            format!("{digest:?} is not a SHA-256 digest (64 lowercase hex digits)"),
        ));
    }
    Ok(())
}

/// Checks a path inside an artifact: relative, '/'-separated, no empty,
/// `.` or `..` segment, no backslash or control character.
pub fn validate_entry_path(field: &str, path: &str) -> Result {
    if path.is_empty() {
        return Err(bad(field, "path is empty"));
    }
    if path.len() > MAX_FILE_PATH_BYTES {
        return Err(bad(
            field,
            format!("path is longer than {MAX_FILE_PATH_BYTES} bytes"),
        ));
    }
    if path.chars().any(|c| c.is_control() || c == '\\') {
        return Err(bad(
            field,
            format!("path {path:?} has a control character or a backslash"),
        ));
    }
    if path.starts_with('/') {
        return Err(bad(field, format!("path {path:?} must be relative")));
    }
    if path
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(bad(
            field,
            format!("path {path:?} has an empty, '.' or '..' segment"),
        ));
    }
    Ok(())
}

fn role(field: &str, r: &str) -> Result {
    if r.is_empty() {
        return Ok(());
    }
    if r.chars().count() > MAX_ROLE_CHARS {
        return Err(bad(
            field,
            format!("role is longer than {MAX_ROLE_CHARS} characters"),
        ));
    }
    validate_name(field, "role", r)
}

fn text(field: &str, t: &str) -> Result {
    if t.len() > MAX_ARTIFACT_TEXT_BYTES {
        return Err(bad(
            field,
            format!("longer than {MAX_ARTIFACT_TEXT_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// The manifest digest of entries: SHA-256 over the entries sorted by path,
/// each as `<path>\0<digest>\0<ref>\n`, as lowercase hex.
pub fn manifest_digest<'a>(entries: impl IntoIterator<Item = &'a v1::ManifestEntry>) -> String {
    let mut sorted: Vec<&v1::ManifestEntry> = entries.into_iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = sha2::Sha256::new();
    for e in sorted {
        h.update(e.path.as_bytes());
        h.update([0]);
        h.update(e.digest.as_bytes());
        h.update([0]);
        h.update(e.r#ref.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// Checks `payload.artifact`.
pub fn validate_artifact_log(a: &v1::ArtifactLog) -> Result {
    const F: &str = "payload.artifact";
    validate_name(&format!("{F}.name"), "artifact name", &a.name)?;
    validate_name(&format!("{F}.type"), "artifact type", &a.r#type)?;
    text(&format!("{F}.description"), &a.description)?;
    text(&format!("{F}.metadata_json"), &a.metadata_json)?;
    if !a.metadata_json.is_empty()
        && !serde_json::from_str::<serde_json::Value>(&a.metadata_json).is_ok_and(|v| v.is_object())
    {
        return Err(bad(
            format!("{F}.metadata_json"),
            "metadata must be a JSON object",
        ));
    }
    if a.aliases.len() > MAX_ALIASES {
        return Err(bad(
            format!("{F}.aliases"),
            format!("more than {MAX_ALIASES} aliases"),
        ));
    }
    for (i, alias) in a.aliases.iter().enumerate() {
        let f = format!("{F}.aliases[{i}]");
        validate_name(&f, "alias", alias)?;
        if alias == "latest" {
            return Err(bad(
                f,
                "\"latest\" is given to the newest version automatically and cannot be claimed",
            ));
        }
        if is_version_name(alias) {
            return Err(bad(
                f,
                format!("alias {alias:?} looks like a version number (v0, v1, ...)"),
            ));
        }
    }
    if a.entries.len() > MAX_MANIFEST_ENTRIES {
        return Err(bad(
            format!("{F}.entries"),
            format!("more than {MAX_MANIFEST_ENTRIES} files"),
        ));
    }
    let mut paths = std::collections::HashSet::new();
    for (i, e) in a.entries.iter().enumerate() {
        let f = format!("{F}.entries[{i}]");
        validate_entry_path(&format!("{f}.path"), &e.path)?;
        if !paths.insert(e.path.as_str()) {
            return Err(bad(
                format!("{f}.path"),
                format!("path {:?} appears twice", e.path),
            ));
        }
        if e.r#ref.is_empty() || !e.digest.is_empty() {
            validate_digest(&format!("{f}.digest"), &e.digest)?;
        }
        if e.r#ref.len() > MAX_FILE_PATH_BYTES {
            return Err(bad(format!("{f}.ref"), "reference URI is too long"));
        }
    }
    validate_digest(&format!("{F}.digest"), &a.digest)?;
    let want = manifest_digest(&a.entries);
    if a.digest != want {
        return Err(bad(
            format!("{F}.digest"),
            format!(
                "is {}, but the entries' manifest digest is {want}",
                a.digest
            ),
        ));
    }
    role(&format!("{F}.role"), &a.role)
}

/// Checks `payload.use_artifact`.
pub fn validate_artifact_use(u: &v1::ArtifactUse) -> Result {
    const F: &str = "payload.use_artifact";
    crate::validate::validate_project(&format!("{F}.project"), &u.project)?;
    validate_name(&format!("{F}.name"), "artifact name", &u.name)?;
    validate_digest(&format!("{F}.digest"), &u.digest)?;
    role(&format!("{F}.role"), &u.role)
}

/// `v0`, `v12`, ...
pub fn is_version_name(s: &str) -> bool {
    s.strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// An artifact version a run logged or used, as the run's state keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactLink {
    pub project: String,
    pub name: String,
    pub digest: String,
    pub role: String,
}

/// The run id of the daemon's model-registry log. Clients may not use it.
pub const REGISTRY_RUN_ID: &str = "_registry";

/// Checks `payload.registry` (written by the daemon).
pub fn validate_registry_op(op: &v1::RegistryOp) -> Result {
    const F: &str = "payload.registry";
    if let Some(v1::registry_op::Op::DeleteArtifact(d)) = &op.op {
        crate::validate::validate_project(&format!("{F}.delete_artifact.project"), &d.project)?;
        validate_name(
            &format!("{F}.delete_artifact.name"),
            "artifact name",
            &d.name,
        )?;
        return validate_digest(&format!("{F}.delete_artifact.digest"), &d.digest);
    }
    validate_name(&format!("{F}.model"), "model name", &op.model)?;
    text(&format!("{F}.reason"), &op.reason)?;
    text(&format!("{F}.user"), &op.user)?;
    match &op.op {
        None => Err(bad(format!("{F}.op"), "no registry operation is set")),
        Some(v1::registry_op::Op::Register(r)) => {
            if r.version == 0 {
                return Err(bad(
                    format!("{F}.register.version"),
                    "model versions start at 1",
                ));
            }
            crate::validate::validate_project(
                &format!("{F}.register.artifact_project"),
                &r.artifact_project,
            )?;
            validate_name(
                &format!("{F}.register.artifact_name"),
                "artifact name",
                &r.artifact_name,
            )?;
            validate_digest(&format!("{F}.register.artifact_digest"), &r.artifact_digest)?;
            if !r.source_run.is_empty() {
                crate::validate::validate_run_id(
                    &format!("{F}.register.source_run"),
                    &r.source_run,
                )?;
            }
            Ok(())
        }
        Some(v1::registry_op::Op::Transition(t)) => {
            if t.version == 0 {
                return Err(bad(
                    format!("{F}.transition.version"),
                    "model versions start at 1",
                ));
            }
            if v1::ModelStage::try_from(t.stage).is_err() {
                return Err(bad(
                    format!("{F}.transition.stage"),
                    format!("unknown stage {}", t.stage),
                ));
            }
            Ok(())
        }
        Some(v1::registry_op::Op::DeleteArtifact(_)) => Ok(()),
        Some(v1::registry_op::Op::Alias(a)) => {
            if a.version == 0 && !a.remove {
                return Err(bad(
                    format!("{F}.alias.version"),
                    "model versions start at 1",
                ));
            }
            validate_name(&format!("{F}.alias.alias"), "alias", &a.alias)?;
            if a.alias == "latest" || is_version_name(&a.alias) {
                return Err(bad(
                    format!("{F}.alias.alias"),
                    format!("{:?} is reserved (latest and version numbers)", a.alias),
                ));
            }
            Ok(())
        }
    }
}
