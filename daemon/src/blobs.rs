//! The Blobs service: bytes into and out of the blob store (see
//! `crates/tracklab-blobs` for the format). All file IO runs on blocking
//! threads; an upload streams into one blocking writer through a bounded
//! channel, so a fast client cannot pile up memory.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracklab_blobs::{BlobError, Digest};
use tracklab_proto::v1::blobs_server::Blobs;
use tracklab_proto::v1::{
    AdoptFileRequest, BlobChunk, BlobRef, ExportBlobRequest, GetBlobRequest, HasBlobsRequest,
    HasBlobsResponse,
};

use crate::core::Core;

/// Bytes per message of a download.
const GET_CHUNK_BYTES: usize = 1 << 20;
/// Upload messages buffered between the stream and the writer thread.
const PUT_QUEUE: usize = 8;

pub struct BlobsService {
    pub core: Arc<Core>,
}

/// A blob error as the status a client sees.
pub fn blob_status(e: BlobError) -> Status {
    let msg = e.to_string();
    match e {
        BlobError::Missing { .. } => Status::not_found(msg),
        BlobError::Corrupt { .. } => Status::data_loss(msg),
        BlobError::Mismatch { .. } => Status::invalid_argument(msg),
        ref e if e.is_no_space() => Status::resource_exhausted(format!(
            "{msg}: the disk holding the blob store is full; free space and retry"
        )),
        _ => Status::internal(msg),
    }
}

fn digest(field: &str, s: &str) -> Result<Digest, Status> {
    Digest::from_hex(s).map_err(|e| Status::invalid_argument(format!("field `{field}`: {e}")))
}

fn optional_digest(field: &str, s: &str) -> Result<Option<Digest>, Status> {
    if s.is_empty() {
        Ok(None)
    } else {
        digest(field, s).map(Some)
    }
}

fn absolute(field: &str, p: &str) -> Result<PathBuf, Status> {
    let path = PathBuf::from(p);
    if !path.is_absolute() {
        return Err(Status::invalid_argument(format!(
            "field `{field}`: {p:?} is not an absolute path"
        )));
    }
    Ok(path)
}

fn blob_ref((d, size): (Digest, u64)) -> BlobRef {
    BlobRef {
        digest: d.to_hex(),
        size,
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(format!("blob task failed: {e}")))?
}

enum PutMsg {
    Data(Vec<u8>),
    End,
}

type GetStream = Pin<Box<dyn Stream<Item = Result<BlobChunk, Status>> + Send>>;

#[tonic::async_trait]
impl Blobs for BlobsService {
    async fn put(
        &self,
        request: Request<Streaming<BlobChunk>>,
    ) -> Result<Response<BlobRef>, Status> {
        let mut stream = request.into_inner();
        let first = stream.message().await?;
        let expected = match &first {
            Some(c) => optional_digest("digest", &c.digest)?,
            None => None,
        };
        let (tx, mut rx) = mpsc::channel::<PutMsg>(PUT_QUEUE);
        let blobs = self.core.blobs.clone();
        let writer = tokio::task::spawn_blocking(move || -> Result<Option<BlobRef>, Status> {
            let mut w = blobs.writer().map_err(blob_status)?;
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    PutMsg::Data(bytes) => w.write_all_bytes(&bytes).map_err(blob_status)?,
                    PutMsg::End => {
                        return w
                            .finish(expected.as_ref())
                            .map(blob_ref)
                            .map(Some)
                            .map_err(blob_status);
                    }
                }
            }
            // The upload stopped early: nothing is stored (dropping the
            // writer removes its temporary file).
            Ok(None)
        });
        // `tx` moves in and is dropped at the end: a stream that failed
        // before its end leaves the writer without `End`, so it stores
        // nothing.
        let fed = async move {
            if let Some(c) = first {
                if !c.data.is_empty() && tx.send(PutMsg::Data(c.data)).await.is_err() {
                    return Ok(());
                }
                while let Some(c) = stream.message().await? {
                    if !c.data.is_empty() && tx.send(PutMsg::Data(c.data)).await.is_err() {
                        return Ok(());
                    }
                }
            }
            let _ = tx.send(PutMsg::End).await;
            Ok::<(), Status>(())
        }
        .await;
        let written = writer
            .await
            .map_err(|e| Status::internal(format!("blob writer failed: {e}")))?;
        fed?;
        match written? {
            Some(r) => Ok(Response::new(r)),
            None => Err(Status::aborted(
                "the upload ended before its last message; nothing was stored",
            )),
        }
    }

    async fn has(
        &self,
        request: Request<HasBlobsRequest>,
    ) -> Result<Response<HasBlobsResponse>, Status> {
        let req = request.into_inner();
        let digests = req
            .digests
            .iter()
            .enumerate()
            .map(|(i, d)| digest(&format!("digests[{i}]"), d))
            .collect::<Result<Vec<_>, _>>()?;
        let blobs = self.core.blobs.clone();
        let missing = blocking(move || {
            Ok(digests
                .into_iter()
                .filter(|d| blobs.size(d).is_none())
                .map(|d| d.to_hex())
                .collect())
        })
        .await?;
        Ok(Response::new(HasBlobsResponse { missing }))
    }

    async fn adopt(&self, request: Request<AdoptFileRequest>) -> Result<Response<BlobRef>, Status> {
        let req = request.into_inner();
        let path = absolute("path", &req.path)?;
        let expected = optional_digest("digest", &req.digest)?;
        let blobs = self.core.blobs.clone();
        let r = blocking(move || {
            let mut f = std::fs::File::open(&path).map_err(|e| open_status(&path, e))?;
            let mut w = blobs.writer().map_err(blob_status)?;
            w.copy_from(&mut f, &path).map_err(blob_status)?;
            w.finish(expected.as_ref())
                .map(blob_ref)
                .map_err(blob_status)
        })
        .await?;
        Ok(Response::new(r))
    }

    type GetStream = GetStream;

    async fn get(
        &self,
        request: Request<GetBlobRequest>,
    ) -> Result<Response<Self::GetStream>, Status> {
        let d = digest("digest", &request.into_inner().digest)?;
        let blobs = self.core.blobs.clone();
        // Opening first: a missing blob is the call's error, not the stream's.
        let mut reader = blocking(move || blobs.reader(&d).map_err(blob_status)).await?;
        let (tx, rx) = mpsc::channel(2);
        tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; GET_CHUNK_BYTES];
            loop {
                match reader.read_chunk(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        let chunk = BlobChunk {
                            digest: String::new(),
                            data: buf[..n].to_vec(),
                        };
                        if tx.blocking_send(Ok(chunk)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(blob_status(e)));
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn export(
        &self,
        request: Request<ExportBlobRequest>,
    ) -> Result<Response<BlobRef>, Status> {
        let req = request.into_inner();
        let d = digest("digest", &req.digest)?;
        let path = absolute("path", &req.path)?;
        let blobs = self.core.blobs.clone();
        let size = blocking(move || blobs.copy_to(&d, &path).map_err(blob_status)).await?;
        Ok(Response::new(BlobRef {
            digest: d.to_hex(),
            size,
        }))
    }
}

fn open_status(path: &Path, e: std::io::Error) -> Status {
    let msg = format!("opening {}: {e}", path.display());
    match e.kind() {
        std::io::ErrorKind::NotFound => Status::not_found(msg),
        std::io::ErrorKind::PermissionDenied => Status::permission_denied(msg),
        _ => Status::internal(msg),
    }
}

/// The blobs a batch of records names that the store does not have, as an
/// error naming the first (records naming blobs must come after them).
/// Blocking: call it off the executor.
pub fn check_named_blobs(
    blobs: &tracklab_blobs::BlobStore,
    records: &[tracklab_proto::v1::Record],
) -> Result<(), Status> {
    use tracklab_proto::v1::record::Payload;
    for (i, rec) in records.iter().enumerate() {
        let named: Vec<(String, &str)> = match &rec.payload {
            Some(Payload::Artifact(a)) => a
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.r#ref.is_empty())
                .map(|(j, e)| {
                    (
                        format!("records[{i}].payload.artifact.entries[{j}].digest"),
                        e.digest.as_str(),
                    )
                })
                .collect(),
            Some(Payload::Files(f)) => f
                .files
                .iter()
                .enumerate()
                .filter(|(_, e)| !e.digest.is_empty())
                .map(|(j, e)| {
                    (
                        format!("records[{i}].payload.files.files[{j}].digest"),
                        e.digest.as_str(),
                    )
                })
                .collect(),
            _ => continue,
        };
        for (field, d) in named {
            let d = digest(&field, d)?;
            if blobs.size(&d).is_none() {
                return Err(Status::failed_precondition(format!(
                    "field `{field}`: blob {d} is not in the blob store; upload it (Blobs.Put or Blobs.Adopt) before the record that names it"
                )));
            }
        }
    }
    Ok(())
}
