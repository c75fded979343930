//! The Admin service: status, flush, shutdown, rebuild.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tonic::{Request, Response, Status};
use tracklab_proto::v1::admin_server::Admin;
use tracklab_proto::v1::{
    FlushRequest, FlushResponse, RebuildRequest, RebuildResponse, ShutdownRequest,
    ShutdownResponse, StatusRequest, StatusResponse,
};

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
}
