//! Admin.Registry: changes to the model registry, appended by the daemon
//! to its registry log (run id `_registry`, writer 0). The log is created,
//! started and ended on first use (so liveness never marks it crashed);
//! registry records apply after the end like metadata edits do.

use std::sync::Arc;

use tonic::Status;
use tracklab_proto::v1::record::Payload;
use tracklab_proto::v1::{self, ModelInfo, RegistryOp, registry_op::Op};
use tracklab_state::artifact::{REGISTRY_RUN_ID, validate_registry_op};

use crate::catalog::{model_message, registry};
use crate::core::{Core, now_us};

/// A daemon log's first two records (start and end, writer 0, seq 1-2):
/// idempotent, so sending them again is a duplicate.
pub async fn ensure_daemon_log(core: &Arc<Core>, run_id: &str, name: &str) -> Result<(), Status> {
    if core.run(run_id).is_some_and(|r| r.state.exited()) {
        return Ok(());
    }
    let ts = now_us();
    let rec = |seq, payload| v1::Record {
        run_id: run_id.to_string(),
        writer_id: 0,
        seq,
        timestamp_us: ts,
        payload: Some(payload),
    };
    let records = vec![
        rec(
            1,
            Payload::RunStart(v1::RunStart {
                project: run_id.to_string(),
                name: name.to_string(),
                ..Default::default()
            }),
        ),
        rec(
            2,
            Payload::Exit(v1::RunExit {
                exit_code: 0,
                crashed: false,
            }),
        ),
    ];
    core.write(records)?
        .await
        .map_err(|_| {
            Status::unavailable(format!(
                "the daemon stopped before its {name} log was created"
            ))
        })?
        .map_err(Status::from)?;
    Ok(())
}

/// Checks and appends one registry change; returns the model after it.
pub async fn change(core: &Arc<Core>, mut op: RegistryOp) -> Result<ModelInfo, Status> {
    let _one_at_a_time = core.registry_lock.lock().await;
    let reg = registry(core).await?;
    let model = op.model.clone();
    let known = reg.models.get(&model);
    match op.op.as_mut() {
        Some(Op::DeleteArtifact(_)) => {
            return Err(Status::invalid_argument(
                "field `op.op`: delete artifact versions with Admin.DeleteArtifact",
            ));
        }
        None => {
            return Err(Status::invalid_argument(
                "field `op.op`: no registry operation is set",
            ));
        }
        Some(Op::Register(r)) => {
            let version = core
                .store
                .artifact_version(&r.artifact_project, &r.artifact_name, &r.artifact_digest)
                .map_err(|e| Status::internal(e.to_string()))?;
            let Some(version) = version else {
                return Err(Status::not_found(format!(
                    "artifact {}/{} has no version {}; log the artifact before registering it",
                    r.artifact_project, r.artifact_name, r.artifact_digest
                )));
            };
            // The selector may be an alias or "v3": record the digest.
            r.artifact_digest = version.digest.clone();
            if r.source_run.is_empty() {
                r.source_run = version.created_by.clone();
            }
            r.version = reg.next_version(&model);
        }
        Some(Op::Transition(t)) => {
            let exists = known.is_some_and(|m| m.versions.contains_key(&t.version));
            if !exists {
                return Err(no_version(&model, t.version, known.is_some()));
            }
        }
        Some(Op::Alias(a)) => {
            let exists = known.is_some_and(|m| m.versions.contains_key(&a.version));
            if !a.remove && !exists {
                return Err(no_version(&model, a.version, known.is_some()));
            }
            if a.remove && !known.is_some_and(|m| m.aliases.contains_key(&a.alias)) {
                return Err(Status::not_found(format!(
                    "model {model:?} has no alias {:?}",
                    a.alias
                )));
            }
        }
    }
    validate_registry_op(&op).map_err(|e| Status::invalid_argument(e.to_string()))?;
    ensure_daemon_log(core, REGISTRY_RUN_ID, "model registry").await?;
    core.append(REGISTRY_RUN_ID, vec![Payload::Registry(op)])
        .await?;
    let reg = registry(core).await?;
    reg.models
        .get(&model)
        .map(|m| model_message(&model, m))
        .ok_or_else(|| Status::internal(format!("model {model:?} is missing after the change")))
}

/// Admin.DeleteArtifact: one version, refused while a model points at it.
pub async fn delete_artifact(
    core: &Arc<Core>,
    req: v1::GetArtifactRequest,
) -> Result<v1::ArtifactVersion, Status> {
    let _one_at_a_time = core.registry_lock.lock().await;
    let v = crate::catalog::get_artifact(core, req).await?;
    let reg = registry(core).await?;
    for (model, m) in &reg.models {
        for (n, mv) in &m.versions {
            if mv.artifact_project == v.project
                && mv.artifact_name == v.name
                && mv.artifact_digest == v.digest
            {
                return Err(Status::failed_precondition(format!(
                    "artifact {}/{}:v{} is model {model} v{n}; it stays while the registry points at it (archive the model version instead)",
                    v.project, v.name, v.version
                )));
            }
        }
    }
    let op = RegistryOp {
        model: String::new(),
        user: String::new(),
        reason: String::new(),
        op: Some(Op::DeleteArtifact(v1::DeleteArtifact {
            project: v.project.clone(),
            name: v.name.clone(),
            digest: v.digest.clone(),
        })),
    };
    validate_registry_op(&op).map_err(|e| Status::invalid_argument(e.to_string()))?;
    ensure_daemon_log(core, REGISTRY_RUN_ID, "model registry").await?;
    core.append(REGISTRY_RUN_ID, vec![Payload::Registry(op)])
        .await?;
    core.wait_applied().await?;
    Ok(v)
}

fn no_version(model: &str, version: u32, model_exists: bool) -> Status {
    if model_exists {
        Status::not_found(format!("model {model:?} has no version {version}"))
    } else {
        Status::not_found(format!(
            "no registered model {model:?}; register a version first (tracklab.register_model)"
        ))
    }
}
