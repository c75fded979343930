//! `tracklab sync --rebuild`: throws the derived store away and rebuilds it
//! from the run logs. With a daemon running, the daemon does it (Admin
//! Rebuild); without one, this process does, holding the data dir's lock
//! so that no daemon starts meanwhile.
//!
//! Offline, the new store is built beside the old one (`store.rebuild`) and
//! swapped in by renames only when complete: an interrupted rebuild leaves
//! the old store in place.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fs2::FileExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tracklab_proto::v1::RebuildRequest;
use tracklab_store::replay::{ReplayReport, replay_run};
use tracklab_store::{Applier, DataDir, Store};

use crate::ctx::{Ctx, MAX_MESSAGE_BYTES, Outcome};

/// sled cache while rebuilding offline.
const CACHE_BYTES: u64 = 256 << 20;

pub fn rebuild(ctx: &Ctx) -> anyhow::Result<Outcome> {
    let online = ctx.block_on(async { ctx.connect().await.ok() });
    let via_daemon = online.is_some();
    let report = match online {
        Some(conn) => {
            let pb = ProgressBar::new_spinner();
            pb.set_message("the daemon is rebuilding its store from the run logs");
            pb.enable_steady_tick(Duration::from_millis(120));
            let r = ctx
                .block_on(
                    conn.admin()
                        .max_decoding_message_size(MAX_MESSAGE_BYTES)
                        .rebuild(RebuildRequest {}),
                )
                .context("rebuilding through the daemon")?
                .into_inner();
            pb.finish_and_clear();
            ReplayReport {
                runs: r.runs,
                records: r.records,
                history_points: r.history_points,
                elapsed_ms: r.elapsed_ms,
                problems: r.problems,
                ..Default::default()
            }
        }
        None => offline(&DataDir::new(&ctx.data_dir))?,
    };
    let secs = report.elapsed_ms as f64 / 1000.0;
    let rate = report.history_points as f64 / secs.max(1e-3);
    if ctx.json {
        let v = json!({
            "via_daemon": via_daemon,
            "runs": report.runs,
            "records": report.records,
            "history_points": report.history_points,
            "seconds": secs,
            "points_per_second": rate,
            "problems": report.problems,
        });
        crate::outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        crate::outln!(
            "rebuilt {} runs from their logs: {} records, {} history points in {:.2} s ({:.0} points/s)",
            report.runs,
            report.records,
            report.history_points,
            secs,
            rate
        );
        if !report.problems.is_empty() {
            crate::outln!("damage found ({}):", report.problems.len());
            for p in &report.problems {
                crate::outln!("  {p}");
            }
        }
    }
    Ok(if report.problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}

fn offline(data: &DataDir) -> anyhow::Result<ReplayReport> {
    if !data.runs_dir().is_dir() {
        bail!(
            "{} holds no runs (no runs/ directory): is this a TrackLab data dir? Pass --data-dir",
            data.root().display()
        );
    }
    let lock_path = data.lock_path();
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    if lock.try_lock_exclusive().is_err() {
        bail!(
            "a tracklab-daemon holds {} but does not answer; stop it (or wait until it has started) and retry",
            lock_path.display()
        );
    }
    let ids = data
        .run_ids()
        .with_context(|| format!("listing {}", data.runs_dir().display()))?;
    let bytes: u64 = ids
        .iter()
        .filter_map(|id| std::fs::metadata(data.run_log(id)).ok())
        .map(|m| m.len())
        .sum();
    let pb = ProgressBar::new(bytes);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let tmp = data.root().join("store.rebuild");
    remove_if_exists(&tmp)?;
    let start = Instant::now();
    let store =
        Store::open(&tmp, CACHE_BYTES).with_context(|| format!("creating {}", tmp.display()))?;
    // Runs are independent: one applier per thread, each over its own runs
    // (interleaved so big and small runs spread), all into one sled tree.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(ids.len())
        .max(1);
    let progress = Progress {
        pb: &pb,
        start,
        points: std::sync::atomic::AtomicU64::new(0),
    };
    let parts: Vec<anyhow::Result<ReplayReport>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<&String> = ids.iter().skip(t).step_by(threads).collect();
                let store = store.clone();
                let progress = &progress;
                scope.spawn(move || replay_runs(data, store, &mine, progress))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a rebuild thread panicked")))
            })
            .collect()
    });
    let mut total = ReplayReport::default();
    for part in parts {
        let r = part?;
        total.runs += r.runs;
        total.frames += r.frames;
        total.records += r.records;
        total.history_points += r.history_points;
        total.problems.extend(r.problems);
    }
    total.problems.sort();
    store.flush()?;
    drop(store);
    pb.finish_and_clear();
    total.elapsed_ms = start.elapsed().as_millis() as u64;
    // Swap: old store aside, new store in, old store gone.
    let live = data.store_dir();
    let old = data.root().join("store.old");
    remove_if_exists(&old)?;
    if live.exists() {
        std::fs::rename(&live, &old).with_context(|| format!("moving {} aside", live.display()))?;
    }
    std::fs::rename(&tmp, &live)
        .with_context(|| format!("moving the rebuilt store into {}", live.display()))?;
    File::open(data.root())?.sync_all()?;
    remove_if_exists(&old)?;
    drop(lock);
    Ok(total)
}

/// Progress shared by the rebuild threads.
struct Progress<'a> {
    pb: &'a ProgressBar,
    start: Instant,
    points: std::sync::atomic::AtomicU64,
}

/// Replays some runs' logs with an applier of their own.
fn replay_runs(
    data: &DataDir,
    store: Store,
    ids: &[&String],
    progress: &Progress<'_>,
) -> anyhow::Result<ReplayReport> {
    let mut applier = Applier::new(store)?;
    let mut total = ReplayReport::default();
    for id in ids {
        let log = data.run_log(id);
        match replay_run(&mut applier, id, &log) {
            Ok(r) => {
                total.runs += r.runs;
                total.frames += r.frames;
                total.records += r.records;
                total.history_points += r.history_points;
                total.problems.extend(r.problems);
                progress
                    .points
                    .fetch_add(r.history_points, std::sync::atomic::Ordering::Relaxed);
            }
            Err(tracklab_store::StoreError::Log { path, source }) => total.problems.push(format!(
                "run {id}: {}: {source}; the run is left out",
                path.display()
            )),
            Err(e) => return Err(e.into()),
        }
        progress
            .pb
            .inc(std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0));
        let secs = progress.start.elapsed().as_secs_f64().max(1e-3);
        let points = progress.points.load(std::sync::atomic::Ordering::Relaxed);
        progress
            .pb
            .set_message(format!("{:.0} points/s", points as f64 / secs));
    }
    Ok(total)
}

fn remove_if_exists(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}
