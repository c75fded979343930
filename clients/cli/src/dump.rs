//! `tracklab log dump PATH`: one line per record of a run log, readable by
//! people (or, with `--json`, one JSON object per record). Damage is
//! skipped as `log verify` reports it, and noted on standard error.

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use serde_json::{Value as Json, json};
use tracklab_proto::v1::record::Payload;
use tracklab_proto::v1::{self, Item, Path as ItemPath, Record};
use tracklab_store::codec::decode_payload;
use tracklab_store::replay::scan_problems;

use crate::ctx::{Ctx, Outcome};
use crate::fmt::{format_time_us, item_key, value_to_string};
use crate::json::{items_json, summary_names};

fn metric_def_json(m: &v1::MetricDefinition) -> Json {
    json!({
        "name": if m.name.is_empty() { &m.glob_name } else { &m.name },
        "glob": !m.glob_name.is_empty(),
        "step_metric": m.step_metric,
        "step_sync": m.step_sync,
        "hidden": m.hidden,
        "summary": summary_names(m.summary.as_ref()),
        "goal": m.goal,
        "overwrite": m.overwrite,
    })
}

fn items_text(items: &[Item]) -> String {
    items
        .iter()
        .map(|it| {
            format!(
                "{}={}",
                item_key(&it.path),
                it.value.as_ref().map(value_to_string).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn paths_text(paths: &[ItemPath]) -> String {
    paths
        .iter()
        .map(|p| item_key(&p.path))
        .collect::<Vec<_>>()
        .join(",")
}

fn update_text(update: &[Item], remove: &[ItemPath]) -> String {
    let mut s = items_text(update);
    if !remove.is_empty() {
        s.push_str(&format!(" remove=[{}]", paths_text(remove)));
    }
    s.trim().to_string()
}

/// Kind name and a one-line description of a record's payload.
pub fn describe(p: Option<&Payload>) -> (&'static str, String) {
    match p {
        None => ("empty", String::new()),
        Some(Payload::RunStart(s)) => (
            "run_start",
            format!(
                "project={:?} name={:?} resume={} pid={} config: {} items",
                s.project,
                s.name,
                s.resume,
                s.pid,
                s.config.len()
            ),
        ),
        Some(Payload::RunUpdate(u)) => {
            let mut parts = Vec::new();
            for (k, v) in [
                ("name", &u.name),
                ("group", &u.group),
                ("job_type", &u.job_type),
                ("notes", &u.notes),
            ] {
                if let Some(v) = v {
                    parts.push(format!("{k}={v:?}"));
                }
            }
            if u.set_tags {
                parts.push(format!("tags={:?}", u.tags));
            }
            if let Some(d) = u.deleted {
                parts.push(format!("deleted={d}"));
            }
            ("run_update", parts.join(" "))
        }
        Some(Payload::Config(c)) => ("config", update_text(&c.update, &c.remove)),
        Some(Payload::History(h)) => {
            let mut s = String::new();
            if let Some(step) = h.step {
                s.push_str(&format!("step={step} "));
            }
            if let Some(f) = h.flush {
                s.push_str(&format!("commit={f} "));
            }
            s.push_str(&items_text(&h.items));
            ("history", s.trim().to_string())
        }
        Some(Payload::Summary(s)) => ("summary", update_text(&s.update, &s.remove)),
        Some(Payload::Metric(m)) => ("metric", metric_def_json(m).to_string()),
        Some(Payload::Output(o)) => (
            "output",
            format!(
                "{} {} line(s): {}",
                if o.stream == v1::OutputStream::Stderr as i32 {
                    "stderr"
                } else {
                    "stdout"
                },
                o.lines.len(),
                o.lines.first().map(String::as_str).unwrap_or("")
            ),
        ),
        Some(Payload::Files(f)) => (
            "files",
            f.files
                .iter()
                .map(|f| f.path.clone())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Some(Payload::Stats(s)) => ("stats", items_text(&s.items)),
        Some(Payload::Alert(a)) => (
            "alert",
            format!("level={} {:?}: {}", a.level, a.title, a.text),
        ),
        Some(Payload::Exit(e)) => (
            "exit",
            format!(
                "exit_code={}{}",
                e.exit_code,
                if e.crashed { " crashed" } else { "" }
            ),
        ),
        Some(Payload::Artifact(a)) => (
            "artifact",
            format!(
                "{}:{} type={} files={} aliases={:?}{}",
                a.name,
                a.digest.chars().take(12).collect::<String>(),
                a.r#type,
                a.entries.len(),
                a.aliases,
                if a.role.is_empty() {
                    String::new()
                } else {
                    format!(" role={}", a.role)
                }
            ),
        ),
        Some(Payload::UseArtifact(u)) => (
            "use_artifact",
            format!(
                "{}/{}:{}{}",
                u.project,
                u.name,
                u.digest.chars().take(12).collect::<String>(),
                if u.role.is_empty() {
                    String::new()
                } else {
                    format!(" role={}", u.role)
                }
            ),
        ),
        Some(Payload::Registry(r)) => ("registry", format!("model={} {:?}", r.model, r.op)),
        Some(Payload::Sweep(s)) => ("sweep", format!("sweep={} {:?}", s.sweep_id, s.op)),
    }
}

fn payload_json(p: Option<&Payload>) -> Json {
    match p {
        Some(Payload::Config(c)) => json!({
            "update": items_json(&c.update),
            "remove": c.remove.iter().map(|p| item_key(&p.path)).collect::<Vec<_>>(),
        }),
        Some(Payload::Summary(s)) => json!({
            "update": items_json(&s.update),
            "remove": s.remove.iter().map(|p| item_key(&p.path)).collect::<Vec<_>>(),
        }),
        Some(Payload::History(h)) => json!({
            "step": h.step, "commit": h.flush, "items": items_json(&h.items),
        }),
        Some(Payload::Stats(s)) => json!({ "items": items_json(&s.items) }),
        Some(Payload::RunStart(s)) => json!({
            "project": s.project, "name": s.name, "group": s.group, "job_type": s.job_type,
            "tags": s.tags, "notes": s.notes, "config": items_json(&s.config), "host": s.host,
            "program": s.program, "args": s.args, "python": s.python, "user": s.user,
            "pid": s.pid, "resume": s.resume,
        }),
        Some(Payload::Metric(m)) => metric_def_json(m),
        Some(Payload::Output(o)) => json!({ "stream": o.stream, "lines": o.lines }),
        Some(Payload::Exit(e)) => json!({ "exit_code": e.exit_code, "crashed": e.crashed }),
        other => Json::String(describe(other).1),
    }
}

fn record_line(offset: u64, rec: &Record) -> String {
    let (kind, text) = describe(rec.payload.as_ref());
    format!(
        "@{offset} {} w={:016x} #{} {} {kind} {text}",
        rec.run_id,
        rec.writer_id,
        rec.seq,
        format_time_us(rec.timestamp_us)
    )
    .trim_end()
    .to_string()
}

fn record_json(offset: u64, rec: &Record) -> Json {
    let (kind, _) = describe(rec.payload.as_ref());
    json!({
        "offset": offset,
        "run_id": rec.run_id,
        "writer": format!("{:016x}", rec.writer_id),
        "seq": rec.seq,
        "timestamp_us": rec.timestamp_us,
        "kind": kind,
        "payload": payload_json(rec.payload.as_ref()),
    })
}

pub fn dump(ctx: &Ctx, path: &Path) -> anyhow::Result<Outcome> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut undecodable = Vec::new();
    let report = tracklab_log::scan(path, tracklab_log::HEADER_LEN, |frame| {
        match decode_payload(frame.payload) {
            Ok(batch) => {
                for rec in &batch.records {
                    let line = if ctx.json {
                        record_json(frame.offset, rec).to_string()
                    } else {
                        record_line(frame.offset, rec)
                    };
                    writeln!(out, "{line}")?;
                }
            }
            Err(e) => undecodable.push(format!(
                "{}: frame at offset {} does not decode: {e}",
                path.display(),
                frame.offset
            )),
        }
        Ok::<(), std::io::Error>(())
    });
    let _ = out.flush();
    let report = match report {
        Ok(r) => r,
        // A closed pipe (`| head`) ends the dump quietly.
        Err(tracklab_log::ScanError::Callback(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(Outcome::Ok);
        }
        Err(tracklab_log::ScanError::Callback(e)) => return Err(e.into()),
        Err(tracklab_log::ScanError::Log(e)) => return Err(anyhow!("{e}")),
    };
    let mut problems = scan_problems(&report);
    problems.extend(undecodable);
    for p in &problems {
        eprintln!("problem: {p}");
    }
    Ok(if problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}
