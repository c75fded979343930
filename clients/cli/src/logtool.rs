//! `tracklab log verify PATH…`: checks every frame of run logs, directly on
//! the files (no daemon needed), and reports per file: frames, records,
//! runs, each writer's sequence range, and every problem with its offset.
//!
//! Problems (exit code 3): a file that is not a readable run log (bad
//! header, newer format version), damaged frames, a torn or damaged tail,
//! a frame whose payload does not decode, a writer whose sequence numbers
//! jump (records lost to damage).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;
use tracklab_log::Tail;
use tracklab_store::codec::decode_payload;

use crate::ctx::{Ctx, Outcome};
use crate::sync::collect_logs;

/// One writer's sequence numbers as found in a file.
#[derive(Debug, Clone, Default)]
pub struct WriterSeqs {
    pub first: u64,
    pub last: u64,
    pub records: u64,
}

/// What `verify` found in one file.
#[derive(Debug, Default)]
pub struct FileReport {
    pub path: PathBuf,
    pub frames: u64,
    pub records: u64,
    pub bytes: u64,
    pub writers: BTreeMap<(String, u64), WriterSeqs>,
    pub problems: Vec<String>,
    /// Facts worth knowing that are not damage.
    pub notes: Vec<String>,
}

pub fn verify_file(path: &Path) -> FileReport {
    let mut rep = FileReport {
        path: path.to_path_buf(),
        ..Default::default()
    };
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut writers: BTreeMap<(String, u64), WriterSeqs> = BTreeMap::new();
    let mut records = 0u64;
    let scan = tracklab_log::scan(path, tracklab_log::HEADER_LEN, |frame| {
        let batch = match decode_payload(frame.payload) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!(
                    "frame at offset {} does not decode: {e}",
                    frame.offset
                ));
                return Ok::<(), std::convert::Infallible>(());
            }
        };
        for rec in batch.records {
            records += 1;
            let w = writers
                .entry((rec.run_id.clone(), rec.writer_id))
                .or_default();
            if w.records == 0 {
                w.first = rec.seq;
                if rec.seq != 1 {
                    notes.push(format!(
                        "run {}, writer {:016x} starts at seq {} (offset {}): a tail whose records 1..{} are elsewhere (an SDK keeps such a tail when its daemon goes away)",
                        rec.run_id,
                        rec.writer_id,
                        rec.seq,
                        frame.offset,
                        rec.seq.saturating_sub(1)
                    ));
                }
            } else if rec.seq != w.last + 1 {
                problems.push(format!(
                    "run {}, writer {:016x}: sequence jumps from {} to {} at offset {}",
                    rec.run_id, rec.writer_id, w.last, rec.seq, frame.offset
                ));
            }
            w.last = rec.seq;
            w.records += 1;
        }
        Ok(())
    });
    match scan {
        Ok(report) => {
            rep.frames = report.frames;
            rep.bytes = report.file_len;
            for c in &report.corruptions {
                problems.push(format!(
                    "damaged frame at offset {}: {}; skipped to {}",
                    c.offset,
                    c.kind,
                    c.resumed_at
                        .map_or_else(|| "the end".to_string(), |o| format!("offset {o}"))
                ));
            }
            match report.tail {
                Tail::Clean => {}
                Tail::Torn { offset, reason } => problems.push(format!(
                    "torn tail at offset {offset}: {reason} (an interrupted write; the daemon cuts it at start-up, nothing acknowledged is in it)"
                )),
                Tail::Damaged { offset, kind } => {
                    problems.push(format!("damaged final frame at offset {offset}: {kind}"))
                }
            }
        }
        Err(e) => {
            rep.bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            problems.push(format!("{e}"));
        }
    }
    rep.records = records;
    rep.writers = writers;
    rep.problems = problems;
    rep.notes = notes;
    rep
}

fn render(rep: &FileReport) -> String {
    let runs: std::collections::BTreeSet<&String> = rep.writers.keys().map(|(r, _)| r).collect();
    let verdict = if rep.problems.is_empty() {
        "ok"
    } else {
        "PROBLEMS"
    };
    let mut out = format!(
        "{}: {verdict}: {} frames, {} records, {} run(s), {} writer(s), {} bytes\n",
        rep.path.display(),
        rep.frames,
        rep.records,
        runs.len(),
        rep.writers.len(),
        rep.bytes
    );
    for ((run, writer), w) in &rep.writers {
        out.push_str(&format!(
            "  run {run} writer {writer:016x}: seq {}..{} ({} records)\n",
            w.first, w.last, w.records
        ));
    }
    for n in &rep.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    for p in &rep.problems {
        out.push_str(&format!("  problem: {p}\n"));
    }
    out
}

fn to_json(rep: &FileReport) -> serde_json::Value {
    json!({
        "path": rep.path.display().to_string(),
        "ok": rep.problems.is_empty(),
        "frames": rep.frames,
        "records": rep.records,
        "bytes": rep.bytes,
        "writers": rep.writers.iter().map(|((run, writer), w)| json!({
            "run_id": run,
            "writer": format!("{writer:016x}"),
            "first_seq": w.first,
            "last_seq": w.last,
            "records": w.records,
        })).collect::<Vec<_>>(),
        "problems": rep.problems,
        "notes": rep.notes,
    })
}

pub fn verify(ctx: &Ctx, paths: &[PathBuf]) -> anyhow::Result<Outcome> {
    let files = collect_logs(paths)?;
    let reports: Vec<FileReport> = files.iter().map(|f| verify_file(f)).collect();
    if ctx.json {
        let all: Vec<_> = reports.iter().map(to_json).collect();
        crate::outln!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        for r in &reports {
            crate::out!("{}", render(r));
        }
    }
    let bad = reports.iter().filter(|r| !r.problems.is_empty()).count();
    if bad > 0 {
        if !ctx.json {
            eprintln!("{bad} of {} file(s) have problems", reports.len());
        }
        Ok(Outcome::Problems)
    } else {
        Ok(Outcome::Ok)
    }
}
