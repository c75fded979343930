//! The applier thread: turns durable frames into store state, publishes run
//! snapshots for queries and the applied position for read-your-writes, and
//! routes apply warnings (dropped steps) back to the writers' streams.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;

use tokio::sync::oneshot;
use tracklab_proto::v1::Record;
use tracklab_store::Applier;
use tracklab_store::replay::{self, ReplayReport};

use crate::core::Core;

/// Records of one frame that is durable in `run_id`'s log, ending at
/// `frame_end`.
pub struct DurableFrame {
    pub run_id: String,
    pub frame_end: u64,
    pub records: Vec<Record>,
}

pub enum ApplyMsg {
    /// The frames of group commit number `position`.
    Frames {
        position: u64,
        frames: Vec<DurableFrame>,
    },
    Rebuild {
        reply: oneshot::Sender<Result<ReplayReport, String>>,
    },
}

pub fn run(core: Arc<Core>, mut applier: Applier, rx: mpsc::Receiver<ApplyMsg>) {
    while let Ok(first) = rx.recv() {
        let mut msgs = vec![first];
        while msgs.len() < 4096 {
            match rx.try_recv() {
                Ok(m) => msgs.push(m),
                Err(_) => break,
            }
        }
        let mut position = None;
        let mut touched = std::collections::BTreeSet::new();
        for msg in msgs {
            match msg {
                ApplyMsg::Frames {
                    position: p,
                    frames,
                } => {
                    for f in frames {
                        match applier.apply_frame(&f.run_id, f.frame_end, &f.records) {
                            Ok(out) => {
                                for w in out.warnings {
                                    core.route_warning(&f.run_id, w);
                                }
                            }
                            Err(e) => {
                                tracing::error!(run_id = f.run_id, error = %e, "applying a durable frame failed; the store will be caught up from the log at the next start");
                                core.set_error(format!("applier: {e}"));
                            }
                        }
                        touched.insert(f.run_id);
                    }
                    position = Some(p);
                }
                ApplyMsg::Rebuild { reply } => {
                    if let Err(e) = applier.commit() {
                        core.set_error(format!("applier: {e}"));
                    }
                    let start = Instant::now();
                    let result = replay::rebuild(&mut applier, &core.data);
                    match &result {
                        Ok(r) => tracing::info!(
                            runs = r.runs,
                            records = r.records,
                            points = r.history_points,
                            elapsed_ms = start.elapsed().as_millis() as u64,
                            "store rebuilt from the run logs"
                        ),
                        Err(e) => tracing::error!(error = %e, "rebuild failed"),
                    }
                    core.publish_all(applier.runs());
                    if let Ok(r) = &result {
                        core.set_problems(r.problems.clone());
                    }
                    let _ = reply.send(result.map_err(|e| e.to_string()));
                }
            }
        }
        if let Err(e) = applier.commit() {
            tracing::error!(error = %e, "writing to the store failed");
            core.set_error(format!("store: {e}"));
        }
        for run_id in &touched {
            if let Some(r) = applier.run(run_id) {
                core.publish(r);
            }
        }
        if let Some(p) = position {
            core.applied.send_replace(p);
        }
    }
    if let Err(e) = applier.store().flush() {
        tracing::warn!(error = %e, "final store flush failed; the store will be caught up from the logs");
    }
    tracing::info!("applier stopped");
}
