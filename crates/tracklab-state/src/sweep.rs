//! Sweeps as the daemon's sweeps log (run id [`SWEEPS_RUN_ID`]) records
//! them: creation, every run handed to an agent with its parameters, runs
//! stopped early, and state changes. The controller's decisions (which
//! parameters next, which run to stop) are made from this and from the
//! runs that name the sweep (`RunStart.sweep_id`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tracklab_proto::v1::{self, sweep_op::Op};

use crate::validate::{InvalidRecord, validate_file_name};

type Result = std::result::Result<(), InvalidRecord>;

fn bad(field: impl Into<String>, reason: impl Into<String>) -> InvalidRecord {
    InvalidRecord {
        field: field.into(),
        reason: reason.into(),
    }
}

/// The daemon's sweeps log.
pub const SWEEPS_RUN_ID: &str = "_sweeps";
pub const MAX_SWEEP_ID_CHARS: usize = 64;
const MAX_CONFIG_BYTES: usize = 256 * 1024;
const MAX_PARAMS_BYTES: usize = 64 * 1024;

/// Sweep states (`SweepSetState.state`).
pub const STATES: [&str; 4] = ["running", "paused", "finished", "cancelled"];

/// A run handed out by the controller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub run_id: String,
    pub params_json: String,
    pub agent: String,
    pub at_us: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sweep {
    pub project: String,
    pub config_json: String,
    pub created_us: i64,
    pub state: String,
    pub assigned: Vec<Assignment>,
    /// Runs stopped early, with the reason.
    pub stopped: BTreeMap<String, String>,
}

/// Checks a sweep record's fields (the config itself is checked by the
/// daemon when the sweep is created).
pub fn validate_sweep_op(op: &v1::SweepOp) -> Result {
    validate_file_name(
        "payload.sweep.sweep_id",
        "sweep id",
        &op.sweep_id,
        MAX_SWEEP_ID_CHARS,
    )?;
    match &op.op {
        None => Err(bad("payload.sweep.op", "no sweep operation is set")),
        Some(Op::Create(c)) => {
            if c.config_json.len() > MAX_CONFIG_BYTES {
                return Err(bad(
                    "payload.sweep.create.config_json",
                    format!("is over {MAX_CONFIG_BYTES} bytes"),
                ));
            }
            Ok(())
        }
        Some(Op::Assign(a)) => {
            crate::validate::validate_run_id("payload.sweep.assign.run_id", &a.run_id)?;
            if a.params_json.len() > MAX_PARAMS_BYTES {
                return Err(bad(
                    "payload.sweep.assign.params_json",
                    format!("is over {MAX_PARAMS_BYTES} bytes"),
                ));
            }
            Ok(())
        }
        Some(Op::StopRun(s)) => {
            crate::validate::validate_run_id("payload.sweep.stop_run.run_id", &s.run_id)
        }
        Some(Op::SetState(s)) => {
            if STATES.contains(&s.state.as_str()) {
                Ok(())
            } else {
                Err(bad(
                    "payload.sweep.set_state.state",
                    format!("{:?} is not one of {}", s.state, STATES.join(", ")),
                ))
            }
        }
    }
}

/// Applies one sweep record (pure; a record for an unknown sweep, or a
/// second create, changes nothing and says why).
pub fn apply(sweeps: &mut BTreeMap<String, Sweep>, op: &v1::SweepOp, ts: i64) -> Option<String> {
    let id = &op.sweep_id;
    match &op.op {
        Some(Op::Create(c)) => {
            if sweeps.contains_key(id) {
                return Some(format!(
                    "sweep {id} already exists; a second create is ignored"
                ));
            }
            sweeps.insert(
                id.clone(),
                Sweep {
                    project: c.project.clone(),
                    config_json: c.config_json.clone(),
                    created_us: ts,
                    state: "running".into(),
                    assigned: Vec::new(),
                    stopped: BTreeMap::new(),
                },
            );
            None
        }
        other => {
            let Some(s) = sweeps.get_mut(id) else {
                return Some(format!("sweep {id} does not exist; record ignored"));
            };
            match other {
                Some(Op::Assign(a)) => {
                    if !s.assigned.iter().any(|x| x.run_id == a.run_id) {
                        s.assigned.push(Assignment {
                            run_id: a.run_id.clone(),
                            params_json: a.params_json.clone(),
                            agent: a.agent.clone(),
                            at_us: ts,
                        });
                    }
                }
                Some(Op::StopRun(r)) => {
                    s.stopped
                        .entry(r.run_id.clone())
                        .or_insert_with(|| r.reason.clone());
                }
                Some(Op::SetState(st)) => s.state = st.state.clone(),
                Some(Op::Create(_)) | None => {}
            }
            None
        }
    }
}
