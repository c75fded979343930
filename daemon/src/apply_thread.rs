//! The applier thread: turns durable frames into store state, publishes run
//! snapshots for queries and the applied position for read-your-writes, and
//! routes apply warnings (dropped steps) back to the writers' streams.
//!
//! Commits to sled are batched in time: at most every [`COMMIT_INTERVAL`],
//! sooner when much is pending, and at once when a query asks for it (a
//! query waits until everything acknowledged before it is committed). The
//! logs are the truth, so a crash between commits only means a longer
//! replay at the next start. Committing rarely keeps sled small: each commit
//! rewrites the state of every run it touches.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tracklab_proto::v1::Record;
use tracklab_store::Applier;
use tracklab_store::replay::{self, ReplayReport};

use crate::core::Core;

/// Longest time applied records wait for their sled commit when no query
/// asks for them.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(500);
/// Commit earlier once this many sled operations are pending.
const COMMIT_PENDING_OPS: usize = 20_000;

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
    /// A query waits: commit what is applied now.
    Commit,
    Rebuild {
        reply: oneshot::Sender<Result<ReplayReport, String>>,
    },
    /// Remove a run from the store (its log is gone: `gc`).
    Forget {
        run_id: String,
        reply: oneshot::Sender<Result<(), String>>,
    },
}

struct Loop {
    core: Arc<Core>,
    applier: Applier,
    /// Position applied in memory but not yet committed and published.
    uncommitted: Option<u64>,
    touched: BTreeSet<String>,
    last_commit: Instant,
}

impl Loop {
    fn handle(&mut self, msg: ApplyMsg) -> bool {
        match msg {
            ApplyMsg::Frames { position, frames } => {
                let records: usize = frames.iter().map(|f| f.records.len()).sum();
                for f in frames {
                    match self.applier.apply_frame(&f.run_id, f.frame_end, &f.records) {
                        Ok(out) => {
                            for w in out.warnings {
                                self.core.route_warning(&f.run_id, w);
                            }
                        }
                        Err(e) => {
                            tracing::error!(run_id = f.run_id, error = %e, "applying a durable frame failed; the store will be caught up from the log at the next start");
                            self.core.set_error(format!("applier: {e}"));
                        }
                    }
                    self.touched.insert(f.run_id);
                }
                self.uncommitted = Some(position);
                self.core.backlog.sub(records);
                false
            }
            ApplyMsg::Commit => true,
            ApplyMsg::Forget { run_id, reply } => {
                self.commit();
                let result = self
                    .applier
                    .reset_run(&run_id)
                    .and_then(|()| self.applier.store().flush());
                if result.is_ok() {
                    self.core.unpublish(&run_id);
                }
                let _ = reply.send(result.map_err(|e| e.to_string()));
                false
            }
            ApplyMsg::Rebuild { reply } => {
                self.commit();
                let start = Instant::now();
                let result = replay::rebuild(&mut self.applier, &self.core.data);
                match &result {
                    Ok(r) => {
                        tracing::info!(
                            runs = r.runs,
                            records = r.records,
                            points = r.history_points,
                            elapsed_ms = start.elapsed().as_millis() as u64,
                            "store rebuilt from the run logs"
                        );
                        self.core.set_problems(r.problems.clone());
                    }
                    Err(e) => tracing::error!(error = %e, "rebuild failed"),
                }
                self.core.publish_all(self.applier.runs());
                let _ = reply.send(result.map_err(|e| e.to_string()));
                false
            }
        }
    }

    /// Commits to sled, then publishes snapshots and the applied position.
    fn commit(&mut self) {
        if let Err(e) = self.applier.commit() {
            tracing::error!(error = %e, "writing to the store failed");
            self.core.set_error(format!("store: {e}"));
        }
        for run_id in std::mem::take(&mut self.touched) {
            if let Some(r) = self.applier.run(&run_id) {
                self.core.publish(r);
            }
        }
        if let Some(p) = self.uncommitted.take() {
            self.core.applied.send_replace(p);
        }
        self.last_commit = Instant::now();
    }

    fn due(&self) -> bool {
        self.last_commit.elapsed() >= COMMIT_INTERVAL
            || self.applier.pending_ops() >= COMMIT_PENDING_OPS
            || self.core.commit_wanted.swap(false, Ordering::SeqCst)
    }
}

pub fn run(core: Arc<Core>, applier: Applier, rx: mpsc::Receiver<ApplyMsg>) {
    let mut lp = Loop {
        core,
        applier,
        uncommitted: None,
        touched: BTreeSet::new(),
        last_commit: Instant::now(),
    };
    loop {
        let waiting = lp.uncommitted.is_some() || lp.applier.has_pending();
        let first = if waiting {
            match rx.recv_timeout(COMMIT_INTERVAL.saturating_sub(lp.last_commit.elapsed())) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => break,
            }
        };
        let mut now = false;
        let timed_out = first.is_none();
        if let Some(m) = first {
            now |= lp.handle(m);
            for _ in 0..4096 {
                match rx.try_recv() {
                    Ok(m) => now |= lp.handle(m),
                    Err(_) => break,
                }
            }
        }
        if now || timed_out || lp.due() {
            lp.commit();
        }
    }
    lp.commit();
    if let Err(e) = lp.applier.store().flush() {
        tracing::warn!(error = %e, "final store flush failed; the store will be caught up from the logs");
    }
    tracing::info!("applier stopped");
}
