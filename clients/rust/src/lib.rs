//! `tracklab-client`: a Rust client for `tracklab-daemon`.
//!
//! [`Connection`] finds the daemon through its data dir (`daemon.json` for
//! the address, `token` for the secret) and gives authenticated Query and
//! Admin stubs. [`Run`] starts a run and logs to it: `log` only enqueues; a
//! background task batches records onto one ingest stream, keeps every
//! record until the daemon acknowledges it as durable, and after a lost
//! connection (a daemon restart, say) reconnects and re-sends what is not
//! acknowledged — the daemon drops duplicates by writer sequence number.
//! [`Run::finish`] returns once everything is durable.

mod connection;
mod run;

pub use connection::{Auth, Connection, Target};
pub use run::{DeliveryWatch, DurableWaiter, FinishReport, Run, RunOptions};
pub use tracklab_proto::v1;

/// Errors a client sees.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "no tracklab-daemon found for data dir {dir}: {reason}; start one with `tracklab-daemon --data-dir {dir}`"
    )]
    NotRunning { dir: String, reason: String },
    #[error("cannot connect to tracklab-daemon at {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: tonic::transport::Error,
    },
    #[error("the daemon refused the call: {0}")]
    Status(#[from] tonic::Status),
    #[error("the run's background sender stopped: {0}")]
    Sender(String),
    #[error("timed out after {secs} s waiting for the daemon: {what}")]
    Timeout { secs: u64, what: String },
}

/// Builds a flat item `key = value`.
pub fn item(key: &str, kind: v1::value::Kind) -> v1::Item {
    v1::Item {
        path: vec![key.to_string()],
        value: Some(v1::Value { kind: Some(kind) }),
    }
}

/// Builds a flat numeric item `key = value`.
pub fn float(key: &str, value: f64) -> v1::Item {
    item(key, v1::value::Kind::Float(value))
}

/// Current time in microseconds since the Unix epoch.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// A random non-zero writer id.
pub fn random_writer_id() -> u64 {
    let mut b = [0u8; 8];
    loop {
        // If the OS has no randomness, fall back to time and pid: writer ids
        // only need to differ between attachments.
        if getrandom::fill(&mut b).is_err() {
            b = ((now_us() as u64) ^ (u64::from(std::process::id()) << 40)).to_le_bytes();
        }
        let id = u64::from_le_bytes(b);
        if id != 0 {
            return id;
        }
    }
}
