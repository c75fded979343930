//! Artifact versions and registered models as JSON (`tracklab artifacts
//! show --json`, `tracklab models show --json`, the dashboard's API).

use serde_json::{Value as Json, json};
use tracklab_proto::v1::{ArtifactVersion, ModelInfo};
use tracklab_state::registry::stage_name;

use crate::fmt::format_time_us;

pub fn artifact_json(v: &ArtifactVersion) -> Json {
    json!({
        "project": v.project,
        "name": v.name,
        "version": format!("v{}", v.version),
        "type": v.r#type,
        "digest": v.digest,
        "aliases": v.aliases,
        "description": v.description,
        "metadata": serde_json::from_str::<Json>(&v.metadata_json).unwrap_or(Json::Null),
        "size": v.size,
        "files": v.entries.iter().map(|e| json!({
            "path": e.path,
            "digest": e.digest,
            "size": e.size,
            "ref": if e.r#ref.is_empty() { Json::Null } else { Json::from(e.r#ref.clone()) },
        })).collect::<Vec<_>>(),
        "created_by": v.created_by,
        "created_us": v.created_us,
        "created_at": format_time_us(v.created_us),
        "role": v.role,
        "logged_by": v.logged_by,
        "used_by": v.used_by.iter()
            .map(|u| json!({"run_id": u.run_id, "role": u.role}))
            .collect::<Vec<_>>(),
    })
}

/// The short reference to a version used in lineage documents.
pub fn artifact_ref(v: Option<&ArtifactVersion>) -> Json {
    match v {
        None => Json::Null,
        Some(v) => json!({
            "project": v.project,
            "name": v.name,
            "version": format!("v{}", v.version),
            "type": v.r#type,
            "digest": v.digest,
            "aliases": v.aliases,
        }),
    }
}

pub fn model_json(m: &ModelInfo) -> Json {
    json!({
        "name": m.name,
        "created_us": m.created_us,
        "versions": m.versions.iter().map(|v| json!({
            "version": v.version,
            "stage": stage_name(v.stage),
            "aliases": v.aliases,
            "artifact": {
                "project": v.artifact_project,
                "name": v.artifact_name,
                "digest": v.artifact_digest,
            },
            "source_run": v.source_run,
            "created_us": v.created_us,
            "user": v.user,
            "reason": v.reason,
            "transitions": v.transitions.iter().map(|t| json!({
                "from": stage_name(t.from),
                "to": stage_name(t.to),
                "timestamp_us": t.timestamp_us,
                "user": t.user,
                "reason": t.reason,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
