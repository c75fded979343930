//! Finding and connecting to the daemon, with the token on every call.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};
use tracklab_proto::v1::admin_client::AdminClient;
use tracklab_proto::v1::blobs_client::BlobsClient;
use tracklab_proto::v1::ingest_client::IngestClient;
use tracklab_proto::v1::query_client::QueryClient;
use tracklab_proto::v1::sweeps_client::SweepsClient;

use crate::ClientError;

/// HTTP/2 receive window (per stream and per connection) for replies from
/// the daemon: a query reply streams without waiting on window updates.
const RECEIVE_WINDOW_BYTES: u32 = 16 << 20;

/// Where the daemon is.
#[derive(Debug, Clone)]
pub enum Target {
    /// Read `daemon.json` and `token` from this data dir at every connect, so
    /// a restarted daemon on another port is found again.
    DataDir(PathBuf),
    /// A fixed address and token.
    Addr { addr: String, token: String },
}

#[derive(Deserialize)]
struct DaemonJson {
    address: String,
}

impl Target {
    /// The address and token to use now.
    pub fn resolve(&self) -> Result<(String, String), ClientError> {
        match self {
            Target::Addr { addr, token } => Ok((addr.clone(), token.clone())),
            Target::DataDir(dir) => {
                let not_running = |reason: String| ClientError::NotRunning {
                    dir: dir.display().to_string(),
                    reason,
                };
                let info = std::fs::read_to_string(dir.join("daemon.json"))
                    .map_err(|e| not_running(format!("daemon.json: {e}")))?;
                let info: DaemonJson = serde_json::from_str(&info)
                    .map_err(|e| not_running(format!("daemon.json is malformed: {e}")))?;
                let token = std::fs::read_to_string(dir.join("token"))
                    .map_err(|e| not_running(format!("token: {e}")))?;
                Ok((info.address, token.trim().to_string()))
            }
        }
    }
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Auth {
    header: Option<MetadataValue<tonic::metadata::Ascii>>,
}

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(h) = &self.header {
            req.metadata_mut().insert("authorization", h.clone());
        }
        Ok(req)
    }
}

type Authed = InterceptedService<Channel, Auth>;

/// An authenticated connection to one daemon.
#[derive(Clone)]
pub struct Connection {
    channel: Channel,
    auth: Auth,
    addr: String,
}

impl Connection {
    /// Connects to the daemon of a data dir.
    pub async fn connect(data_dir: &Path) -> Result<Connection, ClientError> {
        Self::connect_target(&Target::DataDir(data_dir.to_path_buf())).await
    }

    pub async fn connect_target(target: &Target) -> Result<Connection, ClientError> {
        let (addr, token) = target.resolve()?;
        Self::connect_addr(&addr, &token).await
    }

    /// Connects to `addr` (host:port) with `token` (empty: send none).
    pub async fn connect_addr(addr: &str, token: &str) -> Result<Connection, ClientError> {
        let url = format!("http://{addr}");
        let endpoint = Endpoint::from_shared(url).map_err(|source| ClientError::Connect {
            addr: addr.to_string(),
            source,
        })?;
        // HTTP/2's default 64 KiB receive windows make a long history reply
        // wait for window updates every 64 KiB; the replies are ours to hold.
        let channel = endpoint
            .tcp_nodelay(true)
            .initial_stream_window_size(Some(RECEIVE_WINDOW_BYTES))
            .initial_connection_window_size(Some(RECEIVE_WINDOW_BYTES))
            .connect()
            .await
            .map_err(|source| ClientError::Connect {
                addr: addr.to_string(),
                source,
            })?;
        let header = if token.is_empty() {
            None
        } else {
            format!("Bearer {token}").parse().ok()
        };
        Ok(Connection {
            channel,
            auth: Auth { header },
            addr: addr.to_string(),
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    pub fn query(&self) -> QueryClient<Authed> {
        QueryClient::with_interceptor(self.channel.clone(), self.auth.clone())
            .max_decoding_message_size(64 << 20)
    }

    pub fn admin(&self) -> AdminClient<Authed> {
        AdminClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn ingest(&self) -> IngestClient<Authed> {
        IngestClient::with_interceptor(self.channel.clone(), self.auth.clone())
            .max_encoding_message_size(64 << 20)
    }

    pub fn sweeps(&self) -> SweepsClient<Authed> {
        SweepsClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn blobs(&self) -> BlobsClient<Authed> {
        BlobsClient::with_interceptor(self.channel.clone(), self.auth.clone())
            .max_encoding_message_size(64 << 20)
            .max_decoding_message_size(64 << 20)
    }
}
