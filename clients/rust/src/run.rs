//! A run being logged: enqueue in the caller, batch and re-send in the
//! background until the daemon acknowledges every record as durable.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tracklab_proto::Message;
use tracklab_proto::v1::record::Payload;
use tracklab_proto::v1::{self, IngestRequest, Item, Record};

use crate::{ClientError, Connection, Target, now_us, random_writer_id};

/// Most records in one ingest batch.
const MAX_BATCH: usize = 2048;
/// A batch stops growing at this many encoded bytes (the daemon refuses
/// batches over 16 MiB; one record is at most 4 MiB).
const MAX_BATCH_BYTES: usize = 8 << 20;
/// How long the sender waits after a batch that emptied the queue before
/// it takes the next records (see `Sender::session`).
const LINGER: Duration = Duration::from_millis(1);

/// How a run is started.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub run_id: String,
    pub start: v1::RunStart,
    /// Give up reconnecting after this long without a daemon (default 120 s).
    pub reconnect_timeout: Option<Duration>,
}

/// What `finish` saw.
#[derive(Debug, Clone, Default)]
pub struct FinishReport {
    pub records: u64,
    pub reconnects: u64,
    pub warnings: Vec<v1::Warning>,
}

struct Shared {
    warnings: Mutex<Vec<v1::Warning>>,
    /// Why the sender stopped: the daemon's refusal (with its status code),
    /// or `None` as the code when the daemon stayed unreachable.
    fatal: Mutex<Option<(Option<Code>, String)>>,
    /// Why records are not being acknowledged right now (the daemon is
    /// unreachable, or its disk is full), while the sender keeps retrying.
    problem: Mutex<Option<String>>,
    reconnects: AtomicU64,
}

impl Shared {
    /// The sender's end as an error: the daemon's status when it refused.
    fn fatal_error(&self) -> Option<ClientError> {
        let f = self.fatal.lock().ok().and_then(|f| f.clone())?;
        Some(match f {
            (Some(code), msg) => ClientError::Status(tonic::Status::new(code, msg)),
            (None, msg) => ClientError::Sender(msg),
        })
    }
}

/// Reads a run's current delivery problem (see [`Run::delivery_watch`]).
#[derive(Clone)]
pub struct DeliveryWatch {
    shared: Arc<Shared>,
}

impl DeliveryWatch {
    /// The same as [`Run::delivery_problem`].
    pub fn problem(&self) -> Option<String> {
        self.shared.problem.lock().ok().and_then(|p| p.clone())
    }
}

/// Waits until a record of a run is durable (see [`Run::waiter`]).
pub struct DurableWaiter {
    durable: watch::Receiver<u64>,
    shared: Arc<Shared>,
}

impl DurableWaiter {
    /// Returns once record `seq` is durable, or with the reason it never
    /// will be (the daemon refused the run, or stayed unreachable).
    pub async fn wait(mut self, seq: u64) -> Result<(), ClientError> {
        loop {
            if *self.durable.borrow_and_update() >= seq {
                return Ok(());
            }
            if let Some(e) = self.shared.fatal_error() {
                return Err(e);
            }
            if self.durable.changed().await.is_err() {
                if *self.durable.borrow() >= seq {
                    return Ok(());
                }
                return Err(self.shared.fatal_error().unwrap_or_else(|| {
                    ClientError::Sender("the background sender stopped".into())
                }));
            }
        }
    }
}

/// A run being logged. Cheap calls: `log` and `send` only enqueue.
pub struct Run {
    run_id: String,
    writer_id: u64,
    next_seq: u64,
    tx: Option<mpsc::UnboundedSender<Record>>,
    durable: watch::Receiver<u64>,
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<Vec<Record>>>,
    stop: watch::Sender<bool>,
}

impl Run {
    /// Starts (or resumes) a run and returns once its start is durable.
    pub async fn start(target: Target, opts: RunOptions) -> Result<Run, ClientError> {
        let writer_id = random_writer_id();
        let (tx, rx) = mpsc::unbounded_channel();
        let (durable_tx, durable) = watch::channel(0u64);
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            warnings: Mutex::new(Vec::new()),
            fatal: Mutex::new(None),
            problem: Mutex::new(None),
            reconnects: AtomicU64::new(0),
        });
        let sender = Sender {
            target,
            writer_id,
            rx,
            durable: durable_tx,
            shared: shared.clone(),
            unacked: VecDeque::new(),
            next_batch: 1,
            reconnect_timeout: opts.reconnect_timeout.unwrap_or(Duration::from_secs(120)),
            stop: stop_rx,
        };
        let task = tokio::spawn(sender.run());
        let mut start = opts.start;
        if start.pid == 0 {
            start.pid = std::process::id();
        }
        let mut run = Run {
            run_id: opts.run_id,
            writer_id,
            next_seq: 1,
            tx: Some(tx),
            durable,
            shared,
            task: Some(task),
            stop,
        };
        let seq = run.send(Payload::RunStart(start))?;
        run.wait_durable(seq).await?;
        Ok(run)
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn writer_id(&self) -> u64 {
        self.writer_id
    }

    /// Enqueues a record; returns its sequence number.
    pub fn send(&mut self, payload: Payload) -> Result<u64, ClientError> {
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
            .ok_or_else(|| ClientError::Sender("the run is finished".into()))?
            .send(rec)
            .map_err(|_| ClientError::Sender(self.fatal().unwrap_or_else(|| "stopped".into())))?;
        self.next_seq += 1;
        Ok(seq)
    }

    /// `wandb.log(items, step=, commit=)`.
    pub fn log(
        &mut self,
        items: Vec<Item>,
        step: Option<i64>,
        flush: Option<bool>,
    ) -> Result<u64, ClientError> {
        self.send(Payload::History(v1::PartialHistory { items, step, flush }))
    }

    /// Highest sequence number acknowledged as durable.
    pub fn durable_seq(&self) -> u64 {
        *self.durable.borrow()
    }

    /// A receiver that sees the durable sequence number change.
    pub fn durable_watch(&self) -> watch::Receiver<u64> {
        self.durable.clone()
    }

    /// Highest sequence number enqueued.
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    pub fn warnings(&self) -> Vec<v1::Warning> {
        self.shared
            .warnings
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default()
    }

    fn fatal(&self) -> Option<String> {
        self.shared.fatal_error().map(|e| e.to_string())
    }

    /// Why records are waiting for acknowledgement right now (no daemon, or
    /// the daemon's disk is full), while the sender retries; `None` once
    /// acknowledgements flow again.
    pub fn delivery_problem(&self) -> Option<String> {
        self.shared.problem.lock().ok().and_then(|p| p.clone())
    }

    /// A handle that reads [`delivery_problem`](Self::delivery_problem)
    /// from anywhere, also while `finish` owns the run.
    pub fn delivery_watch(&self) -> DeliveryWatch {
        DeliveryWatch {
            shared: self.shared.clone(),
        }
    }

    /// Something that waits for durability without borrowing the run, so
    /// that other threads can keep logging meanwhile.
    pub fn waiter(&self) -> DurableWaiter {
        DurableWaiter {
            durable: self.durable.clone(),
            shared: self.shared.clone(),
        }
    }

    /// Waits until record `seq` is durable.
    pub async fn wait_durable(&mut self, seq: u64) -> Result<(), ClientError> {
        self.waiter().wait(seq).await
    }

    /// Waits until everything enqueued so far is durable.
    pub async fn flush(&mut self) -> Result<(), ClientError> {
        self.wait_durable(self.last_seq()).await
    }

    /// Sends the exit record and waits until every record is durable.
    pub async fn finish(self, exit_code: i32) -> Result<FinishReport, ClientError> {
        self.finish_within(exit_code, Duration::MAX)
            .await
            .map_err(|(e, _)| e)
    }
}

impl Run {
    /// Stops delivering and returns every record the daemon has not
    /// acknowledged (also those still queued), in sequence order, so the
    /// caller can keep them elsewhere (the Python SDK writes them to an
    /// offline log for `tracklab sync`). Some may in fact be durable (their
    /// ack was lost): importing them again changes nothing.
    pub async fn abandon(mut self) -> Vec<Record> {
        self.tx.take();
        let _ = self.stop.send(true);
        match self.task.take() {
            Some(t) => t.await.unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// `finish`, but if the daemon has not acknowledged everything within
    /// `timeout`, gives up and returns the unacknowledged records instead.
    pub async fn finish_within(
        mut self,
        exit_code: i32,
        timeout: Duration,
    ) -> Result<FinishReport, (ClientError, Vec<Record>)> {
        let seq = match self.send(Payload::Exit(v1::RunExit {
            exit_code,
            crashed: false,
        })) {
            Ok(seq) => seq,
            Err(e) => return Err((e, self.abandon().await)),
        };
        let waited = tokio::time::timeout(timeout, self.wait_durable(seq)).await;
        match waited {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err((e, self.abandon().await)),
            Err(_) => {
                let e = ClientError::Timeout {
                    secs: timeout.as_secs(),
                    what: "acknowledgement of every record".into(),
                };
                return Err((e, self.abandon().await));
            }
        }
        self.tx.take();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        Ok(FinishReport {
            records: seq,
            reconnects: self.shared.reconnects.load(Ordering::Relaxed),
            warnings: self.warnings(),
        })
    }
}

/// The background task that owns the ingest stream.
struct Sender {
    target: Target,
    writer_id: u64,
    rx: mpsc::UnboundedReceiver<Record>,
    durable: watch::Sender<u64>,
    shared: Arc<Shared>,
    unacked: VecDeque<Record>,
    next_batch: u64,
    reconnect_timeout: Duration,
    /// Set by `Run::abandon`: stop at once and hand back what is unacked.
    stop: watch::Receiver<bool>,
}

/// Splits records, in order, into batches of at most MAX_BATCH records that
/// stop growing at MAX_BATCH_BYTES.
fn batches(records: Vec<Record>) -> Vec<Vec<Record>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for r in records {
        bytes += r.encoded_len();
        current.push(r);
        if current.len() >= MAX_BATCH || bytes >= MAX_BATCH_BYTES {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Errors after which re-sending cannot help.
fn is_fatal(code: Code) -> bool {
    matches!(
        code,
        Code::InvalidArgument
            | Code::FailedPrecondition
            | Code::NotFound
            | Code::AlreadyExists
            | Code::Unauthenticated
            | Code::PermissionDenied
            | Code::OutOfRange
    )
}

impl Sender {
    /// Delivers every record; returns those it could not (when it stopped
    /// on a refusal, after `reconnect_timeout`, or when abandoned).
    async fn run(mut self) -> Vec<Record> {
        self.deliver().await;
        // Whatever is still unacknowledged or queued, in sequence order.
        let mut left: Vec<Record> = std::mem::take(&mut self.unacked).into();
        while let Ok(r) = self.rx.try_recv() {
            left.push(r);
        }
        left
    }

    async fn deliver(&mut self) {
        let mut input_closed = false;
        let mut down_since: Option<Instant> = None;
        let mut backoff = Duration::from_millis(20);
        let mut stop = self.stop.clone();
        loop {
            if input_closed && self.unacked.is_empty() {
                return;
            }
            let ended = tokio::select! {
                r = self.session(&mut input_closed) => r,
                _ = stop.wait_for(|s| *s) => return,
            };
            match ended {
                Ok(()) => return,
                Err(SessionEnd::Fatal(code, msg)) => {
                    tracing::error!(error = %msg, "tracklab: the daemon refused the run's records");
                    if let Ok(mut f) = self.shared.fatal.lock() {
                        *f = Some((Some(code), msg));
                    }
                    return;
                }
                Err(SessionEnd::Retry(msg)) => {
                    if let Ok(mut p) = self.shared.problem.lock()
                        && p.as_deref() != Some(msg.as_str())
                    {
                        tracing::warn!(error = %msg, "tracklab: records are not being acknowledged; retrying");
                        *p = Some(msg.clone());
                    }
                    let since = *down_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > self.reconnect_timeout {
                        let msg = format!(
                            "no daemon for {} s ({msg}); {} records were not acknowledged",
                            self.reconnect_timeout.as_secs(),
                            self.unacked.len()
                        );
                        if let Ok(mut f) = self.shared.fatal.lock() {
                            *f = Some((None, msg));
                        }
                        return;
                    }
                    tracing::debug!(error = %msg, "tracklab: reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.wait_for(|s| *s) => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                    continue;
                }
                Err(SessionEnd::Connected) => {}
            }
            down_since = None;
            backoff = Duration::from_millis(20);
            self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn batch(&mut self, records: Vec<Record>) -> IngestRequest {
        let batch_id = self.next_batch;
        self.next_batch += 1;
        IngestRequest {
            batch_id,
            records,
            import: false,
        }
    }

    /// One connection's life. `Err(Connected)` means the stream was up and
    /// then broke: reconnect at once.
    async fn session(&mut self, input_closed: &mut bool) -> Result<(), SessionEnd> {
        let conn = Connection::connect_target(&self.target)
            .await
            .map_err(|e| SessionEnd::Retry(e.to_string()))?;
        let (req_tx, req_rx) = mpsc::channel::<IngestRequest>(64);
        let mut responses = match conn.ingest().stream(ReceiverStream::new(req_rx)).await {
            Ok(r) => r.into_inner(),
            Err(s) if is_fatal(s.code()) => {
                return Err(SessionEnd::Fatal(s.code(), s.message().to_string()));
            }
            Err(s) => return Err(SessionEnd::Retry(s.to_string())),
        };
        // Re-send everything not yet acknowledged, in order.
        let resend: Vec<Record> = self.unacked.iter().cloned().collect();
        for chunk in batches(resend) {
            let b = self.batch(chunk);
            if req_tx.send(b).await.is_err() {
                return Err(SessionEnd::Connected);
            }
        }
        let mut req_tx = Some(req_tx);
        // After a small batch, wait LINGER before taking the next one: the
        // caller's `log()` then finds no parked task to wake (no syscall),
        // and the next batch is bigger.
        let mut linger: Option<tokio::time::Instant> = None;
        loop {
            if *input_closed && self.unacked.is_empty() {
                return Ok(());
            }
            tokio::select! {
                _ = async { if let Some(t) = linger { tokio::time::sleep_until(t).await } }, if linger.is_some() => {
                    linger = None;
                }
                rec = self.rx.recv(), if linger.is_none() && !*input_closed && req_tx.is_some() => {
                    let Some(rec) = rec else {
                        *input_closed = true;
                        continue;
                    };
                    let mut bytes = rec.encoded_len();
                    let mut records = vec![rec];
                    while records.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                        match self.rx.try_recv() {
                            Ok(r) => {
                                bytes += r.encoded_len();
                                records.push(r);
                            }
                            Err(_) => break,
                        }
                    }
                    if records.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                        linger = Some(tokio::time::Instant::now() + LINGER);
                    }
                    self.unacked.extend(records.iter().cloned());
                    let b = self.batch(records);
                    if let Some(tx) = &req_tx
                        && tx.send(b).await.is_err()
                    {
                        req_tx = None;
                    }
                }
                msg = responses.message() => match msg {
                    Ok(Some(resp)) => {
                        for ack in resp.acks {
                            if ack.writer_id == self.writer_id {
                                self.acked(ack.durable_seq);
                            }
                        }
                        if !resp.warnings.is_empty()
                            && let Ok(mut w) = self.shared.warnings.lock()
                        {
                            for warning in &resp.warnings {
                                tracing::warn!(run_id = warning.run_id, seq = warning.seq, "tracklab: {}", warning.message);
                            }
                            w.extend(resp.warnings);
                        }
                    }
                    Ok(None) => return Err(SessionEnd::Connected),
                    Err(s) if is_fatal(s.code()) => return Err(SessionEnd::Fatal(s.code(), s.message().to_string())),
                    // The daemon is up but cannot store records now (a full
                    // disk): back off and re-send, rather than reconnect at once.
                    Err(s) if s.code() == Code::ResourceExhausted => {
                        return Err(SessionEnd::Retry(s.message().to_string()));
                    }
                    Err(_) => return Err(SessionEnd::Connected),
                },
            }
        }
    }

    fn acked(&mut self, seq: u64) {
        while self.unacked.front().is_some_and(|r| r.seq <= seq) {
            self.unacked.pop_front();
        }
        if let Ok(mut p) = self.shared.problem.lock()
            && p.take().is_some()
        {
            tracing::info!("tracklab: records are acknowledged again");
        }
        self.durable.send_if_modified(|d| {
            if seq > *d {
                *d = seq;
                true
            } else {
                false
            }
        });
    }
}

enum SessionEnd {
    Retry(String),
    Connected,
    Fatal(Code, String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64, bytes: usize) -> Record {
        Record {
            run_id: "r".into(),
            writer_id: 1,
            seq,
            timestamp_us: 0,
            payload: Some(Payload::Output(v1::ConsoleOutput {
                stream: 0,
                lines: vec!["x".repeat(bytes)],
            })),
        }
    }

    #[test]
    fn batches_are_capped_by_count_and_by_bytes_in_order() {
        let small: Vec<Record> = (1..=5000).map(|i| rec(i, 10)).collect();
        let b = batches(small);
        assert_eq!(
            b.iter().map(Vec::len).collect::<Vec<_>>(),
            [2048, 2048, 904]
        );
        let big: Vec<Record> = (1..=10).map(|i| rec(i, 3 << 20)).collect();
        let b = batches(big);
        assert!(
            b.iter()
                .all(|x| x.iter().map(|r| r.encoded_len()).sum::<usize>() < 16 << 20)
        );
        let seqs: Vec<u64> = b.iter().flatten().map(|r| r.seq).collect();
        assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    }
}
