//! The Admin service: status, flush, shutdown, rebuild.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tonic::{Request, Response, Status};
use tracklab_proto::v1::admin_server::Admin;
use tracklab_proto::v1::record::Payload;
use tracklab_proto::v1::{
    ArtifactVersion, EditRunRequest, FlushRequest, FlushResponse, GcRequest, GcResponse,
    GetArtifactRequest, ModelInfo, RebuildRequest, RebuildResponse, RegistryRequest, RunExit,
    RunInfo, RunState, ShutdownRequest, ShutdownResponse, StatusRequest, StatusResponse,
};
use tracklab_state::validate::validate_record;

use crate::core::Core;

pub struct AdminService {
    pub core: Arc<Core>,
}

/// Bytes of every run log in the data dir.
fn log_bytes(core: &Core) -> u64 {
    core.data
        .run_ids()
        .unwrap_or_default()
        .iter()
        .filter_map(|id| std::fs::metadata(core.data.run_log(id)).ok())
        .map(|m| m.len())
        .sum()
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn status(&self, _: Request<StatusRequest>) -> Result<Response<StatusResponse>, Status> {
        let core = self.core.clone();
        let bytes = tokio::task::spawn_blocking(move || log_bytes(&core))
            .await
            .unwrap_or(0);
        let last_error = self.core.last_error();
        Ok(Response::new(StatusResponse {
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
            data_dir: self.core.data.root().display().to_string(),
            uptime_ms: self.core.started.elapsed().as_millis() as u64,
            runs: self
                .core
                .all_runs()
                .iter()
                .filter(|r| r.state.started())
                .count() as u64,
            log_bytes: bytes,
            durable_position: self.core.durable_position.load(Ordering::SeqCst),
            applied_position: *self.core.applied.borrow(),
            healthy: last_error.is_none(),
            last_error: last_error.unwrap_or_default(),
            address: self.core.address.clone(),
            problems: self.core.problems(),
            pending_records: self.core.backlog.pending() as u64,
        }))
    }

    async fn flush(&self, _: Request<FlushRequest>) -> Result<Response<FlushResponse>, Status> {
        let applied_position = self.core.wait_applied().await?;
        Ok(Response::new(FlushResponse { applied_position }))
    }

    async fn shutdown(
        &self,
        _: Request<ShutdownRequest>,
    ) -> Result<Response<ShutdownResponse>, Status> {
        tracing::info!("shutdown requested over Admin");
        self.core.shutdown.notify_one();
        Ok(Response::new(ShutdownResponse {}))
    }

    async fn rebuild(
        &self,
        _: Request<RebuildRequest>,
    ) -> Result<Response<RebuildResponse>, Status> {
        let r = self.core.rebuild().await?;
        Ok(Response::new(RebuildResponse {
            runs: r.runs,
            records: r.records,
            history_points: r.history_points,
            elapsed_ms: r.elapsed_ms,
            problems: r.problems,
        }))
    }

    async fn edit_run(
        &self,
        request: Request<EditRunRequest>,
    ) -> Result<Response<RunInfo>, Status> {
        edit_run(&self.core, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn gc(&self, request: Request<GcRequest>) -> Result<Response<GcResponse>, Status> {
        crate::gc::gc(&self.core, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn registry(
        &self,
        request: Request<RegistryRequest>,
    ) -> Result<Response<ModelInfo>, Status> {
        let op = request
            .into_inner()
            .op
            .ok_or_else(|| Status::invalid_argument("field `op`: no registry change given"))?;
        crate::registry::change(&self.core, op)
            .await
            .map(Response::new)
    }

    async fn delete_artifact(
        &self,
        request: Request<GetArtifactRequest>,
    ) -> Result<Response<ArtifactVersion>, Status> {
        crate::registry::delete_artifact(&self.core, request.into_inner())
            .await
            .map(Response::new)
    }
}

/// Applies an edit (Admin.EditRun, the dashboard's PATCH): the daemon's own
/// records in the run's log, then the run as it is after them.
pub async fn edit_run(core: &Core, req: EditRunRequest) -> Result<RunInfo, Status> {
    let payloads = edit_payloads(&req)?;
    core.wait_applied().await?;
    let known = core.run(&req.run_id).is_some_and(|r| r.state.started());
    if !known {
        return Err(Status::not_found(format!(
            "run {:?} does not exist; `tracklab ls` shows the runs there are",
            req.run_id
        )));
    }
    if req.state != RunState::Unspecified as i32 && !req.force && core.has_stream(&req.run_id) {
        return Err(Status::failed_precondition(format!(
            "run {} is still being logged (a client is connected to it); stop its script first, or pass --force (its later records are then kept but ignored)",
            req.run_id
        )));
    }
    if !payloads.is_empty() {
        core.append(&req.run_id, payloads).await?;
        core.wait_applied().await?;
    }
    let run = core
        .run(&req.run_id)
        .ok_or_else(|| Status::not_found(format!("run {:?} was removed", req.run_id)))?;
    Ok(crate::query::info(&run))
}

/// The daemon's records for an edit, checked like any client's.
fn edit_payloads(req: &EditRunRequest) -> Result<Vec<Payload>, Status> {
    let mut payloads = Vec::new();
    if let Some(u) = &req.update {
        let changes = u.name.is_some()
            || u.group.is_some()
            || u.job_type.is_some()
            || u.notes.is_some()
            || u.set_tags
            || u.deleted.is_some();
        if changes {
            payloads.push(Payload::RunUpdate(u.clone()));
        }
    }
    let exit = |exit_code, crashed| Payload::Exit(RunExit { exit_code, crashed });
    match RunState::try_from(req.state) {
        Ok(RunState::Unspecified) => {}
        Ok(RunState::Finished) => payloads.push(exit(0, false)),
        Ok(RunState::Failed) => payloads.push(exit(1, false)),
        Ok(RunState::Crashed) => payloads.push(exit(-1, true)),
        Ok(RunState::Running) => {
            return Err(Status::invalid_argument(
                "field `state`: a run cannot be set running; resume it from its script instead",
            ));
        }
        Err(_) => {
            return Err(Status::invalid_argument(format!(
                "field `state`: unknown run state {}",
                req.state
            )));
        }
    }
    for p in &payloads {
        let rec = tracklab_proto::v1::Record {
            run_id: req.run_id.clone(),
            writer_id: 0,
            seq: 1,
            timestamp_us: 1,
            payload: Some(p.clone()),
        };
        validate_record(&rec).map_err(|e| Status::invalid_argument(e.to_string()))?;
    }
    Ok(payloads)
}
