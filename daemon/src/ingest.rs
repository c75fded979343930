//! The Ingest service: one bidirectional stream per client attachment.
//!
//! Each batch is validated (structure, sizes, names), sent to the WAL writer,
//! and acknowledged in order once durable. Batches are pipelined: several can
//! wait for their group commit at once. Apply warnings (dropped steps) for
//! the stream's writers are pushed back on the same stream.

use std::collections::{BTreeSet, HashSet};
use std::pin::Pin;
use std::sync::Arc;

use futures::stream::{FuturesOrdered, StreamExt};
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracklab_proto::v1::ingest_server::Ingest;
use tracklab_proto::v1::{IngestRequest, IngestResponse, WriterAck};
use tracklab_state::validate::{validate_client_record, validate_record};

use crate::core::Core;

pub use tracklab_state::validate::MAX_RECORD_BYTES;
/// Largest batch accepted, in records and in encoded bytes.
pub const MAX_BATCH_RECORDS: usize = 100_000;
pub const MAX_BATCH_BYTES: usize = 16 << 20;
/// Batches of one stream waiting for their group commit at once.
const MAX_IN_FLIGHT: usize = 2;

pub struct IngestService {
    pub core: Arc<Core>,
}

type RespStream = Pin<Box<dyn futures::Stream<Item = Result<IngestResponse, Status>> + Send>>;

/// Checks a batch before anything is written; the error names the record
/// and the field.
pub fn check_batch(req: &IngestRequest) -> Result<(), Status> {
    if req.records.len() > MAX_BATCH_RECORDS {
        return Err(Status::invalid_argument(format!(
            "batch {} has {} records; the limit is {MAX_BATCH_RECORDS}: send smaller batches",
            req.batch_id,
            req.records.len()
        )));
    }
    let mut total = 0;
    for (i, rec) in req.records.iter().enumerate() {
        let size = rec.encoded_len();
        if size > MAX_RECORD_BYTES {
            return Err(Status::invalid_argument(format!(
                "record {i} (run {}, seq {}) is {size} bytes; the limit is {MAX_RECORD_BYTES}: log large objects as files",
                rec.run_id, rec.seq
            )));
        }
        total += size;
        if total > MAX_BATCH_BYTES {
            return Err(Status::invalid_argument(format!(
                "batch {} is over {MAX_BATCH_BYTES} bytes: send smaller batches",
                req.batch_id
            )));
        }
        let checked = if req.import {
            validate_record(rec)
        } else {
            validate_client_record(rec)
        };
        checked.map_err(|e| {
            Status::invalid_argument(format!(
                "record {i} (run {:?}, writer {:016x}, seq {}): {e}",
                rec.run_id, rec.writer_id, rec.seq
            ))
        })?;
    }
    Ok(())
}

/// Whether a batch has records that name blobs.
fn names_blobs(records: &[tracklab_proto::v1::Record]) -> bool {
    use tracklab_proto::v1::record::Payload;
    records.iter().any(|r| match &r.payload {
        Some(Payload::Artifact(_)) => true,
        Some(Payload::Files(f)) => f.files.iter().any(|e| !e.digest.is_empty()),
        _ => false,
    })
}

#[tonic::async_trait]
impl Ingest for IngestService {
    type StreamStream = RespStream;

    async fn stream(
        &self,
        request: Request<Streaming<IngestRequest>>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        let inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(64);
        let core = self.core.clone();
        tokio::spawn(async move {
            let mut session = Session {
                core: core.clone(),
                writers: HashSet::new(),
                runs: BTreeSet::new(),
            };
            session.serve(inbound, tx).await;
            session.close();
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// One ingest stream's bookkeeping.
struct Session {
    core: Arc<Core>,
    writers: HashSet<u64>,
    runs: BTreeSet<String>,
}

type Pending = Pin<Box<dyn futures::Future<Output = Result<IngestResponse, Status>> + Send>>;

impl Session {
    async fn serve(
        &mut self,
        mut inbound: Streaming<IngestRequest>,
        tx: mpsc::Sender<Result<IngestResponse, Status>>,
    ) {
        let (warn_tx, mut warn_rx) = mpsc::unbounded_channel();
        let mut in_flight: FuturesOrdered<Pending> = FuturesOrdered::new();
        let mut inbound_done = false;
        loop {
            tokio::select! {
                msg = inbound.message(), if !inbound_done && in_flight.len() < MAX_IN_FLIGHT => {
                    match msg {
                        Ok(Some(req)) => {
                            if let Err(status) = check_batch(&req) {
                                let _ = tx.send(Err(status)).await;
                                return;
                            }
                            if names_blobs(&req.records) {
                                // Rare (artifacts, saved files): the blob
                                // check stats files, off the executor.
                                let blobs = self.core.blobs.clone();
                                let records = req.records.clone();
                                let checked = tokio::task::spawn_blocking(move || {
                                    crate::blobs::check_named_blobs(&blobs, &records)
                                })
                                .await
                                .unwrap_or_else(|e| Err(Status::internal(format!("blob check failed: {e}"))));
                                if let Err(status) = checked {
                                    let _ = tx.send(Err(status)).await;
                                    return;
                                }
                            }
                            for rec in &req.records {
                                if self.writers.insert(rec.writer_id) {
                                    self.core.add_route(rec.writer_id, warn_tx.clone());
                                }
                                if !self.runs.contains(&rec.run_id) {
                                    self.runs.insert(rec.run_id.clone());
                                    self.core.stream_opened(&rec.run_id);
                                }
                            }
                            let batch_id = req.batch_id;
                            let rx = match self.core.write(req.records) {
                                Ok(rx) => rx,
                                Err(status) => {
                                    let _ = tx.send(Err(status)).await;
                                    return;
                                }
                            };
                            in_flight.push_back(Box::pin(async move {
                                let ok = rx
                                    .await
                                    .map_err(|_| Status::unavailable("the daemon stopped before the batch was durable; re-send it"))?
                                    .map_err(Status::from)?;
                                Ok(IngestResponse {
                                    batch_id,
                                    acks: ok
                                        .acks
                                        .into_iter()
                                        .map(|(run_id, writer_id, durable_seq)| WriterAck { run_id, writer_id, durable_seq })
                                        .collect(),
                                    warnings: vec![],
                                    duplicates: ok.duplicates,
                                })
                            }));
                        }
                        Ok(None) => inbound_done = true,
                        Err(status) => {
                            // Malformed protobuf or a transport error: say what
                            // went wrong if the client still listens.
                            let _ = tx
                                .send(Err(Status::invalid_argument(format!(
                                    "the ingest stream could not be read: {}",
                                    status.message()
                                ))))
                                .await;
                            return;
                        }
                    }
                }
                Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                    let failed = done.is_err();
                    if tx.send(done).await.is_err() || failed {
                        return;
                    }
                }
                Some(w) = warn_rx.recv() => {
                    let resp = IngestResponse { warnings: vec![w], ..Default::default() };
                    if tx.send(Ok(resp)).await.is_err() {
                        return;
                    }
                }
                _ = tx.closed() => return,
                else => return,
            }
            if inbound_done && in_flight.is_empty() {
                // Deliver warnings already routed, then end.
                while let Ok(w) = warn_rx.try_recv() {
                    let resp = IngestResponse {
                        warnings: vec![w],
                        ..Default::default()
                    };
                    if tx.send(Ok(resp)).await.is_err() {
                        break;
                    }
                }
                return;
            }
        }
    }

    fn close(&mut self) {
        for w in &self.writers {
            self.core.remove_route(*w);
        }
        for r in &self.runs {
            self.core.stream_closed(r);
        }
        self.core.liveness_kick.notify_one();
    }
}
