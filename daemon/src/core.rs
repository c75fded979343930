//! State shared by the gRPC services and the daemon's threads.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, broadcast, mpsc as tmpsc, oneshot, watch};
use tonic::Status;
use tracklab_proto::v1;
use tracklab_state::Warning;
use tracklab_store::{DataDir, Store, StoredRun};

use crate::apply_thread::ApplyMsg;
use crate::wal::{WalMsg, WriteError, WriteOk};

/// How long a query waits for the applier to reach the durable position.
const APPLY_WAIT: Duration = Duration::from_secs(60);
/// Run changes buffered for slow dashboard listeners before they lag (a
/// lagging listener reloads every run instead).
const RUN_EVENTS: usize = 4096;

/// What the applier published, for live listeners (the dashboard's SSE).
#[derive(Clone, Debug, PartialEq)]
pub enum RunEvent {
    /// The run's published state changed (or it is new).
    Changed(Arc<str>),
    /// gc removed the run.
    Removed(Arc<str>),
    /// Every run was republished (a rebuild).
    All,
}

pub struct Core {
    pub data: DataDir,
    pub store: Store,
    /// Artifact files, saved run files and objects, by SHA-256.
    pub blobs: tracklab_blobs::BlobStore,
    /// Registry changes one at a time (version numbers are read, then
    /// appended).
    pub registry_lock: tokio::sync::Mutex<()>,
    /// One sweep decision at a time (two agents never get one grid point).
    pub sweeps_lock: tokio::sync::Mutex<()>,
    pub started: Instant,
    pub address: String,
    /// Group commits made durable so far.
    pub durable_position: AtomicU64,
    /// Group commits applied and committed to the store so far.
    pub applied: watch::Sender<u64>,
    /// Set by a query that waits for the applier to commit.
    pub commit_wanted: AtomicBool,
    wal_tx: Mutex<Option<mpsc::Sender<WalMsg>>>,
    apply_tx: Mutex<Option<mpsc::SyncSender<ApplyMsg>>>,
    runs: RwLock<BTreeMap<String, Arc<StoredRun>>>,
    /// Streams that want the warnings of a writer.
    warning_routes: Mutex<HashMap<u64, tmpsc::UnboundedSender<v1::Warning>>>,
    /// Open ingest streams per run: a run with one is not crashed.
    active: Mutex<HashMap<String, usize>>,
    last_error: Mutex<Option<String>>,
    /// Set while a run log cannot grow for lack of space; cleared by the
    /// next group commit that writes without hitting a full disk.
    disk_full: Mutex<Option<String>>,
    problems: Mutex<Vec<String>>,
    /// Records waiting for the applier.
    pub backlog: Backlog,
    pub liveness_kick: Notify,
    pub shutdown: Notify,
    events: broadcast::Sender<RunEvent>,
}

impl Core {
    pub fn new(
        data: DataDir,
        store: Store,
        blobs: tracklab_blobs::BlobStore,
        address: String,
    ) -> Self {
        Self {
            data,
            store,
            blobs,
            registry_lock: tokio::sync::Mutex::new(()),
            sweeps_lock: tokio::sync::Mutex::new(()),
            started: Instant::now(),
            address,
            durable_position: AtomicU64::new(0),
            applied: watch::channel(0).0,
            commit_wanted: AtomicBool::new(false),
            wal_tx: Mutex::new(None),
            apply_tx: Mutex::new(None),
            runs: RwLock::new(BTreeMap::new()),
            warning_routes: Mutex::new(HashMap::new()),
            active: Mutex::new(HashMap::new()),
            last_error: Mutex::new(None),
            disk_full: Mutex::new(None),
            problems: Mutex::new(Vec::new()),
            backlog: Backlog::default(),
            liveness_kick: Notify::new(),
            shutdown: Notify::new(),
            events: broadcast::channel(RUN_EVENTS).0,
        }
    }

    pub fn connect_threads(&self, wal: mpsc::Sender<WalMsg>, apply: mpsc::SyncSender<ApplyMsg>) {
        *lock(&self.wal_tx) = Some(wal);
        *lock(&self.apply_tx) = Some(apply);
    }

    /// Drops the channels to the threads so that they finish and exit.
    pub fn disconnect_threads(&self) {
        lock(&self.wal_tx).take();
        lock(&self.apply_tx).take();
    }

    fn wal(&self) -> Result<mpsc::Sender<WalMsg>, Status> {
        lock(&self.wal_tx).clone().ok_or_else(|| {
            Status::unavailable("the daemon is shutting down; retry after it restarts")
        })
    }

    /// Sends a batch to the WAL writer; resolves when it is durable.
    pub fn write(
        &self,
        records: Vec<v1::Record>,
    ) -> Result<oneshot::Receiver<Result<WriteOk, WriteError>>, Status> {
        let (reply, rx) = oneshot::channel();
        self.wal()?
            .send(WalMsg::Write { records, reply })
            .map_err(|_| Status::unavailable("the WAL writer has stopped; restart the daemon"))?;
        Ok(rx)
    }

    pub async fn mark_crashed(&self, run_id: &str) -> bool {
        let (reply, rx) = oneshot::channel();
        let Ok(wal) = self.wal() else { return false };
        let msg = WalMsg::MarkCrashed {
            run_id: run_id.to_string(),
            timestamp_us: now_us(),
            reply,
        };
        if wal.send(msg).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Appends records of the daemon's own to a started run; resolves when
    /// they are durable.
    pub async fn append(
        &self,
        run_id: &str,
        payloads: Vec<v1::record::Payload>,
    ) -> Result<WriteOk, Status> {
        let (reply, rx) = oneshot::channel();
        self.wal()?
            .send(WalMsg::Append {
                run_id: run_id.to_string(),
                timestamp_us: now_us(),
                payloads,
                reply,
            })
            .map_err(|_| Status::unavailable("the WAL writer has stopped; restart the daemon"))?;
        rx.await
            .map_err(|_| Status::unavailable("the daemon stopped before the change was durable"))?
            .map_err(Status::from)
    }

    /// Asks the WAL writer to stop writing a deleted run's log for `gc`, if
    /// it still ends at `expected_end`; `Ok(Err(why))` when it does not.
    pub async fn forget_log(
        &self,
        run_id: &str,
        expected_end: u64,
    ) -> Result<Result<(), String>, Status> {
        let (reply, rx) = oneshot::channel();
        self.wal()?
            .send(WalMsg::Forget {
                run_id: run_id.to_string(),
                expected_end,
                reply,
            })
            .map_err(|_| Status::unavailable("the WAL writer has stopped; restart the daemon"))?;
        rx.await
            .map_err(|_| Status::unavailable("the WAL writer stopped"))
    }

    /// Ends a `forget_log`: the WAL writer closes the log and forgets the run.
    pub fn release_log(&self, run_id: &str) {
        if let Ok(wal) = self.wal() {
            let _ = wal.send(WalMsg::Release {
                run_id: run_id.to_string(),
            });
        }
    }

    /// Removes a run from the store (after its log is gone).
    pub async fn forget_state(&self, run_id: &str) -> Result<(), Status> {
        let (reply, rx) = oneshot::channel();
        let tx = lock(&self.apply_tx)
            .clone()
            .ok_or_else(|| Status::unavailable("the daemon is shutting down"))?;
        let msg = ApplyMsg::Forget {
            run_id: run_id.to_string(),
            reply,
        };
        tokio::task::spawn_blocking(move || tx.send(msg))
            .await
            .map_err(|e| Status::internal(format!("removing the run failed: {e}")))?
            .map_err(|_| Status::unavailable("the applier has stopped; restart the daemon"))?;
        rx.await
            .map_err(|_| Status::internal("the applier stopped while removing a run"))?
            .map_err(|e| {
                Status::internal(format!("removing run {run_id} from the store failed: {e}"))
            })
    }

    pub async fn rebuild(&self) -> Result<tracklab_store::replay::ReplayReport, Status> {
        let (reply, rx) = oneshot::channel();
        let tx = lock(&self.apply_tx)
            .clone()
            .ok_or_else(|| Status::unavailable("the daemon is shutting down"))?;
        // The channel is bounded: a blocking send stays off the executor.
        tokio::task::spawn_blocking(move || tx.send(ApplyMsg::Rebuild { reply }))
            .await
            .map_err(|e| Status::internal(format!("rebuild request failed: {e}")))?
            .map_err(|_| Status::unavailable("the applier has stopped; restart the daemon"))?;
        rx.await
            .map_err(|_| Status::internal("the applier stopped during the rebuild"))?
            .map_err(|e| Status::internal(format!("rebuild failed: {e}")))
    }

    /// Waits until everything acknowledged before this call is applied.
    pub async fn wait_applied(&self) -> Result<u64, Status> {
        let target = self.durable_position.load(Ordering::SeqCst);
        let mut rx = self.applied.subscribe();
        if *rx.borrow_and_update() < target {
            // Ask the applier to commit now rather than at its interval. If
            // its queue is full it is busy and commits as soon as it drains.
            self.commit_wanted.store(true, Ordering::SeqCst);
            if let Some(tx) = lock(&self.apply_tx).as_ref() {
                let _ = tx.try_send(ApplyMsg::Commit);
            }
        }
        match tokio::time::timeout(APPLY_WAIT, rx.wait_for(|p| *p >= target)).await {
            Ok(Ok(p)) => Ok(*p),
            _ => Err(Status::unavailable(
                "the store is still catching up with the logs; retry in a moment",
            )),
        }
    }

    pub fn publish(&self, run: &StoredRun) {
        let id = run.state.run_id();
        {
            let mut runs = self.runs.write().unwrap_or_else(|e| e.into_inner());
            runs.insert(id.to_string(), Arc::new(run.clone()));
        }
        // No listener is the usual case; a send then does nothing.
        let _ = self.events.send(RunEvent::Changed(id.into()));
    }

    pub fn unpublish(&self, run_id: &str) {
        {
            let mut runs = self.runs.write().unwrap_or_else(|e| e.into_inner());
            runs.remove(run_id);
        }
        let _ = self.events.send(RunEvent::Removed(run_id.into()));
    }

    /// Live run changes, as the applier publishes them.
    pub fn subscribe(&self) -> broadcast::Receiver<RunEvent> {
        self.events.subscribe()
    }

    pub fn publish_all<'a>(&self, all: impl Iterator<Item = &'a StoredRun>) {
        let fresh: BTreeMap<_, _> = all
            .map(|r| (r.state.run_id().to_string(), Arc::new(r.clone())))
            .collect();
        *self.runs.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        let _ = self.events.send(RunEvent::All);
    }

    pub fn run(&self, run_id: &str) -> Option<Arc<StoredRun>> {
        self.runs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(run_id)
            .cloned()
    }

    /// Every run, except the daemon's own logs (model registry, sweeps).
    pub fn all_runs(&self) -> Vec<Arc<StoredRun>> {
        self.runs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|r| {
                let id = r.state.run_id();
                id != tracklab_state::artifact::REGISTRY_RUN_ID
                    && id != tracklab_state::sweep::SWEEPS_RUN_ID
            })
            .cloned()
            .collect()
    }

    pub fn route_warning(&self, run_id: &str, w: Warning) {
        let routes = lock(&self.warning_routes);
        if let Some(tx) = routes.get(&w.writer_id) {
            let _ = tx.send(v1::Warning {
                run_id: run_id.to_string(),
                writer_id: w.writer_id,
                seq: w.seq,
                kind: w.kind,
                message: w.message,
            });
        }
    }

    pub fn add_route(&self, writer_id: u64, tx: tmpsc::UnboundedSender<v1::Warning>) {
        lock(&self.warning_routes).insert(writer_id, tx);
    }

    pub fn remove_route(&self, writer_id: u64) {
        lock(&self.warning_routes).remove(&writer_id);
    }

    pub fn stream_opened(&self, run_id: &str) {
        *lock(&self.active).entry(run_id.to_string()).or_insert(0) += 1;
    }

    pub fn stream_closed(&self, run_id: &str) {
        let mut active = lock(&self.active);
        if let Some(n) = active.get_mut(run_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                active.remove(run_id);
            }
        }
    }

    pub fn has_stream(&self, run_id: &str) -> bool {
        lock(&self.active).contains_key(run_id)
    }

    pub fn set_error(&self, e: String) {
        *lock(&self.last_error) = Some(e);
    }

    /// Replaces the list of damage found in the logs.
    pub fn set_problems(&self, problems: Vec<String>) {
        *lock(&self.problems) = problems;
    }

    pub fn problems(&self) -> Vec<String> {
        lock(&self.problems).clone()
    }

    /// The error that makes the daemon unhealthy: a sticky one (a failed
    /// fsync) first, else a full disk while it lasts.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.last_error)
            .clone()
            .or_else(|| lock(&self.disk_full).clone())
    }

    /// Records whether the disk is full; returns whether it was before.
    pub fn set_disk_full(&self, state: Option<String>) -> bool {
        std::mem::replace(&mut *lock(&self.disk_full), state).is_some()
    }

    /// Whether a write last found the disk full.
    pub fn is_disk_full(&self) -> bool {
        lock(&self.disk_full).is_some()
    }
}

/// A count of records between the WAL writer and the applier, which the
/// WAL writer can wait on (both are plain threads, never the executor).
#[derive(Default)]
pub struct Backlog {
    records: Mutex<usize>,
    below: std::sync::Condvar,
}

impl Backlog {
    pub fn add(&self, n: usize) {
        *lock(&self.records) += n;
    }

    /// Records waiting now.
    pub fn pending(&self) -> usize {
        *lock(&self.records)
    }

    pub fn sub(&self, n: usize) {
        let mut r = lock(&self.records);
        *r = r.saturating_sub(n);
        self.below.notify_all();
    }

    /// Blocks until fewer than `limit` records wait (at most 5 s, so a
    /// stuck applier cannot stop acknowledgements for good).
    pub fn wait_below(&self, limit: usize) {
        let guard = lock(&self.records);
        let _ = self
            .below
            .wait_timeout_while(guard, Duration::from_secs(5), |r| *r >= limit);
    }
}

/// Locks a std mutex, recovering the data if a panicking thread poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}
