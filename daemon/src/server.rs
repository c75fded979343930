//! Daemon start-up, serving and shutdown.
//!
//! Start: lock the data dir, load the token, open the store, recover every
//! run log (truncating torn tails), replay what the store lacks, bind
//! 127.0.0.1, write `daemon.json`, serve. Stop (SIGTERM, SIGINT or
//! Admin.Shutdown): stop serving within a deadline, let the WAL writer
//! finish its group, let the applier drain, remove `daemon.json`.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use fs2::FileExt;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::interceptor::InterceptedService;
use tracklab_log::LogWriter;
use tracklab_proto::v1::RunState;
use tracklab_proto::v1::admin_server::AdminServer;
use tracklab_proto::v1::blobs_server::BlobsServer;
use tracklab_proto::v1::ingest_server::IngestServer;
use tracklab_proto::v1::query_server::QueryServer;
use tracklab_proto::v1::sweeps_server::SweepsServer;
use tracklab_store::replay::{self, scan_problems};
use tracklab_store::{Applier, DataDir, Store};

use crate::admin::AdminService;
use crate::auth::{TokenCheck, load_or_create_token};
use crate::core::Core;
use crate::ingest::IngestService;
use crate::query::QueryService;
use crate::wal::{KnownRun, Wal};
use crate::{apply_thread, liveness};

/// Largest gRPC message the daemon decodes; ingest applies its own, smaller
/// limits with precise errors.
const MAX_MESSAGE_BYTES: usize = 64 << 20;
/// Group commits that may wait for the applier before the WAL writer waits.
const APPLY_QUEUE_GROUPS: usize = 8;
/// How long open streams get to finish after a shutdown request.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub struct Options {
    pub data_dir: PathBuf,
    pub port: u16,
    pub liveness_interval: Duration,
    pub cache_bytes: u64,
    /// System-metrics sampling period (`None`: off).
    pub stats_interval: Option<Duration>,
}

/// The content of `daemon.json`, read by clients to find the daemon.
#[derive(Debug, Serialize, Deserialize)]
pub struct DaemonInfo {
    pub address: String,
    pub pid: u32,
    pub version: String,
    pub data_dir: String,
}

fn lock_data_dir(data: &DataDir) -> anyhow::Result<File> {
    let path = data.lock_path();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    if file.try_lock_exclusive().is_err() {
        let running = std::fs::read_to_string(data.daemon_json())
            .ok()
            .and_then(|s| serde_json::from_str::<DaemonInfo>(&s).ok())
            .map(|i| format!(" (pid {}, listening on {})", i.pid, i.address))
            .unwrap_or_default();
        bail!(
            "another tracklab-daemon is already running for data dir {}{running}; use it, or stop it first",
            data.root().display()
        );
    }
    Ok(file)
}

fn write_daemon_json(data: &DataDir, info: &DaemonInfo) -> anyhow::Result<()> {
    let path = data.daemon_json();
    let tmp = path.with_extension("json.tmp");
    let mut f = File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(serde_json::to_string_pretty(info)?.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path).with_context(|| format!("renaming to {}", path.display()))?;
    File::open(data.root())?.sync_all()?;
    Ok(())
}

fn open_store(data: &DataDir, cache_bytes: u64) -> anyhow::Result<(Store, bool)> {
    let dir = data.store_dir();
    match Store::open(&dir, cache_bytes) {
        Ok(s) => Ok((s, false)),
        Err(e) => {
            let aside = dir.with_file_name(format!("store.broken-{}", crate::core::now_us()));
            tracing::error!(error = %e, moved_to = %aside.display(), "the store cannot be opened; moving it aside and rebuilding it from the run logs");
            std::fs::rename(&dir, &aside)
                .with_context(|| format!("moving the broken store {} aside", dir.display()))?;
            Ok((Store::open(&dir, cache_bytes)?, true))
        }
    }
}

/// Opens every run log for appending (recovering torn tails) and brings the
/// store up to date; rebuilds the store if it looks inconsistent.
fn recover(
    data: &DataDir,
    store: Store,
    mut rebuild: bool,
) -> anyhow::Result<(Applier, Vec<KnownRun>, Vec<String>)> {
    let ids = data
        .run_ids()
        .with_context(|| format!("listing runs in {}", data.runs_dir().display()))?;
    let mut writers = Vec::with_capacity(ids.len());
    let mut problems = Vec::new();
    for id in &ids {
        let path = data.run_log(id);
        match LogWriter::open(&path) {
            Ok((w, report)) => {
                for p in scan_problems(&report) {
                    tracing::warn!(run_id = id, "{p}");
                    problems.push(p);
                }
                writers.push((id.clone(), w));
            }
            Err(e) => {
                // One unreadable log must not keep every other run offline:
                // the run is left out (its file untouched) and reported.
                let p = format!("run {id}: its log cannot be used and the run is offline: {e}");
                tracing::error!("{p}");
                problems.push(p);
            }
        }
    }
    let mut applier = match Applier::new(store.clone()) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "loading runs from the store failed; rebuilding it from the run logs");
            rebuild = true;
            store.clear()?;
            Applier::new(store.clone())?
        }
    };
    let result = if rebuild {
        replay::rebuild(&mut applier, data)
    } else {
        replay::catch_up(&mut applier, data)
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "the store looks inconsistent; rebuilding it from the run logs");
            replay::rebuild(&mut applier, data).context("rebuilding the store from the run logs")?
        }
    };
    for p in &report.problems {
        tracing::warn!("{p}");
    }
    problems.extend(report.problems.iter().cloned());
    tracing::info!(
        runs = ids.len(),
        frames = report.frames,
        records = report.records,
        elapsed_ms = report.elapsed_ms,
        "run logs replayed into the store"
    );
    let known = writers
        .into_iter()
        .map(|(id, writer)| {
            let state = applier.run(&id).map(|r| &r.state);
            KnownRun {
                started: state.is_some_and(|s| s.started()),
                exited: state.is_some_and(|s| s.started() && s.status() != RunState::Running),
                writers: state.map(|s| s.writers().collect()).unwrap_or_default(),
                run_id: id,
                writer,
            }
        })
        .collect();
    Ok((applier, known, problems))
}

/// Runs the daemon until it is asked to stop.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    // A new data dir is readable by its user alone: it holds every run.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&opts.data_dir)
        .with_context(|| format!("creating data dir {}", opts.data_dir.display()))?;
    let data = DataDir::new(std::fs::canonicalize(&opts.data_dir)?);
    let _lock = lock_data_dir(&data)?;
    let token = load_or_create_token(&data.token_path())?;
    crate::gc::empty_trash(&data).with_context(|| {
        format!(
            "emptying {} (left by an interrupted gc)",
            data.trash_dir().display()
        )
    })?;

    let (store, broken) = open_store(&data, opts.cache_bytes)?;
    let d2 = data.clone();
    let (applier, known, problems) =
        tokio::task::spawn_blocking(move || recover(&d2, store, broken))
            .await
            .context("recovery thread panicked")??;

    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], opts.port)))
        .await
        .with_context(|| {
            format!(
                "binding 127.0.0.1:{}; is the port in use? pass --port",
                opts.port
            )
        })?;
    let addr = listener.local_addr()?;

    let blobs = tracklab_blobs::BlobStore::open_and_clean(&data.blobs_dir())
        .with_context(|| format!("opening the blob store in {}", data.root().display()))?;
    let core = Arc::new(Core::new(
        data.clone(),
        applier.store().clone(),
        blobs,
        addr.to_string(),
    ));
    core.publish_all(applier.runs());
    core.set_problems(problems);
    let (wal_tx, wal_rx) = std::sync::mpsc::channel();
    let (apply_tx, apply_rx) = std::sync::mpsc::sync_channel(APPLY_QUEUE_GROUPS);
    core.connect_threads(wal_tx, apply_tx.clone());
    let wal = Wal::new(core.clone(), known, apply_tx);
    let wal_thread = std::thread::Builder::new()
        .name("tracklab-wal".into())
        .spawn(move || wal.run(wal_rx))?;
    let c2 = core.clone();
    let apply_thread = std::thread::Builder::new()
        .name("tracklab-apply".into())
        .spawn(move || apply_thread::run(c2, applier, apply_rx))?;

    write_daemon_json(
        &data,
        &DaemonInfo {
            address: addr.to_string(),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            data_dir: data.root().display().to_string(),
        },
    )?;
    tracing::info!(address = %addr, data_dir = %data.root().display(), "tracklab-daemon listening");
    // Tests and scripts wait for this line instead of sleeping.
    println!("tracklab-daemon listening on {addr}");

    let monitor = tokio::spawn(liveness::monitor(core.clone(), opts.liveness_interval));
    let sampler = opts
        .stats_interval
        .map(|every| tokio::spawn(crate::sysstats::monitor(core.clone(), every)));

    let check = TokenCheck::new(&token);
    let interceptor = move |req| check.check(req);
    let ingest = IngestServer::new(IngestService { core: core.clone() })
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let query = QueryServer::new(QueryService { core: core.clone() })
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let admin = AdminServer::new(AdminService { core: core.clone() });
    let blobs = BlobsServer::new(crate::blobs::BlobsService { core: core.clone() })
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let sweeps = SweepsServer::new(crate::sweeps::SweepsService { core: core.clone() });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // One port: gRPC services by their paths, every other path (HTTP/1.1
    // included, for browsers) to the dashboard's router.
    let routes = tonic::service::Routes::from(crate::http::router(core.clone(), &token))
        .add_service(InterceptedService::new(ingest, interceptor.clone()))
        .add_service(InterceptedService::new(query, interceptor.clone()))
        .add_service(InterceptedService::new(admin, interceptor.clone()))
        .add_service(InterceptedService::new(blobs, interceptor.clone()))
        .add_service(InterceptedService::new(sweeps, interceptor));
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .accept_http1(true)
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming(listener), async {
                let _ = stop_rx.await;
            }),
    );

    wait_for_stop(&core).await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(());
    let mut server = server;
    match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "server ended with an error"),
        Err(_) => {
            tracing::warn!(
                grace_s = SHUTDOWN_GRACE.as_secs(),
                "open streams did not finish in time; closing them"
            );
            server.abort();
        }
        _ => {}
    }
    monitor.abort();
    if let Some(s) = sampler {
        s.abort();
    }
    core.disconnect_threads();
    let joined = tokio::task::spawn_blocking(move || {
        let _ = wal_thread.join();
        let _ = apply_thread.join();
    });
    if tokio::time::timeout(Duration::from_secs(30), joined)
        .await
        .is_err()
    {
        tracing::error!(
            "the WAL writer or applier did not stop within 30 s; exiting anyway (the logs are the truth)"
        );
    }
    let _ = std::fs::remove_file(data.daemon_json());
    tracing::info!("stopped");
    Ok(())
}

/// Accepted connections with TCP_NODELAY: tonic sets it only on sockets it
/// accepts itself. Without it a small unary answer written in two segments
/// waits for the client's delayed ACK (~40 ms per query).
fn incoming(
    listener: TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt;
    TcpListenerStream::new(listener).map(|conn| {
        let conn = conn?;
        if let Err(e) = conn.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY could not be set");
        }
        Ok(conn)
    })
}

async fn wait_for_stop(core: &Core) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM");
            core.shutdown.notified().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = core.shutdown.notified() => {}
    }
}
