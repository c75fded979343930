//! `tracklab-daemon`: one per machine (per data dir). Receives tracklab.v1
//! records over localhost gRPC, makes them durable in per-run logs, and
//! serves queries from the sled-indexed run state derived from those logs.
//!
//! A library so that the Python SDK's native module can run the very same
//! daemon (`python -m tracklab daemon`): the wheel ships it without a
//! separate binary. `src/main.rs` is the `tracklab-daemon` binary.

mod admin;
mod apply_thread;
mod auth;
mod blobs;
mod catalog;
mod core;
mod gc;
mod gpu;
mod http;
mod ingest;
mod liveness;
mod query;
mod registry;
mod server;
mod sweeps;
mod sysstats;
mod wal;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// The default port; tests pass --port 0 to get a free one.
pub const DEFAULT_PORT: u16 = 7447;

#[derive(Parser, Debug)]
#[command(
    name = "tracklab-daemon",
    version,
    about = "TrackLab daemon: durable local experiment tracking over loopback gRPC"
)]
struct Args {
    /// Data directory (run logs, store, token, daemon.json). Default: ~/.tracklab
    #[arg(long, env = "TRACKLAB_DIR")]
    data_dir: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free port; daemon.json records it).
    #[arg(long, env = "TRACKLAB_PORT", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Log filter, e.g. "info", "debug", "tracklab_daemon=trace".
    #[arg(long, env = "TRACKLAB_LOG", default_value = "info")]
    log_level: String,
    /// How often runs whose client process vanished are looked for (ms).
    #[arg(long, env = "TRACKLAB_LIVENESS_MS", default_value_t = 1000)]
    liveness_interval_ms: u64,
    /// sled page cache size in MiB.
    #[arg(long, env = "TRACKLAB_CACHE_MB", default_value_t = 16)]
    cache_mb: u64,
    /// `tracklab gc` keeps unreferenced blobs younger than this (an upload
    /// whose record is still on its way), in seconds.
    #[arg(long, env = "TRACKLAB_BLOB_GRACE_SECS", default_value_t = 3600)]
    blob_grace_secs: u64,
    /// How often live runs' system metrics (CPU, memory, disk and network
    /// of the process tree) are sampled, in ms; 0 turns sampling off.
    #[arg(long, env = "TRACKLAB_STATS_INTERVAL_MS", default_value_t = 10_000)]
    stats_interval_ms: u64,
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .ok_or_else(|| anyhow::anyhow!("HOME is not set; pass --data-dir or set TRACKLAB_DIR"))?;
    Ok(PathBuf::from(home).join(".tracklab"))
}

/// Parses `args` (the first is the program name), runs the daemon until it
/// is stopped, and returns the process exit code.
pub fn main_with_args<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = Args::parse_from(args);

    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level).unwrap_or_else(|e| {
        eprintln!(
            "tracklab-daemon: invalid --log-level {:?} ({e}); using \"info\"",
            args.log_level
        );
        tracing_subscriber::EnvFilter::new("info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal, never in a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init()
        .ok();
    match run(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("tracklab-daemon: error: {e:#}");
            1
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => default_data_dir()?,
    };
    let _ = gc::BLOB_GRACE.set(Duration::from_secs(args.blob_grace_secs));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("tracklab-rt")
        .build()?;
    rt.block_on(server::run(server::Options {
        data_dir,
        port: args.port,
        liveness_interval: Duration::from_millis(args.liveness_interval_ms.max(10)),
        cache_bytes: args.cache_mb.max(1) << 20,
        stats_interval: (args.stats_interval_ms > 0)
            .then(|| Duration::from_millis(args.stats_interval_ms.max(10))),
    }))
}
