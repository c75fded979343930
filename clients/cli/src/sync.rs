//! `tracklab sync PATH…`: imports run logs written elsewhere into the
//! daemon, over the ingest stream, as `import` batches.
//!
//! Idempotent by construction: every record keeps its run, writer and
//! sequence number, and the daemon skips records of a writer it already has
//! up to that sequence. Syncing a file twice, or a file that overlaps what
//! the daemon holds, stores nothing twice; a resumed run's segments are
//! separate writers and keep their steps.
//!
//! A log with damaged frames imports everything before the damage; a writer
//! whose sequence jumps over the damage stops there (the daemon would refuse
//! the gap), and the summary names the file and offset.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tracklab_proto::v1::{IngestRequest, Record};
use tracklab_store::codec::decode_payload;
use tracklab_store::replay::scan_problems;

use crate::args::SyncArgs;
use crate::ctx::{Ctx, Outcome, UsageError};

/// Records per import batch (the daemon takes up to 100 000).
const BATCH_RECORDS: usize = 4096;
/// Encoded bytes per import batch (the daemon takes up to 16 MiB).
const BATCH_BYTES: usize = 4 << 20;
/// Batches sent and not yet acknowledged.
const IN_FLIGHT: usize = 4;

/// The `*.tlog` files under `paths`, sorted, each once.
pub fn collect_logs(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    collect_files(paths, "tlog")
}

/// The files given, and the `*.<ext>` files under the folders given,
/// sorted, each once.
pub fn collect_files(paths: &[PathBuf], ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = BTreeSet::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            walk(p, ext, &mut out)?;
        } else {
            out.insert(p.clone());
        }
    }
    Ok(out.into_iter().collect())
}

fn walk(dir: &Path, ext: &str, out: &mut BTreeSet<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, ext, out)?;
        } else if path.extension().is_some_and(|e| e == ext) {
            out.insert(path);
        }
    }
    Ok(())
}

/// What the reader thread sends: batches, progress, and problems.
enum Event {
    Batch(Vec<Record>),
    Progress(u64),
    Problem(String),
    FileDone,
}

/// Reads one log, checks per-writer continuity, and sends batches.
fn read_log(path: &Path, tx: &mpsc::Sender<Event>) -> anyhow::Result<()> {
    let send = |e: Event| {
        tx.blocking_send(e)
            .map_err(|_| anyhow!("the sync was stopped"))
    };
    // Next expected sequence per (run, writer); a writer with a gap stops.
    let mut next: HashMap<(String, u64), u64> = HashMap::new();
    let mut stopped: HashMap<(String, u64), (u64, u64)> = HashMap::new();
    let mut batch: Vec<Record> = Vec::new();
    let mut bytes = 0usize;
    let mut last_progress = tracklab_log::HEADER_LEN;
    let report = tracklab_log::scan(path, tracklab_log::HEADER_LEN, |frame| {
        let records = match decode_payload(frame.payload) {
            Ok(b) => b.records,
            Err(e) => {
                return send(Event::Problem(format!(
                    "{}: frame at offset {} does not decode: {e}; skipped",
                    path.display(),
                    frame.offset
                )));
            }
        };
        for rec in records {
            let key = (rec.run_id.clone(), rec.writer_id);
            if let Some(s) = stopped.get_mut(&key) {
                s.1 += 1;
                continue;
            }
            // A writer may start past 1 in a file: the unacknowledged tail
            // an SDK kept when its daemon went away (the daemon holds the
            // rest and checks that nothing is missing).
            let expected = next.entry(key.clone()).or_insert(rec.seq);
            if rec.seq < *expected {
                continue;
            }
            if rec.seq > *expected {
                stopped.insert(key, (frame.offset, 1));
                continue;
            }
            *expected += 1;
            bytes += prost::Message::encoded_len(&rec);
            batch.push(rec);
            if batch.len() >= BATCH_RECORDS || bytes >= BATCH_BYTES {
                send(Event::Batch(std::mem::take(&mut batch)))?;
                bytes = 0;
            }
        }
        send(Event::Progress(frame.end - last_progress))?;
        last_progress = frame.end;
        Ok(())
    })
    .map_err(|e| match e {
        tracklab_log::ScanError::Callback(e) => e,
        tracklab_log::ScanError::Log(e) => anyhow!("{}: {e}", path.display()),
    })?;
    if !batch.is_empty() {
        send(Event::Batch(batch))?;
    }
    send(Event::Progress(
        report.file_len.saturating_sub(last_progress),
    ))?;
    for p in scan_problems(&report) {
        send(Event::Problem(p))?;
    }
    let mut gaps: Vec<_> = stopped.into_iter().collect();
    gaps.sort();
    for ((run_id, writer), (offset, n)) in gaps {
        send(Event::Problem(format!(
            "{}: run {run_id}, writer {writer:016x}: its sequence jumps at offset {offset} (damaged frames before it); its {n} later records are not imported",
            path.display()
        )))?;
    }
    send(Event::FileDone)
}

#[derive(Default)]
struct Totals {
    files: u64,
    records: u64,
    duplicates: u64,
    runs: BTreeSet<String>,
    warnings: u64,
    problems: Vec<String>,
    /// Blobs copied from beside the logs.
    blobs: u64,
}

pub fn sync(ctx: &Ctx, args: SyncArgs) -> anyhow::Result<Outcome> {
    if args.paths.is_empty() {
        return Err(UsageError(
            "give run log files or directories to import (tracklab sync PATH…), or --rebuild to rebuild the store from the data dir's logs".into(),
        )
        .into());
    }
    let files = collect_logs(&args.paths)?;
    if files.is_empty() {
        bail!("no run logs (*.tlog) found under the given paths");
    }
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let started = Instant::now();
    let pb = ProgressBar::new(total_bytes);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let totals = ctx.block_on(import(ctx, files, &pb, started))?;
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let new = totals.records - totals.duplicates;
    if ctx.json {
        let v = json!({
            "files": totals.files,
            "runs": totals.runs.len(),
            "records": totals.records,
            "new_records": new,
            "duplicates": totals.duplicates,
            "warnings": totals.warnings,
            "problems": totals.problems,
            "blobs": totals.blobs,
            "seconds": secs,
        });
        crate::outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        crate::outln!(
            "synced {} run{} from {} file{}: {} records, {new} new, {} already present (skipped); {:.0} records/s",
            totals.runs.len(),
            plural(totals.runs.len() as u64),
            totals.files,
            plural(totals.files),
            totals.records,
            totals.duplicates,
            totals.records as f64 / secs.max(1e-9),
        );
        if totals.blobs > 0 {
            crate::outln!(
                "{} stored file{} (artifacts, saved files) copied into the blob store",
                totals.blobs,
                plural(totals.blobs)
            );
        }
        if totals.warnings > 0 {
            crate::outln!(
                "{} warnings from the daemon (see `tracklab show RUN`)",
                totals.warnings
            );
        }
        if !totals.problems.is_empty() {
            crate::outln!("damage found ({}):", totals.problems.len());
            for p in &totals.problems {
                crate::outln!("  {p}");
            }
        }
    }
    Ok(if totals.problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Blobs (artifact files, saved files) an offline run stored beside its
/// log, in `<log dir>/blobs/sha256/`, as (digest, absolute path).
fn blobs_beside(files: &[PathBuf]) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let dirs: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|f| f.parent().map(|p| p.join("blobs").join("sha256")))
        .collect();
    for dir in dirs {
        let Ok(groups) = std::fs::read_dir(&dir) else {
            continue;
        };
        for g in groups.flatten() {
            let Ok(blobs) = std::fs::read_dir(g.path()) else {
                continue;
            };
            for b in blobs.flatten() {
                let name = b.file_name().to_string_lossy().into_owned();
                let is_digest = name.len() == 64 && name.bytes().all(|c| c.is_ascii_hexdigit());
                let path = std::path::absolute(b.path()).unwrap_or_else(|_| b.path());
                if is_digest {
                    out.push((name.to_ascii_lowercase(), path));
                }
            }
        }
    }
    out
}

/// Copies the blobs beside the logs into the daemon's blob store (the
/// daemon reads and verifies each: a damaged one is refused by its digest),
/// before the records that name them. Returns how many were new.
async fn import_blobs(
    conn: &tracklab_client::Connection,
    files: &[PathBuf],
) -> anyhow::Result<u64> {
    let blobs = blobs_beside(files);
    if blobs.is_empty() {
        return Ok(0);
    }
    let missing: BTreeSet<String> = conn
        .blobs()
        .has(tracklab_proto::v1::HasBlobsRequest {
            digests: blobs.iter().map(|(d, _)| d.clone()).collect(),
        })
        .await
        .context("asking the daemon which blobs it has")?
        .into_inner()
        .missing
        .into_iter()
        .collect();
    let mut n = 0;
    for (digest, path) in blobs.iter().filter(|(d, _)| missing.contains(d)) {
        conn.blobs()
            .adopt(tracklab_proto::v1::AdoptFileRequest {
                path: path.display().to_string(),
                digest: digest.clone(),
            })
            .await
            .map_err(|s| anyhow::anyhow!("importing blob {}: {}", path.display(), s.message()))?;
        n += 1;
    }
    Ok(n)
}

async fn import(
    ctx: &Ctx,
    files: Vec<PathBuf>,
    pb: &ProgressBar,
    started: Instant,
) -> anyhow::Result<Totals> {
    let conn = ctx.connect().await?;
    let blobs = import_blobs(&conn, &files).await?;
    let (ev_tx, mut ev_rx) = mpsc::channel::<Event>(8);
    let reader = std::thread::spawn(move || -> anyhow::Result<()> {
        for f in files {
            read_log(&f, &ev_tx)?;
        }
        Ok(())
    });
    let (req_tx, req_rx) = mpsc::channel::<IngestRequest>(IN_FLIGHT);
    let mut responses = conn
        .ingest()
        .stream(ReceiverStream::new(req_rx))
        .await
        .context("opening the ingest stream")?
        .into_inner();
    let mut totals = Totals {
        blobs,
        ..Default::default()
    };
    let mut req_tx = Some(req_tx);
    let mut next_batch = 1u64;
    let mut in_flight = 0usize;
    let mut reading = true;
    loop {
        tokio::select! {
            ev = ev_rx.recv(), if reading && in_flight < IN_FLIGHT => match ev {
                Some(Event::Batch(records)) => {
                    totals.records += records.len() as u64;
                    for r in &records {
                        if !totals.runs.contains(&r.run_id) {
                            totals.runs.insert(r.run_id.clone());
                        }
                    }
                    let req = IngestRequest { batch_id: next_batch, records, import: true };
                    next_batch += 1;
                    in_flight += 1;
                    let tx = req_tx.as_ref().ok_or_else(|| anyhow!("ingest stream closed"))?;
                    tx.send(req).await.map_err(|_| anyhow!("the daemon closed the ingest stream"))?;
                }
                Some(Event::Progress(n)) => {
                    pb.inc(n);
                    let secs = started.elapsed().as_secs_f64().max(1e-3);
                    pb.set_message(format!("{:.0} records/s", totals.records as f64 / secs));
                }
                Some(Event::Problem(p)) => totals.problems.push(p),
                Some(Event::FileDone) => totals.files += 1,
                None => {
                    reading = false;
                    // No more batches: closing the request stream lets the
                    // daemon end the response stream after the last ack.
                    req_tx = None;
                }
            },
            resp = responses.next() => match resp {
                Some(Ok(r)) => {
                    if r.batch_id != 0 {
                        in_flight = in_flight.saturating_sub(1);
                        totals.duplicates += r.duplicates;
                    }
                    totals.warnings += r.warnings.len() as u64;
                }
                Some(Err(status)) => {
                    return Err(anyhow!("the daemon refused the import: {}", status.message()));
                }
                None => break,
            },
        }
    }
    drop(req_tx);
    // If the daemon ended the stream early the reader may wait on a full
    // channel: closing it lets the reader stop.
    drop(ev_rx);
    if reading || in_flight > 0 {
        let _ = reader.join();
        bail!(
            "the daemon ended the ingest stream before the import was acknowledged ({in_flight} batches pending); run the sync again (it is idempotent)"
        );
    }
    match reader.join() {
        Ok(r) => r?,
        Err(_) => bail!("the log reader thread panicked"),
    }
    Ok(totals)
}
