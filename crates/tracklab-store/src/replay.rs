//! Replaying run logs into the store: recovery after a restart (from each
//! run's applied position) and a full rebuild (from scratch).

use std::path::Path;
use std::time::Instant;

use tracklab_log::{ScanError, ScanReport, Tail};

use crate::codec::decode_payload;
use crate::{Applier, DataDir, StoreError};

/// Commit to sled after this many frames during a replay.
const COMMIT_EVERY_FRAMES: u64 = 512;

/// What a replay found and did.
#[derive(Debug, Default, Clone)]
pub struct ReplayReport {
    pub runs: u64,
    pub frames: u64,
    pub records: u64,
    pub duplicates: u64,
    pub history_points: u64,
    pub elapsed_ms: u64,
    /// Damage found in the logs, each with file and offset.
    pub problems: Vec<String>,
}

impl ReplayReport {
    fn merge(&mut self, o: ReplayReport) {
        self.runs += o.runs;
        self.frames += o.frames;
        self.records += o.records;
        self.duplicates += o.duplicates;
        self.history_points += o.history_points;
        self.problems.extend(o.problems);
    }
}

/// Describes what a scan found that is not a clean end, for operators.
pub fn scan_problems(report: &ScanReport) -> Vec<String> {
    let path = report.path.display();
    let mut out: Vec<String> = report
        .corruptions
        .iter()
        .map(|c| {
            format!(
                "{path}: damaged frame at offset {}: {:?}; skipped to {}",
                c.offset,
                c.kind,
                c.resumed_at
                    .map_or_else(|| "the end".to_string(), |o| format!("offset {o}"))
            )
        })
        .collect();
    match &report.tail {
        Tail::Clean => {}
        Tail::Torn { offset, .. } => out.push(format!(
            "{path}: torn tail at offset {offset} (an unfinished write; nothing acknowledged is lost)"
        )),
        Tail::Damaged { offset, kind } => out.push(format!(
            "{path}: damaged final frame at offset {offset}: {kind:?}"
        )),
    }
    out
}

/// Applies the frames of one run's log that lie past the run's applied
/// position. If the store claims more than the log holds (the store is
/// ahead of its source of truth), the run is re-applied from the start.
pub fn replay_run(
    applier: &mut Applier,
    run_id: &str,
    log: &Path,
) -> Result<ReplayReport, StoreError> {
    let start = Instant::now();
    let file_len = std::fs::metadata(log)
        .map_err(|source| StoreError::Io {
            path: log.to_path_buf(),
            source,
        })?
        .len();
    if applier.applied_end(run_id) > file_len {
        tracing::warn!(
            run_id,
            applied = applier.applied_end(run_id),
            file_len,
            "store is ahead of the run log; re-applying the run from its log"
        );
        applier.reset_run(run_id)?;
    }
    let from = applier.applied_end(run_id).max(tracklab_log::HEADER_LEN);
    let mut rep = ReplayReport {
        runs: 1,
        ..Default::default()
    };
    let mut since_commit = 0u64;
    let scan = tracklab_log::scan(log, from, |frame| -> Result<(), StoreError> {
        rep.frames += 1;
        match decode_payload(frame.payload) {
            Ok(batch) => {
                let o = applier.apply_frame(run_id, frame.end, &batch.records)?;
                rep.records += o.records;
                rep.duplicates += o.duplicates;
                rep.history_points += o.history_points;
            }
            Err(e) => rep.problems.push(format!(
                "{}: frame at offset {} does not decode: {e}; skipped",
                log.display(),
                frame.offset
            )),
        }
        since_commit += 1;
        if since_commit >= COMMIT_EVERY_FRAMES {
            applier.commit()?;
            since_commit = 0;
        }
        Ok(())
    });
    let report = match scan {
        Ok(r) => r,
        Err(ScanError::Callback(e)) => return Err(e),
        Err(ScanError::Log(source)) => {
            return Err(StoreError::Log {
                path: log.to_path_buf(),
                source,
            });
        }
    };
    applier.commit()?;
    rep.problems.extend(scan_problems(&report));
    rep.elapsed_ms = start.elapsed().as_millis() as u64;
    Ok(rep)
}

/// Brings the store up to date with every run log of a data dir (recovery
/// after a restart or a crash). Runs the store knows whose log is gone
/// (removed by `gc`, or by hand) are removed from the store: the logs are
/// the truth.
pub fn catch_up(applier: &mut Applier, data: &DataDir) -> Result<ReplayReport, StoreError> {
    let start = Instant::now();
    let mut total = ReplayReport::default();
    let ids = data.run_ids().map_err(|source| StoreError::Io {
        path: data.runs_dir(),
        source,
    })?;
    let orphans: Vec<String> = applier
        .runs()
        .map(|r| r.state.run_id().to_string())
        .filter(|id| ids.binary_search(id).is_err())
        .collect();
    for id in orphans {
        tracing::info!(
            run_id = id,
            "run has no log any more; removing it from the store"
        );
        applier.reset_run(&id)?;
    }
    for id in ids {
        match replay_run(applier, &id, &data.run_log(&id)) {
            Ok(r) => total.merge(r),
            // A log that cannot be read at all (unknown version, not a run
            // log) keeps its run offline; the other runs go on.
            Err(StoreError::Log { path, source }) => total.problems.push(format!(
                "run {id}: {}: {source}; the run is left out",
                path.display()
            )),
            Err(e) => return Err(e),
        }
    }
    total.elapsed_ms = start.elapsed().as_millis() as u64;
    Ok(total)
}

/// Throws the derived state away and rebuilds it from every run log.
pub fn rebuild(applier: &mut Applier, data: &DataDir) -> Result<ReplayReport, StoreError> {
    applier.reset_all()?;
    catch_up(applier, data)
}
