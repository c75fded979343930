//! Offline runs: the same run-log format the daemon writes (format v1 from
//! `tracklab-log`, frame payloads from `tracklab_proto::codec`), written by
//! this process into the run's own directory, for `tracklab sync` to import
//! later. Used with `mode="offline"` and when no daemon can be reached.
//!
//! A writer thread takes the records `log()` enqueues, appends one frame per
//! batch, fdatasyncs at most once a second and at `sync`/`finish`, and
//! applies every record to a local `RunState` (the daemon's own pure apply),
//! so that `run.summary` reads work offline too.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracklab_client::{now_us, random_writer_id};
use tracklab_log::LogWriter;
use tracklab_proto::Message;
use tracklab_proto::codec::encode_records;
use tracklab_proto::v1::{Record, record::Payload};
use tracklab_state::{RunState, apply};

/// Most records in one frame.
const MAX_FRAME_RECORDS: usize = 4096;
/// A frame stops growing at this many encoded bytes (frames are at most
/// 32 MiB; one record is at most 4 MiB).
const MAX_FRAME_BYTES: usize = 8 << 20;
/// Longest time written frames wait for their fdatasync.
const SYNC_EVERY: Duration = Duration::from_secs(1);

// Records are the hot path: boxing each one would cost an allocation per
// `log()`; the rare `Sync` message pays the size instead.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Record(Record),
    /// fdatasync, then answer.
    Sync(mpsc::SyncSender<Result<(), String>>),
}

pub struct OfflineLog {
    pub path: PathBuf,
    pub run_id: String,
    pub writer_id: u64,
    next_seq: u64,
    tx: Option<mpsc::Sender<Msg>>,
    thread: Option<JoinHandle<Result<(), String>>>,
    pub state: Arc<Mutex<RunState>>,
}

fn write_frame(
    log: &mut LogWriter,
    state: &Mutex<RunState>,
    batch: &mut Vec<Record>,
) -> Result<bool, String> {
    if batch.is_empty() {
        return Ok(false);
    }
    log.append(&encode_records(batch.iter()))
        .map_err(|e| e.to_string())?;
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    for r in batch.drain(..) {
        apply(&mut st, &r);
    }
    Ok(true)
}

fn writer_loop(
    mut log: LogWriter,
    rx: mpsc::Receiver<Msg>,
    state: Arc<Mutex<RunState>>,
) -> Result<(), String> {
    let mut batch = Vec::new();
    let mut batch_bytes = 0usize;
    let mut last_sync = Instant::now();
    let mut dirty = false;
    loop {
        let first = if dirty {
            match rx.recv_timeout(SYNC_EVERY.saturating_sub(last_sync.elapsed())) {
                Ok(m) => Some(m),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => break,
            }
        };
        let mut pending = first.into_iter().collect::<Vec<_>>();
        while pending.len() < MAX_FRAME_RECORDS {
            match rx.try_recv() {
                Ok(m) => pending.push(m),
                Err(_) => break,
            }
        }
        for m in pending {
            match m {
                Msg::Record(r) => {
                    batch_bytes += r.encoded_len();
                    batch.push(r);
                    if batch.len() >= MAX_FRAME_RECORDS || batch_bytes >= MAX_FRAME_BYTES {
                        dirty |= write_frame(&mut log, &state, &mut batch)?;
                        batch_bytes = 0;
                    }
                }
                Msg::Sync(reply) => {
                    batch_bytes = 0;
                    let r = write_frame(&mut log, &state, &mut batch)
                        .and_then(|_| log.sync().map_err(|e| e.to_string()));
                    dirty = false;
                    last_sync = Instant::now();
                    let _ = reply.send(r);
                }
            }
        }
        dirty |= write_frame(&mut log, &state, &mut batch)?;
        batch_bytes = 0;
        if dirty && last_sync.elapsed() >= SYNC_EVERY {
            log.sync().map_err(|e| e.to_string())?;
            last_sync = Instant::now();
            dirty = false;
        }
    }
    write_frame(&mut log, &state, &mut batch)?;
    log.sync().map_err(|e| e.to_string())
}

impl OfflineLog {
    /// Creates the log at `path` (its directory too) and starts the writer.
    pub fn create(path: &Path, run_id: &str) -> Result<OfflineLog, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let log = LogWriter::create(path).map_err(|e| e.to_string())?;
        let state = Arc::new(Mutex::new(RunState::new(run_id)));
        let (tx, rx) = mpsc::channel();
        let st = state.clone();
        let thread = std::thread::Builder::new()
            .name("tracklab-offline".into())
            .spawn(move || writer_loop(log, rx, st))
            .map_err(|e| format!("cannot start the offline writer thread: {e}"))?;
        Ok(OfflineLog {
            path: path.to_path_buf(),
            run_id: run_id.to_string(),
            writer_id: random_writer_id(),
            next_seq: 1,
            tx: Some(tx),
            thread: Some(thread),
            state,
        })
    }

    /// Enqueues a record; returns its sequence number.
    pub fn send(&mut self, payload: Payload) -> Result<u64, String> {
        let seq = self.next_seq;
        let rec = Record {
            run_id: self.run_id.clone(),
            writer_id: self.writer_id,
            seq,
            timestamp_us: now_us(),
            payload: Some(payload),
        };
        self.tx
            .as_ref()
            .ok_or("the offline run is finished")?
            .send(Msg::Record(rec))
            .map_err(|_| self.stopped())?;
        self.next_seq += 1;
        Ok(seq)
    }

    fn stopped(&mut self) -> String {
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => format!(
                "writing the offline log {} failed: {e}",
                self.path.display()
            ),
            _ => format!("the offline writer of {} stopped", self.path.display()),
        }
    }

    /// Enqueues a record as it is (its own writer and sequence): the
    /// unacknowledged tail of an online run.
    pub fn send_record(&mut self, rec: Record) -> Result<(), String> {
        self.tx
            .as_ref()
            .ok_or("the offline run is finished")?
            .send(Msg::Record(rec))
            .map_err(|_| self.stopped())
    }

    /// Asks the writer to write and fdatasync everything enqueued so far;
    /// the answer arrives on the returned receiver (wait for it without
    /// holding any lock the caller's other threads need).
    pub fn request_sync(&self) -> Result<mpsc::Receiver<Result<(), String>>, String> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.tx
            .as_ref()
            .ok_or("the offline run is finished")?
            .send(Msg::Sync(reply))
            .map_err(|_| format!("the offline writer of {} stopped", self.path.display()))?;
        Ok(rx)
    }

    /// Stops the writer after everything is written and synced.
    pub fn close(&mut self) -> Result<u64, String> {
        self.tx.take();
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r.map(|()| self.next_seq - 1),
            Some(Err(_)) => Err("the offline writer thread panicked".into()),
            None => Err("the offline run is already finished".into()),
        }
    }
}
