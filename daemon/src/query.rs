//! The Query service: runs, run details, history, summary, config, console.
//! Every call first waits until everything acknowledged before it is applied
//! (read-your-writes).

use std::cmp::Ordering as CmpOrdering;
use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracklab_proto::v1::query_server::Query;
use tracklab_proto::v1::{
    ArtifactVersion, ConsoleLine, ConsoleRequest, ConsoleResponse, Filter, FilterOp,
    GetArtifactRequest, GetRunRequest, HistoryRequest, HistoryResponse, Item, ItemsResponse,
    ListArtifactsRequest, ListArtifactsResponse, ListModelsRequest, ListModelsResponse,
    ListRunsRequest, ListRunsResponse, RunArtifactsResponse, RunInfo, RunState, Series,
};
use tracklab_state::{Value, split_key_name};
use tracklab_store::history::HistoryQuery;
use tracklab_store::{Namespace, StoredRun};

use crate::core::Core;

/// History keys with this prefix name system-stats series.
pub const SYSTEM_PREFIX: &str = "system/";
/// Most console lines returned by one call.
const MAX_CONSOLE_LINES: u32 = 10_000;

pub struct QueryService {
    pub core: Arc<Core>,
}

fn store_status(e: tracklab_store::StoreError) -> Status {
    Status::internal(e.to_string())
}

impl QueryService {
    async fn find(&self, run_id: &str) -> Result<Arc<StoredRun>, Status> {
        self.core.wait_applied().await?;
        self.core
            .run(run_id)
            .filter(|r| r.state.started())
            .ok_or_else(|| {
                Status::not_found(format!(
                    "run {run_id:?} does not exist; `ListRuns` shows the runs there are"
                ))
            })
    }
}

fn lookup(items: &[Item], path: &[String]) -> Option<Value> {
    items
        .iter()
        .find(|it| it.path == path)
        .and_then(|it| it.value.as_ref())
        .map(Value::from)
}

fn compare(a: &Value, b: &Value) -> Option<CmpOrdering> {
    match (a.as_number(), b.as_number()) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ => match (a, b) {
            (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
            (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
            _ => None,
        },
    }
}

fn matches(info: &RunInfo, f: &Filter) -> Result<bool, Status> {
    let (items, rest) = if let Some(rest) = f.field.strip_prefix("config.") {
        (&info.config, rest)
    } else if let Some(rest) = f.field.strip_prefix("summary.") {
        (&info.summary, rest)
    } else {
        return Err(Status::invalid_argument(format!(
            "filter field {:?} must start with \"config.\" or \"summary.\"",
            f.field
        )));
    };
    let want =
        f.value.as_ref().map(Value::from).ok_or_else(|| {
            Status::invalid_argument(format!("filter on {:?} has no value", f.field))
        })?;
    let op = FilterOp::try_from(f.op).map_err(|_| {
        Status::invalid_argument(format!("filter on {:?}: unknown op {}", f.field, f.op))
    })?;
    let Some(have) = lookup(items, &split_key_name(rest)) else {
        return Ok(op == FilterOp::Ne);
    };
    let ord = compare(&have, &want);
    Ok(match op {
        FilterOp::Eq => ord == Some(CmpOrdering::Equal) || have == want,
        FilterOp::Ne => ord != Some(CmpOrdering::Equal) && have != want,
        FilterOp::Gt => ord == Some(CmpOrdering::Greater),
        FilterOp::Ge => matches!(ord, Some(CmpOrdering::Greater | CmpOrdering::Equal)),
        FilterOp::Lt => ord == Some(CmpOrdering::Less),
        FilterOp::Le => matches!(ord, Some(CmpOrdering::Less | CmpOrdering::Equal)),
    })
}

/// Reads the series a history request asks for (`system/` keys from the
/// system-stats namespace). Blocking: call it off the executor.
pub fn read_history(core: &Core, req: &HistoryRequest) -> Result<Vec<Series>, Status> {
    let (sys, hist): (Vec<String>, Vec<String>) = req
        .keys
        .iter()
        .cloned()
        .partition(|k| k.starts_with(SYSTEM_PREFIX));
    let mut out = Vec::new();
    let mut read = |ns: Namespace, keys: Vec<String>, prefix: &str| -> Result<(), Status> {
        let q = HistoryQuery {
            run_id: &req.run_id,
            keys: &keys,
            min_step: req.min_step,
            max_step: req.max_step,
            max_points: req.max_points as usize,
        };
        for s in core.store.history(ns, &q).map_err(store_status)? {
            out.push(Series {
                key: format!("{prefix}{}", s.key),
                steps: s.steps,
                values: s.values.into_iter().map(Into::into).collect(),
                total_points: s.total_points,
                ..Default::default()
            });
        }
        Ok(())
    };
    if !hist.is_empty() || req.keys.is_empty() {
        read(Namespace::History, hist, "")?;
    }
    if !sys.is_empty() {
        // "system/*": every system series (an empty key list).
        let keys = if sys.iter().any(|k| k[SYSTEM_PREFIX.len()..] == *"*") {
            Vec::new()
        } else {
            sys.iter()
                .map(|k| k[SYSTEM_PREFIX.len()..].to_string())
                .collect()
        };
        read(Namespace::Stats, keys, SYSTEM_PREFIX)?;
    }
    Ok(out)
}

/// A run's stored snapshot with its console count, as `RunInfo`.
pub fn info(r: &StoredRun) -> RunInfo {
    let mut i = r.state.run_info();
    i.console_lines = r.console_lines;
    i
}

#[tonic::async_trait]
impl Query for QueryService {
    async fn list_runs(
        &self,
        request: Request<ListRunsRequest>,
    ) -> Result<Response<ListRunsResponse>, Status> {
        let req = request.into_inner();
        self.core.wait_applied().await?;
        let mut runs = Vec::new();
        for r in self.core.all_runs() {
            if !r.state.started() || (r.state.deleted() && !req.include_deleted) {
                continue;
            }
            let i = info(&r);
            if !req.project.is_empty() && i.project != req.project {
                continue;
            }
            if req.state != RunState::Unspecified as i32 && i.state != req.state {
                continue;
            }
            if !req.tags.iter().all(|t| i.tags.contains(t)) {
                continue;
            }
            let mut ok = true;
            for f in &req.filters {
                if !matches(&i, f)? {
                    ok = false;
                    break;
                }
            }
            if ok {
                runs.push(i);
            }
        }
        runs.sort_by(|a, b| {
            b.created_us
                .cmp(&a.created_us)
                .then(a.run_id.cmp(&b.run_id))
        });
        if req.limit > 0 {
            runs.truncate(req.limit as usize);
        }
        Ok(Response::new(ListRunsResponse { runs }))
    }

    async fn get_run(&self, request: Request<GetRunRequest>) -> Result<Response<RunInfo>, Status> {
        let r = self.find(&request.into_inner().run_id).await?;
        Ok(Response::new(info(&r)))
    }

    async fn history(
        &self,
        request: Request<HistoryRequest>,
    ) -> Result<Response<HistoryResponse>, Status> {
        let req = request.into_inner();
        self.find(&req.run_id).await?;
        let core = self.core.clone();
        // Decoding chunks is CPU and disk work: keep it off the executor.
        let series = tokio::task::spawn_blocking(move || {
            read_history(&core, &req).map(|mut series| {
                series.iter_mut().for_each(Series::pack);
                series
            })
        })
        .await
        .map_err(|e| Status::internal(format!("history read failed: {e}")))??;
        Ok(Response::new(HistoryResponse { series }))
    }

    async fn summary(
        &self,
        request: Request<GetRunRequest>,
    ) -> Result<Response<ItemsResponse>, Status> {
        let r = self.find(&request.into_inner().run_id).await?;
        Ok(Response::new(ItemsResponse {
            items: r.state.summary_items(),
        }))
    }

    async fn config(
        &self,
        request: Request<GetRunRequest>,
    ) -> Result<Response<ItemsResponse>, Status> {
        let r = self.find(&request.into_inner().run_id).await?;
        Ok(Response::new(ItemsResponse {
            items: r.state.config_items(),
        }))
    }

    async fn get_artifact(
        &self,
        request: Request<GetArtifactRequest>,
    ) -> Result<Response<ArtifactVersion>, Status> {
        crate::catalog::get_artifact(&self.core, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_artifacts(
        &self,
        request: Request<ListArtifactsRequest>,
    ) -> Result<Response<ListArtifactsResponse>, Status> {
        crate::catalog::list_artifacts(&self.core, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn run_artifacts(
        &self,
        request: Request<GetRunRequest>,
    ) -> Result<Response<RunArtifactsResponse>, Status> {
        crate::catalog::run_artifacts(&self.core, request.into_inner().run_id)
            .await
            .map(Response::new)
    }

    async fn list_models(
        &self,
        request: Request<ListModelsRequest>,
    ) -> Result<Response<ListModelsResponse>, Status> {
        crate::catalog::list_models(&self.core, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn console(
        &self,
        request: Request<ConsoleRequest>,
    ) -> Result<Response<ConsoleResponse>, Status> {
        let req = request.into_inner();
        self.find(&req.run_id).await?;
        let limit = if req.limit == 0 {
            MAX_CONSOLE_LINES
        } else {
            req.limit.min(MAX_CONSOLE_LINES)
        };
        let core = self.core.clone();
        let lines = tokio::task::spawn_blocking(move || {
            core.store.console(&req.run_id, req.offset, limit as usize)
        })
        .await
        .map_err(|e| Status::internal(format!("console read failed: {e}")))?
        .map_err(store_status)?;
        Ok(Response::new(ConsoleResponse {
            lines: lines
                .into_iter()
                .map(|l| ConsoleLine {
                    stream: l.stream,
                    line: l.line,
                    timestamp_us: l.timestamp_us,
                })
                .collect(),
        }))
    }
}
