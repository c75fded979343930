//! Sweeps: the controller lives in the daemon, so every agent on the
//! machine shares one sweep and two agents never get the same grid point.
//!
//! What happens is recorded in the daemon's sweeps log (run id `_sweeps`,
//! writer 0, `SweepOp` records): the sweep's creation with its config, each
//! run id handed to an agent with its parameters, each run stopped early,
//! and state changes (pause, resume, finish, cancel). Decisions are made
//! under one lock from that log and from the sweep's runs (`controller`),
//! and recorded before they are answered, so a restart or a rebuild keeps
//! every assignment: a grid point handed out is never handed out again.
//!
//! The sweep document (`SweepDoc.json`, also `GET /api/v1/sweeps/{id}`):
//! `id`, `project`, `name`, `method`, `metric` {`name`, `goal`}, `state`,
//! `created_us`, `parameters` (flat names), `grid_size`, `run_cap`,
//! `early_terminate`, `config` (as given), `best` {`run_id`, `value`}, and
//! `runs`: [{`id`, `name`, `state` (pending until the run starts),
//! `params` (nested), `flat_params`, `metric` (last value), `best`,
//! `iterations` (values of the metric logged), `stopped`, `stop_reason`,
//! `agent`}], in the order they were handed out.

pub mod controller;

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracklab_proto::v1::record::Payload;
use tracklab_proto::v1::sweeps_server::Sweeps;
use tracklab_proto::v1::{self, SweepOp, sweep_op::Op};
use tracklab_state::sweep::{STATES, SWEEPS_RUN_ID, validate_sweep_op};
use tracklab_sweeps::{Rng, SweepConfig};

use crate::core::Core;
use crate::registry::ensure_daemon_log;
use controller::{View, load, nest};

pub struct SweepsService {
    pub core: Arc<Core>,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(format!("sweep request failed: {e}")))?
}

/// A short id: 8 lowercase letters and digits, like wandb's sweep ids.
pub fn short_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut raw = [0u8; 8];
    if getrandom::fill(&mut raw).is_err() {
        // No OS randomness: the clock is unique enough for an id.
        let t = crate::core::now_us() as u64;
        raw = t.to_le_bytes();
    }
    raw.iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn seed() -> u64 {
    let mut raw = [0u8; 8];
    let _ = getrandom::fill(&mut raw);
    u64::from_le_bytes(raw) ^ crate::core::now_us() as u64
}

async fn record(core: &Arc<Core>, sweep_id: &str, op: Op) -> Result<(), Status> {
    let op = SweepOp {
        sweep_id: sweep_id.to_string(),
        op: Some(op),
    };
    validate_sweep_op(&op).map_err(|e| Status::invalid_argument(e.to_string()))?;
    ensure_daemon_log(core, SWEEPS_RUN_ID, "sweeps").await?;
    core.append(SWEEPS_RUN_ID, vec![Payload::Sweep(op)]).await?;
    core.wait_applied().await?;
    Ok(())
}

/// The sweep as of every record applied so far (read-your-writes).
pub async fn view(core: &Arc<Core>, id: &str) -> Result<View, Status> {
    core.wait_applied().await?;
    let (core, id) = (core.clone(), id.to_string());
    blocking(move || load(&core, &id)).await
}

fn doc(v: &View) -> v1::SweepDoc {
    v1::SweepDoc {
        sweep_id: v.id.clone(),
        json: v.doc().to_string(),
    }
}

/// Creates a sweep from its JSON config; the error names the bad field.
pub async fn create(core: &Arc<Core>, project: &str, config_json: &str) -> Result<View, Status> {
    tracklab_state::validate::validate_project("project", project)
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let raw: serde_json::Value = serde_json::from_str(config_json).map_err(|e| {
        Status::invalid_argument(format!(
            "field `config_json`: the sweep config is not JSON: {e}"
        ))
    })?;
    SweepConfig::parse(&raw).map_err(|e| Status::invalid_argument(e.to_string()))?;
    let _one = core.sweeps_lock.lock().await;
    let id = short_id();
    record(
        core,
        &id,
        Op::Create(v1::SweepCreate {
            project: project.to_string(),
            config_json: raw.to_string(),
        }),
    )
    .await?;
    tracing::info!(sweep = %id, project, "sweep created");
    view(core, &id).await
}

pub async fn next(
    core: &Arc<Core>,
    req: v1::NextSweepRunRequest,
) -> Result<v1::NextSweepRunResponse, Status> {
    let _one = core.sweeps_lock.lock().await;
    let v = view(core, &req.sweep_id).await?;
    let program = v.config.program.clone().unwrap_or_default();
    let command = v.config.command.clone();
    let mut rng = Rng::new(seed());
    let params = match v.next(&mut rng) {
        Ok(p) => p,
        Err(reason) => {
            // A grid that is done or a run_cap reached ends the sweep (wandb
            // marks it finished); runs in flight go on.
            if v.sweep.state == "running" && v.exhausted().is_some() {
                record(
                    core,
                    &req.sweep_id,
                    Op::SetState(v1::SweepSetState {
                        state: "finished".into(),
                    }),
                )
                .await?;
                tracing::info!(sweep = %req.sweep_id, reason, "sweep finished");
            }
            return Ok(v1::NextSweepRunResponse {
                done: true,
                reason,
                project: v.sweep.project.clone(),
                ..Default::default()
            });
        }
    };
    let run_id = short_id();
    let params_json = nest(&params).to_string();
    record(
        core,
        &req.sweep_id,
        Op::Assign(v1::SweepAssign {
            run_id: run_id.clone(),
            params_json: params_json.clone(),
            agent: req.agent.clone(),
        }),
    )
    .await?;
    tracing::debug!(sweep = %req.sweep_id, run = %run_id, params = %params_json, "sweep run handed out");
    Ok(v1::NextSweepRunResponse {
        done: false,
        reason: String::new(),
        run_id,
        params_json,
        project: v.sweep.project.clone(),
        program,
        command,
    })
}

/// Early termination: records the runs hyperband stops now, then answers
/// which of the agent's runs must stop (all of them when cancelled).
pub async fn poll(
    core: &Arc<Core>,
    req: v1::PollSweepRequest,
) -> Result<v1::PollSweepResponse, Status> {
    let _one = core.sweeps_lock.lock().await;
    let mut v = view(core, &req.sweep_id).await?;
    let fresh = v.new_stops();
    if !fresh.is_empty() {
        for (run_id, reason) in &fresh {
            tracing::info!(sweep = %req.sweep_id, run = %run_id, reason, "stopping a sweep run early");
            record(
                core,
                &req.sweep_id,
                Op::StopRun(v1::SweepStopRun {
                    run_id: run_id.clone(),
                    reason: reason.clone(),
                }),
            )
            .await?;
        }
        v = view(core, &req.sweep_id).await?;
    }
    let cancelled = v.sweep.state == "cancelled";
    let mut out = v1::PollSweepResponse {
        state: v.sweep.state.clone(),
        ..Default::default()
    };
    for id in &req.run_ids {
        let why = match v.sweep.stopped.get(id) {
            Some(why) => Some(why.clone()),
            None if cancelled => Some(format!("sweep {} was cancelled", v.id)),
            None => None,
        };
        if let Some(why) = why {
            out.stop.push(id.clone());
            out.reasons.push(why);
        }
    }
    Ok(out)
}

pub async fn set_state(core: &Arc<Core>, id: &str, state: &str) -> Result<View, Status> {
    let state = match state {
        "resume" | "running" => "running",
        "pause" | "paused" => "paused",
        "finish" | "finished" | "stop" => "finished",
        "cancel" | "cancelled" => "cancelled",
        other => {
            return Err(Status::invalid_argument(format!(
                "field `state`: {other:?} is not one of pause, resume, finish, cancel ({})",
                STATES.join(", ")
            )));
        }
    };
    let _one = core.sweeps_lock.lock().await;
    let v = view(core, id).await?;
    if matches!(v.sweep.state.as_str(), "finished" | "cancelled") && state != "cancelled" {
        return Err(Status::failed_precondition(format!(
            "sweep {id} is {}; it cannot be {state} again (create a new sweep)",
            v.sweep.state
        )));
    }
    record(
        core,
        id,
        Op::SetState(v1::SweepSetState {
            state: state.to_string(),
        }),
    )
    .await?;
    view(core, id).await
}

/// Every sweep, of one project or all, newest first.
pub async fn list(core: &Arc<Core>, project: &str) -> Result<Vec<View>, Status> {
    core.wait_applied().await?;
    let (core, project) = (core.clone(), project.to_string());
    blocking(move || {
        let mut out = Vec::new();
        for id in controller::sweep_ids(&core) {
            let v = load(&core, &id)?;
            if project.is_empty() || v.sweep.project == project {
                out.push(v);
            }
        }
        out.sort_by_key(|v| std::cmp::Reverse(v.sweep.created_us));
        Ok(out)
    })
    .await
}

#[tonic::async_trait]
impl Sweeps for SweepsService {
    async fn create(
        &self,
        req: Request<v1::CreateSweepRequest>,
    ) -> Result<Response<v1::SweepDoc>, Status> {
        let r = req.into_inner();
        Ok(Response::new(doc(&create(
            &self.core,
            &r.project,
            &r.config_json,
        )
        .await?)))
    }

    async fn next(
        &self,
        req: Request<v1::NextSweepRunRequest>,
    ) -> Result<Response<v1::NextSweepRunResponse>, Status> {
        Ok(Response::new(next(&self.core, req.into_inner()).await?))
    }

    async fn poll(
        &self,
        req: Request<v1::PollSweepRequest>,
    ) -> Result<Response<v1::PollSweepResponse>, Status> {
        Ok(Response::new(poll(&self.core, req.into_inner()).await?))
    }

    async fn get(
        &self,
        req: Request<v1::GetSweepRequest>,
    ) -> Result<Response<v1::SweepDoc>, Status> {
        Ok(Response::new(doc(&view(
            &self.core,
            &req.into_inner().sweep_id,
        )
        .await?)))
    }

    async fn list(
        &self,
        req: Request<v1::ListSweepsRequest>,
    ) -> Result<Response<v1::ListSweepsResponse>, Status> {
        let views = list(&self.core, &req.into_inner().project).await?;
        Ok(Response::new(v1::ListSweepsResponse {
            sweeps: views.iter().map(doc).collect(),
        }))
    }

    async fn set_state(
        &self,
        req: Request<v1::SetSweepStateRequest>,
    ) -> Result<Response<v1::SweepDoc>, Status> {
        let r = req.into_inner();
        Ok(Response::new(doc(&set_state(
            &self.core,
            &r.sweep_id,
            &r.state,
        )
        .await?)))
    }
}
