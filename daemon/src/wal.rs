//! The WAL writer thread: the only code that writes or fsyncs run logs.
//!
//! Group commit: the thread takes every write request that is waiting,
//! checks each against the runs' writer sequences, appends one frame per run
//! per request, fdatasyncs every touched log once, and only then answers the
//! requests (an ack means durable) and hands the frames to the applier.
//! Everything that arrives while an fdatasync runs goes into the next group.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;

use tokio::sync::oneshot;
use tonic::Code;
use tracklab_log::{LogError, LogWriter};
use tracklab_proto::v1::record::Payload;
use tracklab_proto::v1::{self, Record, ResumeMode};
use tracklab_store::codec::encode_records;

use crate::apply_thread::{ApplyMsg, DurableFrame};
use crate::core::Core;

/// Records handed to the applier and not yet applied before the WAL writer
/// waits for it.
const MAX_APPLY_BACKLOG: usize = 20_000;

/// Most requests taken into one group commit.
const MAX_GROUP: usize = 1024;

/// A request refused as a whole; nothing of it was written.
#[derive(Debug, Clone)]
pub struct WriteError {
    pub code: Code,
    pub message: String,
}

impl From<WriteError> for tonic::Status {
    fn from(e: WriteError) -> Self {
        tonic::Status::new(e.code, e.message)
    }
}

/// Durable sequence per (run, writer) after a request, and how many of its
/// records were already stored.
#[derive(Debug, Default)]
pub struct WriteOk {
    pub acks: Vec<(String, u64, u64)>,
    pub duplicates: u64,
}

pub enum WalMsg {
    Write {
        records: Vec<Record>,
        reply: oneshot::Sender<Result<WriteOk, WriteError>>,
    },
    /// Append a daemon record marking the run crashed, if it is still open.
    MarkCrashed {
        run_id: String,
        timestamp_us: i64,
        reply: oneshot::Sender<bool>,
    },
    /// Append records of the daemon's own (writer 0) to a started run, such
    /// as an edit from `tracklab runs`.
    Append {
        run_id: String,
        timestamp_us: i64,
        payloads: Vec<Payload>,
        reply: oneshot::Sender<Result<WriteOk, WriteError>>,
    },
    /// Sync a deleted run's log and refuse writes to it while `gc` removes
    /// its files, if the log still ends at `expected_end` (where the
    /// snapshot that showed the run deleted ended). A log that grew since
    /// (a resume or a restore raced the gc) is kept: the reply says why.
    Forget {
        run_id: String,
        expected_end: u64,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// `gc` is done with the run's files (moved to the trash, or kept after
    /// a failure): close the log and forget the run.
    Release { run_id: String },
}

const REMOVING: &str = "the run is being removed by `tracklab gc` (it was deleted); retry in a moment: its id then starts a new run";

/// What the writer thread knows of one run log.
struct RunLog {
    writer: LogWriter,
    started: bool,
    exited: bool,
    writers: HashMap<u64, u64>,
    poisoned: Option<String>,
    /// Between an accepted `Forget` and its `Release`: writes are refused.
    removing: bool,
}

/// Initial knowledge of a run, from recovery.
pub struct KnownRun {
    pub run_id: String,
    pub started: bool,
    pub exited: bool,
    pub writers: Vec<(u64, u64)>,
    pub writer: LogWriter,
}

/// What the WAL writer knew of a run before the current group touched it,
/// restored when the disk turns out to be full (the group's frames of the
/// run were taken back, so its sequence numbers were never used).
struct RunBefore {
    started: bool,
    exited: bool,
    writers: HashMap<u64, u64>,
}

pub struct Wal {
    core: Arc<Core>,
    runs: HashMap<String, RunLog>,
    /// Per run touched in the current group: its state before the group.
    group_before: HashMap<String, RunBefore>,
    /// Runs whose log hit a full disk in the current group.
    full: HashMap<String, String>,
    /// Bounded: when the applier falls this far behind, group commits wait
    /// (backpressure to the clients) instead of queueing without limit.
    apply_tx: mpsc::SyncSender<ApplyMsg>,
}

/// Per-request plan, built before anything is written.
struct Plan {
    /// Indices of the records to store, per run, in arrival order.
    per_run: Vec<(String, Vec<usize>)>,
    new_runs: Vec<String>,
    acks: Vec<(String, u64, u64)>,
    duplicates: u64,
    lifecycle: Vec<(String, Lifecycle)>,
}

#[derive(Clone, Copy)]
enum Lifecycle {
    Started,
    Exited,
}

fn err(code: Code, message: String) -> WriteError {
    WriteError { code, message }
}

impl Wal {
    pub fn new(
        core: Arc<Core>,
        known: Vec<KnownRun>,
        apply_tx: mpsc::SyncSender<ApplyMsg>,
    ) -> Self {
        let runs = known
            .into_iter()
            .map(|k| {
                (
                    k.run_id,
                    RunLog {
                        writer: k.writer,
                        started: k.started,
                        exited: k.exited,
                        writers: k.writers.into_iter().collect(),
                        poisoned: None,
                        removing: false,
                    },
                )
            })
            .collect();
        Self {
            core,
            runs,
            group_before: HashMap::new(),
            full: HashMap::new(),
            apply_tx,
        }
    }

    /// Runs until every sender of `rx` is gone.
    pub fn run(mut self, rx: mpsc::Receiver<WalMsg>) {
        while let Ok(first) = rx.recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(m) => group.push(m),
                    Err(_) => break,
                }
            }
            self.commit_group(group);
        }
        tracing::info!("WAL writer stopped");
    }

    /// Notes a run's state before the current group changes it.
    fn remember(&mut self, run_id: &str) {
        if self.group_before.contains_key(run_id) {
            return;
        }
        let before = match self.runs.get(run_id) {
            Some(l) => RunBefore {
                started: l.started,
                exited: l.exited,
                writers: l.writers.clone(),
            },
            None => RunBefore {
                started: false,
                exited: false,
                writers: HashMap::new(),
            },
        };
        self.group_before.insert(run_id.to_string(), before);
    }

    /// A full disk while writing a run's log: the writer took back this
    /// group's frames of the run; the run takes no more writes this group.
    fn disk_full(&mut self, run_id: &str, e: &LogError) -> WriteError {
        // Clients retry about twice a second: say it when it starts, and
        // the rest at debug level.
        if self.core.is_disk_full() || !self.full.is_empty() {
            tracing::debug!(run_id, error = %e, "disk still full: records of this group are not acknowledged");
        } else {
            tracing::warn!(run_id, error = %e, "disk full: records are not acknowledged until there is free space");
        }
        self.full.insert(run_id.to_string(), e.to_string());
        err(
            Code::ResourceExhausted,
            format!(
                "run {run_id}: the disk holding its log is full ({e}); nothing of this batch is acknowledged: free space, and the client re-sends it"
            ),
        )
    }

    fn commit_group(&mut self, group: Vec<WalMsg>) {
        self.group_before.clear();
        self.full.clear();
        let mut touched: HashSet<String> = HashSet::new();
        let mut frames: Vec<DurableFrame> = Vec::new();
        // Replies wait until the group is durable.
        let mut pending: Vec<(Result<WriteOk, WriteError>, Vec<String>, WalMsgReply)> = Vec::new();
        for msg in group {
            match msg {
                WalMsg::Write { records, reply } => {
                    let result = self
                        .plan(&records)
                        .and_then(|plan| self.execute(plan, records, &mut frames));
                    let runs = match &result {
                        Ok((_, runs)) => runs.clone(),
                        Err(_) => vec![],
                    };
                    touched.extend(runs.iter().cloned());
                    pending.push((result.map(|(ok, _)| ok), runs, WalMsgReply::Write(reply)));
                }
                WalMsg::Append {
                    run_id,
                    timestamp_us,
                    payloads,
                    reply,
                } => {
                    let result =
                        self.append_daemon_records(&run_id, timestamp_us, payloads, &mut frames);
                    let runs = if result.is_ok() {
                        touched.insert(run_id.clone());
                        vec![run_id]
                    } else {
                        vec![]
                    };
                    pending.push((result, runs, WalMsgReply::Write(reply)));
                }
                WalMsg::Forget {
                    run_id,
                    expected_end,
                    reply,
                } => {
                    let result = match self.runs.get_mut(&run_id) {
                        None => Ok(()),
                        // Also catches frames appended earlier in this group.
                        Some(log) if log.writer.end() != expected_end => Err(format!(
                            "run {run_id} was written to after it was deleted (resumed or restored); it is kept"
                        )),
                        Some(log) => {
                            if let Err(e) = log.writer.sync() {
                                tracing::warn!(run_id, error = %e, "fdatasync of a run log being removed failed");
                            }
                            log.removing = true;
                            touched.remove(&run_id);
                            Ok(())
                        }
                    };
                    let _ = reply.send(result);
                }
                WalMsg::Release { run_id } => {
                    if self.runs.get(&run_id).is_some_and(|l| l.removing) {
                        self.runs.remove(&run_id);
                    }
                }
                WalMsg::MarkCrashed {
                    run_id,
                    timestamp_us,
                    reply,
                } => {
                    let done = self.mark_crashed(&run_id, timestamp_us, &mut frames);
                    if done {
                        touched.insert(run_id.clone());
                    }
                    pending.push((
                        Ok(WriteOk::default()),
                        if done { vec![run_id] } else { vec![] },
                        WalMsgReply::Crashed(reply, done),
                    ));
                }
            }
        }
        // One fdatasync per touched log; many logs are synced in parallel
        // (a disk serves concurrent syncs much faster than serial ones).
        let logs: Vec<(&String, &mut RunLog)> = self
            .runs
            .iter_mut()
            .filter(|(id, l)| touched.contains(*id) && l.poisoned.is_none() && !l.removing)
            .collect();
        let results = sync_all(logs);
        for (run_id, e) in results {
            if matches!(e, LogError::NoSpace { .. }) {
                self.disk_full(&run_id, &e);
                continue;
            }
            let e = e.to_string();
            tracing::error!(run_id, error = %e, "fdatasync of run log failed; the run refuses writes until the daemon restarts");
            if let Some(log) = self.runs.get_mut(&run_id) {
                log.poisoned = Some(e.clone());
            }
            self.core.set_error(format!("run {run_id}: {e}"));
        }
        // A full disk: the run is as it was before this group.
        for run_id in self.full.keys() {
            if let (Some(log), Some(before)) =
                (self.runs.get_mut(run_id), self.group_before.remove(run_id))
            {
                log.started = before.started;
                log.exited = before.exited;
                log.writers = before.writers;
            }
        }
        if let Some((run_id, e)) = self.full.iter().next() {
            let _ = self.core.set_disk_full(Some(format!(
                "disk full: the log of run {run_id} cannot grow ({e}); acknowledgements wait until there is free space"
            )));
        } else if !touched.is_empty() && self.core.set_disk_full(None) {
            tracing::info!("the disk has space again: records are acknowledged");
        }
        let full = &self.full;
        let failed: HashSet<&String> = touched
            .iter()
            .filter(|r| {
                full.contains_key(*r) || self.runs.get(*r).is_some_and(|l| l.poisoned.is_some())
            })
            .collect();
        frames.retain(|f| !failed.contains(&f.run_id));
        let position = self.core.durable_position.fetch_add(1, Ordering::SeqCst) + 1;
        // Even an empty group moves the applied position, so queries waiting
        // for this position are released.
        let records: usize = frames.iter().map(|f| f.records.len()).sum();
        // Backpressure: wait while the applier is far behind, so memory
        // stays bounded (acks of this group still go out right after).
        self.core.backlog.wait_below(MAX_APPLY_BACKLOG);
        self.core.backlog.add(records);
        let _ = self.apply_tx.send(ApplyMsg::Frames { position, frames });
        for (result, runs, reply) in pending {
            let bad = runs.iter().find(|r| failed.contains(r));
            match reply {
                WalMsgReply::Write(tx) => {
                    let result = match (result, bad) {
                        (Ok(_), Some(r)) if full.contains_key(r) => Err(err(
                            Code::ResourceExhausted,
                            format!(
                                "run {r}: the disk holding its log is full ({}); nothing of this batch is acknowledged: free space, and the client re-sends it",
                                full[r]
                            ),
                        )),
                        (Ok(_), Some(r)) => Err(err(
                            Code::Unavailable,
                            format!(
                                "run {r}: the run log could not be made durable (fsync failed); nothing of this batch is acknowledged; check the disk and restart the daemon"
                            ),
                        )),
                        (r, _) => r,
                    };
                    let _ = tx.send(result);
                }
                WalMsgReply::Crashed(tx, done) => {
                    let _ = tx.send(done && bad.is_none());
                }
            }
        }
    }

    /// Checks a request against the writer sequences without changing
    /// anything.
    fn plan(&self, records: &[Record]) -> Result<Plan, WriteError> {
        let mut plan = Plan {
            per_run: Vec::new(),
            new_runs: Vec::new(),
            acks: Vec::new(),
            duplicates: 0,
            lifecycle: Vec::new(),
        };
        // Tentative view: (run, writer) -> last seq, and run lifecycle.
        let mut seqs: HashMap<(&str, u64), u64> = HashMap::new();
        let mut started: HashMap<&str, bool> = HashMap::new();
        let mut exited: HashMap<&str, bool> = HashMap::new();
        for (i, rec) in records.iter().enumerate() {
            let run_id = rec.run_id.as_str();
            let log = self.runs.get(run_id);
            if let Some(e) = self.full.get(run_id) {
                return Err(err(
                    Code::ResourceExhausted,
                    format!(
                        "record {i} (run {run_id}): the disk holding its log is full ({e}); free space, and the client re-sends it"
                    ),
                ));
            }
            if log.is_some_and(|l| l.removing) {
                return Err(err(
                    Code::Unavailable,
                    format!("record {i} (run {run_id}): {REMOVING}"),
                ));
            }
            if let Some(l) = log
                && let Some(reason) = &l.poisoned
            {
                return Err(err(
                    Code::Unavailable,
                    format!(
                        "record {i} (run {run_id}): the run log failed earlier ({reason}); restart the daemon after checking the disk"
                    ),
                ));
            }
            let last = *seqs.entry((run_id, rec.writer_id)).or_insert_with(|| {
                log.and_then(|l| l.writers.get(&rec.writer_id).copied())
                    .unwrap_or(0)
            });
            let where_ = || {
                format!(
                    "record {i} (run {run_id}, writer {:016x}, seq {})",
                    rec.writer_id, rec.seq
                )
            };
            if rec.seq <= last {
                plan.duplicates += 1;
                continue;
            }
            if rec.seq != last + 1 {
                return Err(err(
                    Code::FailedPrecondition,
                    format!(
                        "{}: sequence gap: the next sequence number of this writer is {}; re-send the missing records",
                        where_(),
                        last + 1
                    ),
                ));
            }
            let is_started = *started
                .entry(run_id)
                .or_insert_with(|| log.is_some_and(|l| l.started));
            match &rec.payload {
                Some(Payload::RunStart(start)) => {
                    let mode =
                        ResumeMode::try_from(start.resume).unwrap_or(ResumeMode::ResumeNever);
                    if is_started && mode == ResumeMode::ResumeNever {
                        return Err(err(
                            Code::AlreadyExists,
                            format!(
                                "{}: field `run_start.resume`: run {run_id} already exists; resume it with resume=allow or must, or choose another run id",
                                where_()
                            ),
                        ));
                    }
                    if !is_started && mode == ResumeMode::ResumeMust {
                        return Err(err(
                            Code::NotFound,
                            format!(
                                "{}: field `run_start.resume`: resume=must but run {run_id} does not exist",
                                where_()
                            ),
                        ));
                    }
                    if log.is_none() && !plan.new_runs.iter().any(|r| r == run_id) {
                        plan.new_runs.push(run_id.to_string());
                    }
                    started.insert(run_id, true);
                    exited.insert(run_id, false);
                    plan.lifecycle
                        .push((run_id.to_string(), Lifecycle::Started));
                }
                _ if !is_started => {
                    return Err(err(
                        Code::NotFound,
                        format!(
                            "{}: run {run_id} was never started; send a run_start record first",
                            where_()
                        ),
                    ));
                }
                Some(Payload::Exit(_)) => {
                    exited.insert(run_id, true);
                    plan.lifecycle.push((run_id.to_string(), Lifecycle::Exited));
                }
                _ => {}
            }
            seqs.insert((run_id, rec.writer_id), rec.seq);
            match plan.per_run.iter_mut().find(|(r, _)| r == run_id) {
                Some((_, v)) => v.push(i),
                None => plan.per_run.push((run_id.to_string(), vec![i])),
            }
        }
        for ((run_id, writer), seq) in seqs {
            plan.acks.push((run_id.to_string(), writer, seq));
        }
        plan.acks.sort();
        Ok(plan)
    }

    /// Writes a checked request: creates new run logs, appends one frame per
    /// run. Returns the acks and the runs touched.
    fn execute(
        &mut self,
        plan: Plan,
        records: Vec<Record>,
        frames: &mut Vec<DurableFrame>,
    ) -> Result<(WriteOk, Vec<String>), WriteError> {
        let mut records: Vec<Option<Record>> = records.into_iter().map(Some).collect();
        for (run_id, _) in &plan.per_run {
            self.remember(run_id);
        }
        for run_id in &plan.new_runs {
            let path = self.core.data.run_log(run_id);
            let writer = create_log(&path).map_err(|e| {
                let code = if no_space_in(e.as_ref()) {
                    Code::ResourceExhausted
                } else {
                    Code::Internal
                };
                err(
                    code,
                    format!(
                        "run {run_id}: cannot create its log {}: {e}",
                        path.display()
                    ),
                )
            })?;
            self.runs.insert(
                run_id.clone(),
                RunLog {
                    writer,
                    started: false,
                    exited: false,
                    writers: HashMap::new(),
                    poisoned: None,
                    removing: false,
                },
            );
        }
        let mut touched = Vec::new();
        for (run_id, indices) in plan.per_run {
            let Some(log) = self.runs.get_mut(&run_id) else {
                continue;
            };
            let records: Vec<Record> = indices
                .into_iter()
                .filter_map(|i| records.get_mut(i).and_then(Option::take))
                .collect();
            let payload = encode_records(&records);
            match log.writer.append(&payload) {
                Ok(pos) => {
                    frames.push(DurableFrame {
                        run_id: run_id.clone(),
                        frame_end: pos.end,
                        records,
                    });
                    touched.push(run_id);
                }
                Err(e @ LogError::NoSpace { .. }) => return Err(self.disk_full(&run_id, &e)),
                Err(e) => {
                    tracing::error!(run_id, error = %e, "append to run log failed");
                    log.poisoned = Some(e.to_string());
                    self.core.set_error(format!("run {run_id}: {e}"));
                    return Err(err(
                        Code::Unavailable,
                        format!("run {run_id}: writing its log failed: {e}"),
                    ));
                }
            }
        }
        for (run_id, writer, seq) in &plan.acks {
            if let Some(log) = self.runs.get_mut(run_id) {
                let e = log.writers.entry(*writer).or_insert(0);
                *e = (*e).max(*seq);
            }
        }
        for (run_id, ev) in plan.lifecycle {
            if let Some(log) = self.runs.get_mut(&run_id) {
                match ev {
                    Lifecycle::Started => {
                        log.started = true;
                        log.exited = false;
                    }
                    Lifecycle::Exited => log.exited = true,
                }
            }
        }
        Ok((
            WriteOk {
                acks: plan.acks,
                duplicates: plan.duplicates,
            },
            touched,
        ))
    }

    fn mark_crashed(
        &mut self,
        run_id: &str,
        timestamp_us: i64,
        frames: &mut Vec<DurableFrame>,
    ) -> bool {
        let open = self
            .runs
            .get(run_id)
            .is_some_and(|l| l.started && !l.exited && l.poisoned.is_none() && !l.removing);
        if !open {
            return false;
        }
        let exit = Payload::Exit(v1::RunExit {
            exit_code: -1,
            crashed: true,
        });
        let done = self
            .append_daemon_records(run_id, timestamp_us, vec![exit], frames)
            .is_ok();
        if done {
            tracing::warn!(
                run_id,
                "client process is gone without finishing its run; marked crashed"
            );
        }
        done
    }

    /// Appends records of writer 0 (the daemon) to a started run's log, as
    /// one frame.
    fn append_daemon_records(
        &mut self,
        run_id: &str,
        timestamp_us: i64,
        payloads: Vec<Payload>,
        frames: &mut Vec<DurableFrame>,
    ) -> Result<WriteOk, WriteError> {
        if let Some(e) = self.full.get(run_id) {
            return Err(err(
                Code::ResourceExhausted,
                format!(
                    "run {run_id}: the disk holding its log is full ({e}); free space and retry"
                ),
            ));
        }
        self.remember(run_id);
        let log = self
            .runs
            .get_mut(run_id)
            .filter(|l| l.started)
            .ok_or_else(|| err(Code::NotFound, format!("run {run_id:?} does not exist")))?;
        if log.removing {
            return Err(err(Code::Unavailable, format!("run {run_id}: {REMOVING}")));
        }
        if let Some(reason) = &log.poisoned {
            return Err(err(
                Code::Unavailable,
                format!(
                    "run {run_id}: its log failed earlier ({reason}); restart the daemon after checking the disk"
                ),
            ));
        }
        let first = log.writers.get(&0).copied().unwrap_or(0) + 1;
        let records: Vec<Record> = payloads
            .into_iter()
            .zip(first..)
            .map(|(payload, seq)| Record {
                run_id: run_id.to_string(),
                writer_id: 0,
                seq,
                timestamp_us,
                payload: Some(payload),
            })
            .collect();
        let Some(last) = records.last().map(|r| r.seq) else {
            return Ok(WriteOk::default());
        };
        let exits = records
            .iter()
            .any(|r| matches!(r.payload, Some(Payload::Exit(_))));
        match log.writer.append(&encode_records(&records)) {
            Ok(pos) => {
                log.writers.insert(0, last);
                log.exited |= exits;
                frames.push(DurableFrame {
                    run_id: run_id.to_string(),
                    frame_end: pos.end,
                    records,
                });
                Ok(WriteOk {
                    acks: vec![(run_id.to_string(), 0, last)],
                    duplicates: 0,
                })
            }
            Err(e @ LogError::NoSpace { .. }) => Err(self.disk_full(run_id, &e)),
            Err(e) => {
                log.poisoned = Some(e.to_string());
                self.core.set_error(format!("run {run_id}: {e}"));
                Err(err(
                    Code::Unavailable,
                    format!("run {run_id}: writing its log failed: {e}"),
                ))
            }
        }
    }
}

/// Most threads used to fdatasync the logs of one group at once.
const SYNC_THREADS: usize = 16;

/// fdatasyncs every log; returns the ones that failed with their error.
fn sync_all(mut logs: Vec<(&String, &mut RunLog)>) -> Vec<(String, LogError)> {
    if logs.len() <= 2 {
        return logs
            .into_iter()
            .filter_map(|(id, l)| l.writer.sync().err().map(|e| (id.clone(), e)))
            .collect();
    }
    let per_thread = logs.len().div_ceil(SYNC_THREADS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = logs
            .chunks_mut(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter_mut()
                        .filter_map(|(id, l)| l.writer.sync().err().map(|e| ((*id).clone(), e)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![(
                        "?".into(),
                        LogError::Io {
                            path: "?".into(),
                            op: "fdatasync",
                            source: std::io::Error::other("sync thread panicked"),
                        },
                    )]
                })
            })
            .collect()
    })
}

enum WalMsgReply {
    Write(oneshot::Sender<Result<WriteOk, WriteError>>),
    Crashed(oneshot::Sender<bool>, bool),
}

/// Creates a run's directory (fsyncing its parent) and its log.
fn create_log(path: &Path) -> Result<LogWriter, Box<dyn std::error::Error>> {
    let dir = path.parent().ok_or("log path has no parent directory")?;
    if !dir.exists() {
        std::fs::create_dir_all(dir)?;
        if let Some(parent) = dir.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
    }
    // A create that failed earlier (a full disk) may have left a file with
    // at most a header: nothing was acknowledged from it, so it is reused.
    if std::fs::metadata(path).is_ok_and(|m| m.len() <= tracklab_log::HEADER_LEN) {
        return Ok(LogWriter::open(path)?.0);
    }
    Ok(LogWriter::create(path)?)
}

/// Whether an error (or one of its sources) is a full disk or quota.
fn no_space_in(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        {
            return true;
        }
        if matches!(c.downcast_ref::<LogError>(), Some(LogError::NoSpace { .. })) {
            return true;
        }
        cur = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracklab_store::{DataDir, Store};

    struct Setup {
        _tmp: tempfile::TempDir,
        wal: Wal,
        _apply_rx: mpsc::Receiver<ApplyMsg>,
    }

    fn setup() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::new(tmp.path());
        let store = Store::open(&data.store_dir(), 1 << 20).unwrap();
        let blobs = tracklab_blobs::BlobStore::open(&data.blobs_dir()).unwrap();
        let core = Arc::new(Core::new(data, store, blobs, "127.0.0.1:0".into()));
        let (apply_tx, apply_rx) = mpsc::sync_channel(64);
        Setup {
            wal: Wal::new(core, Vec::new(), apply_tx),
            _tmp: tmp,
            _apply_rx: apply_rx,
        }
    }

    fn record(seq: u64, payload: Payload) -> Record {
        Record {
            run_id: "r1".into(),
            writer_id: 7,
            seq,
            timestamp_us: 1,
            payload: Some(payload),
        }
    }

    /// Commits one write as its own group; the reply once it is durable.
    fn write(wal: &mut Wal, records: Vec<Record>) -> Result<WriteOk, WriteError> {
        let (reply, mut rx) = oneshot::channel();
        wal.commit_group(vec![WalMsg::Write { records, reply }]);
        rx.try_recv().expect("replied when the group is durable")
    }

    fn forget(wal: &mut Wal, group: Vec<WalMsg>, expected_end: u64) -> Result<(), String> {
        let (reply, mut rx) = oneshot::channel();
        let mut group = group;
        group.push(WalMsg::Forget {
            run_id: "r1".into(),
            expected_end,
            reply,
        });
        wal.commit_group(group);
        rx.try_recv().expect("forget replied")
    }

    fn history(seq: u64) -> Record {
        record(
            seq,
            Payload::History(v1::PartialHistory {
                items: vec![],
                step: None,
                flush: Some(true),
            }),
        )
    }

    #[test]
    fn gc_keeps_a_run_written_after_its_snapshot_and_refuses_writes_while_removing() {
        let mut s = setup();
        write(
            &mut s.wal,
            vec![record(
                1,
                Payload::RunStart(v1::RunStart {
                    project: "p".into(),
                    ..Default::default()
                }),
            )],
        )
        .unwrap();
        let end = s.wal.runs["r1"].writer.end();

        // The log grew after the snapshot gc looked at: kept.
        write(&mut s.wal, vec![history(2)]).unwrap();
        let why = forget(&mut s.wal, vec![], end).unwrap_err();
        assert!(why.contains("written to after it was deleted"), "{why}");
        let end = s.wal.runs["r1"].writer.end();

        // A write earlier in the same group as the Forget also keeps it.
        let (reply, _rx) = oneshot::channel();
        let earlier = WalMsg::Write {
            records: vec![history(3)],
            reply,
        };
        assert!(forget(&mut s.wal, vec![earlier], end).is_err());
        let end = s.wal.runs["r1"].writer.end();

        // Unchanged since the snapshot: accepted, and writes wait for the gc.
        forget(&mut s.wal, vec![], end).unwrap();
        let e = write(&mut s.wal, vec![history(4)]).unwrap_err();
        assert_eq!(e.code, Code::Unavailable);
        assert!(
            e.message.contains("being removed by `tracklab gc`"),
            "{}",
            e.message
        );
        assert!(!s.wal.mark_crashed("r1", 2, &mut Vec::new()));

        s.wal.commit_group(vec![WalMsg::Release {
            run_id: "r1".into(),
        }]);
        assert!(
            !s.wal.runs.contains_key("r1"),
            "released: the run is forgotten"
        );
    }
}
