//! Queries over artifacts and registered models (the Query service's
//! GetArtifact, ListArtifacts, RunArtifacts and ListModels), as protocol
//! messages. Store reads run on blocking threads.

use std::sync::Arc;

use tonic::Status;
use tracklab_proto::v1::{
    self, ArtifactConsumer, ArtifactVersion, GetArtifactRequest, ListArtifactsRequest,
    ListArtifactsResponse, ListModelsRequest, ListModelsResponse, ManifestEntry, ModelInfo,
    ModelVersionInfo, RunArtifactsResponse, RunInfo, StageChange,
};
use tracklab_state::registry::{Model, Registry};
use tracklab_store::artifacts::ArtifactVersion as StoredVersion;
use tracklab_view::lineage::LineageSource;

use crate::core::Core;

fn store_status(e: tracklab_store::StoreError) -> Status {
    Status::internal(e.to_string())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(format!("query task failed: {e}")))?
}

pub fn version_message(v: StoredVersion) -> v1::ArtifactVersion {
    let size = v.size();
    v1::ArtifactVersion {
        project: v.project,
        name: v.name,
        r#type: v.r#type,
        version: v.version,
        digest: v.digest,
        description: v.description,
        metadata_json: v.metadata_json,
        aliases: v.aliases,
        entries: v
            .entries
            .into_iter()
            .map(|e| ManifestEntry {
                path: e.path,
                digest: e.digest,
                size: e.size,
                r#ref: e.r#ref,
            })
            .collect(),
        size,
        created_by: v.created_by,
        created_us: v.created_us,
        role: v.role,
        logged_by: v.logged_by,
        used_by: v
            .used_by
            .into_iter()
            .map(|(run_id, role)| ArtifactConsumer { run_id, role })
            .collect(),
    }
}

/// One artifact version (blocking: call it off the executor).
pub fn artifact(core: &Core, req: &GetArtifactRequest) -> Result<v1::ArtifactVersion, Status> {
    let versions = core
        .store
        .artifact_versions(&req.project, &req.name)
        .map_err(store_status)?;
    if versions.is_empty() {
        return Err(Status::not_found(format!(
            "artifact {:?} does not exist in project {:?}; `tracklab artifacts ls {}` lists the artifacts there are",
            req.name, req.project, req.project
        )));
    }
    let found = tracklab_store::artifacts::pick_version(&versions, &req.version).cloned();
    found.map(version_message).ok_or_else(|| {
        let known: Vec<String> = versions
            .iter()
            .map(|v| {
                let mut s = format!("v{}", v.version);
                if !v.aliases.is_empty() {
                    s.push_str(&format!(" ({})", v.aliases.join(", ")));
                }
                s
            })
            .collect();
        Status::not_found(format!(
            "artifact {}/{} has no version or alias {:?}; it has {}",
            req.project,
            req.name,
            req.version,
            known.join(", ")
        ))
    })
}

pub async fn get_artifact(
    core: &Arc<Core>,
    req: GetArtifactRequest,
) -> Result<v1::ArtifactVersion, Status> {
    core.wait_applied().await?;
    let core = core.clone();
    blocking(move || artifact(&core, &req)).await
}

/// Artifact versions (blocking).
pub fn artifacts(core: &Core, req: &ListArtifactsRequest) -> Result<ListArtifactsResponse, Status> {
    let mut out = Vec::new();
    if req.name.is_empty() {
        for name in core
            .store
            .artifact_names(&req.project)
            .map_err(store_status)?
        {
            let versions = core
                .store
                .artifact_versions(&req.project, &name)
                .map_err(store_status)?;
            if let Some(latest) = versions.into_iter().next_back() {
                out.push(latest);
            }
        }
    } else {
        out = core
            .store
            .artifact_versions(&req.project, &req.name)
            .map_err(store_status)?;
    }
    let versions = out
        .into_iter()
        .filter(|v| req.r#type.is_empty() || v.r#type == req.r#type)
        .map(version_message)
        .collect();
    Ok(ListArtifactsResponse { versions })
}

pub async fn list_artifacts(
    core: &Arc<Core>,
    req: ListArtifactsRequest,
) -> Result<ListArtifactsResponse, Status> {
    core.wait_applied().await?;
    let core = core.clone();
    blocking(move || artifacts(&core, &req)).await
}

/// A run's outputs and inputs (blocking).
pub fn run_artifacts_of(core: &Core, run_id: &str) -> Result<RunArtifactsResponse, Status> {
    let run = core
        .run(run_id)
        .filter(|r| r.state.started())
        .ok_or_else(|| Status::not_found(format!("run {run_id:?} does not exist")))?;
    let mut resp = RunArtifactsResponse::default();
    for link in run.state.logged_artifacts() {
        if let Some(v) = core.store.linked_version(link).map_err(store_status)? {
            resp.logged.push(version_message(v));
        }
    }
    for link in run.state.used_artifacts() {
        if let Some(v) = core.store.linked_version(link).map_err(store_status)? {
            resp.used.push(version_message(v));
            resp.used_roles.push(link.role.clone());
        }
    }
    Ok(resp)
}

pub async fn run_artifacts(
    core: &Arc<Core>,
    run_id: String,
) -> Result<RunArtifactsResponse, Status> {
    core.wait_applied().await?;
    let core = core.clone();
    blocking(move || run_artifacts_of(&core, &run_id)).await
}

pub fn model_message(name: &str, m: &Model) -> ModelInfo {
    ModelInfo {
        name: name.to_string(),
        created_us: m.created_us,
        versions: m
            .versions
            .iter()
            .map(|(n, v)| ModelVersionInfo {
                version: *n,
                stage: v.stage,
                artifact_project: v.artifact_project.clone(),
                artifact_name: v.artifact_name.clone(),
                artifact_digest: v.artifact_digest.clone(),
                source_run: v.source_run.clone(),
                created_us: v.created_us,
                user: v.user.clone(),
                reason: v.reason.clone(),
                transitions: v
                    .transitions
                    .iter()
                    .map(|t| StageChange {
                        from: t.from,
                        to: t.to,
                        timestamp_us: t.timestamp_us,
                        user: t.user.clone(),
                        reason: t.reason.clone(),
                    })
                    .collect(),
                aliases: m
                    .aliases
                    .iter()
                    .filter(|(_, v)| *v == n)
                    .map(|(a, _)| a.clone())
                    .collect(),
            })
            .collect(),
    }
}

pub async fn registry(core: &Core) -> Result<Registry, Status> {
    core.wait_applied().await?;
    let store = core.store.clone();
    blocking(move || store.registry().map_err(store_status)).await
}

/// Registered models, one by name or all (blocking).
pub fn models(core: &Core, name: &str) -> Result<Vec<ModelInfo>, Status> {
    let reg = core.store.registry().map_err(store_status)?;
    if !name.is_empty() && !reg.models.contains_key(name) {
        return Err(Status::not_found(format!(
            "no registered model {name:?}; `tracklab models ls` lists them"
        )));
    }
    Ok(reg
        .models
        .iter()
        .filter(|(n, _)| name.is_empty() || n.as_str() == name)
        .map(|(n, m)| model_message(n, m))
        .collect())
}

pub async fn list_models(
    core: &Arc<Core>,
    req: ListModelsRequest,
) -> Result<ListModelsResponse, Status> {
    core.wait_applied().await?;
    let core = core.clone();
    let models = blocking(move || models(&core, &req.name)).await?;
    Ok(ListModelsResponse { models })
}

/// The daemon's own state as a lineage source (blocking).
pub struct CoreLineage<'a>(pub &'a Core);

impl LineageSource for CoreLineage<'_> {
    fn run(&mut self, run_id: &str) -> Result<RunInfo, String> {
        self.0
            .run(run_id)
            .filter(|r| r.state.started())
            .map(|r| crate::query::info(&r))
            .ok_or_else(|| format!("run {run_id:?} does not exist"))
    }

    fn find_run(&mut self, name: &str) -> Result<RunInfo, String> {
        self.run(name)
    }

    fn run_artifacts(&mut self, run_id: &str) -> Result<RunArtifactsResponse, String> {
        run_artifacts_of(self.0, run_id).map_err(|s| s.message().to_string())
    }

    fn model(&mut self, name: &str) -> Result<ModelInfo, String> {
        models(self.0, name)
            .map_err(|s| s.message().to_string())?
            .into_iter()
            .next()
            .ok_or_else(|| format!("no registered model {name:?}"))
    }

    fn artifact(
        &mut self,
        project: &str,
        name: &str,
        version: &str,
    ) -> Result<ArtifactVersion, String> {
        let req = GetArtifactRequest {
            project: project.to_string(),
            name: name.to_string(),
            version: version.to_string(),
        };
        artifact(self.0, &req).map_err(|s| s.message().to_string())
    }
}
