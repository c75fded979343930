//! `tracklab import --from wandb PATH…`: wandb's offline run files
//! (`run-<id>.wandb`, see `wandb_file`) become TrackLab runs, sent to the
//! daemon as an import like `tracklab sync` does.
//!
//! | wandb record | TrackLab record |
//! |---|---|
//! | run (first) | RunStart: id, project (or `--project`), display name, group, job type, tags, notes, host, config, start time |
//! | run (later) | RunUpdate: name, tags, notes |
//! | config | ConfigUpdate (the `_wandb` key is wandb's own and is left out) |
//! | history | PartialHistory at its `_step`, with its `_timestamp` (`_runtime` is derived again) |
//! | summary | SummaryUpdate of the keys not starting with `_` |
//! | metric | MetricDefinition |
//! | output, output_raw | ConsoleOutput lines (`\r` redraws keep their last state) |
//! | stats | SystemStats |
//! | exit | RunExit with its exit code; a file without one (a crash) ends crashed |
//!
//! Media values keep wandb's JSON; the files they name (`media/…`, in the
//! wandb run's `files/` folder beside the `.wandb` file) are stored in the
//! blob store and recorded as the run's files, so the dashboard and `Api`
//! read them as they read TrackLab's own media. Other files, artifacts,
//! telemetry and the rest are counted and skipped. Values
//! are wandb's JSON (NaN and ±Infinity included). Idempotent: each file is
//! one writer whose id comes from the run id and the file name, with
//! sequence numbers in file order, so importing again stores nothing twice.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, anyhow};
use serde_json::Value as Json;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tracklab_proto::v1::{self, IngestRequest, record::Payload, value::Kind};

use super::wandb_file::{self, Item, Record};
use crate::args::ImportArgs;
use crate::ctx::{Ctx, Outcome, UsageError};

/// A wandb JSON value as a TrackLab value.
pub fn value(json: &str) -> v1::Value {
    let t = json.trim();
    let kind = match t {
        "NaN" => Kind::Float(f64::NAN),
        "Infinity" => Kind::Float(f64::INFINITY),
        "-Infinity" => Kind::Float(f64::NEG_INFINITY),
        _ => match serde_json::from_str::<Json>(t) {
            Ok(Json::Bool(b)) => Kind::Bool(b),
            Ok(Json::String(s)) => Kind::Str(s),
            Ok(Json::Number(n)) => match n.as_i64() {
                Some(i) if !t.contains(['.', 'e', 'E']) => Kind::Int(i),
                _ => Kind::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            // null, lists, objects (media), and JSON with NaN inside.
            _ => Kind::Json(t.to_string()),
        },
    };
    v1::Value { kind: Some(kind) }
}

/// Items as TrackLab items: a JSON object that is not a media value
/// (no `_type`) becomes nested keys, as the TrackLab SDK logs nested dicts.
fn items(list: &[Item], keep: impl Fn(&[String]) -> bool) -> Vec<v1::Item> {
    fn expand(path: Vec<String>, j: &Json, out: &mut Vec<v1::Item>) {
        match j {
            Json::Object(m) if !m.is_empty() && !m.contains_key("_type") => {
                for (k, v) in m {
                    let mut p = path.clone();
                    p.push(k.clone());
                    expand(p, v, out);
                }
            }
            _ => out.push(v1::Item {
                path,
                value: Some(value(&j.to_string())),
            }),
        }
    }
    let mut out = Vec::new();
    for i in list {
        let path = i.path();
        if path.is_empty() || !keep(&path) {
            continue;
        }
        match serde_json::from_str::<Json>(i.value_json.trim()) {
            Ok(j @ Json::Object(_)) => expand(path, &j, &mut out),
            _ => out.push(v1::Item {
                path,
                value: Some(value(&i.value_json)),
            }),
        }
    }
    out
}

/// wandb writes a media value in history and summary as one item per field
/// (`img._type`, `img.path`, …); TrackLab keeps a media value whole, as
/// its SDK logs it: the items under a path that has a `_type` string
/// become one JSON value there.
fn regroup_media(items: Vec<v1::Item>) -> Vec<v1::Item> {
    let prefixes: Vec<Vec<String>> = items
        .iter()
        .filter(|i| {
            i.path.len() > 1
                && i.path.last().is_some_and(|k| k == "_type")
                && matches!(
                    i.value.as_ref().and_then(|v| v.kind.as_ref()),
                    Some(Kind::Str(_))
                )
        })
        .map(|i| i.path[..i.path.len() - 1].to_vec())
        .collect();
    if prefixes.is_empty() {
        return items;
    }
    let mut groups: Vec<(Vec<String>, serde_json::Map<String, Json>)> = prefixes
        .into_iter()
        .map(|p| (p, serde_json::Map::new()))
        .collect();
    let mut out = Vec::with_capacity(items.len());
    let mut first_at: Vec<Option<usize>> = vec![None; groups.len()];
    for it in items {
        let Some(g) = groups
            .iter()
            .position(|(p, _)| it.path.len() > p.len() && it.path.starts_with(p))
        else {
            out.push(it);
            continue;
        };
        let (prefix, obj) = &mut groups[g];
        let rest = &it.path[prefix.len()..];
        let value = it
            .value
            .as_ref()
            .map_or(Json::Null, crate::fmt::value_to_json);
        insert_path(obj, rest, value);
        if first_at[g].is_none() {
            first_at[g] = Some(out.len());
            out.push(v1::Item::default());
        }
    }
    for (g, (path, obj)) in groups.into_iter().enumerate() {
        if let Some(at) = first_at[g] {
            out[at] = v1::Item {
                path,
                value: Some(v1::Value {
                    kind: Some(Kind::Json(Json::Object(obj).to_string())),
                }),
            };
        }
    }
    out
}

/// Sets `path` (non-empty) inside `obj`, making objects on the way.
fn insert_path(obj: &mut serde_json::Map<String, Json>, path: &[String], value: Json) {
    match path {
        [] => {}
        [last] => {
            obj.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let child = obj
                .entry(first.clone())
                .or_insert_with(|| Json::Object(serde_json::Map::new()));
            if !child.is_object() {
                *child = Json::Object(serde_json::Map::new());
            }
            if let Json::Object(m) = child {
                insert_path(m, rest, value);
            }
        }
    }
}

fn paths(list: &[Item]) -> Vec<v1::Path> {
    list.iter().map(|i| v1::Path { path: i.path() }).collect()
}

fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h.max(1)
}

/// Console text to lines, per stream, as a terminal would show them.
#[derive(Default)]
struct Console {
    partial: [String; 2],
}

impl Console {
    fn feed(&mut self, stream: usize, text: &str) -> Vec<String> {
        let buf = &mut self.partial[stream];
        buf.push_str(text);
        let mut out = Vec::new();
        while let Some(i) = buf.find('\n') {
            let line: String = buf.drain(..=i).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            out.push(line.rsplit('\r').next().unwrap_or("").to_string());
        }
        out
    }
}

/// The TrackLab records of one wandb run file.
pub struct Converted {
    pub run_id: String,
    pub records: Vec<v1::Record>,
    pub skipped: u64,
    pub crashed: bool,
}

pub fn convert(
    recs: &[Record],
    file_name: &str,
    project: Option<&str>,
    media: Vec<v1::FileEntry>,
) -> anyhow::Result<Converted> {
    let first_run = recs.iter().find_map(|r| r.run.as_ref()).ok_or_else(|| {
        anyhow!("{file_name} has no run record; it is not a complete wandb run file")
    })?;
    let run_id = first_run.run_id.clone();
    let writer_id = fnv1a(&["wandb-import", &run_id, file_name]);
    let start_us = first_run.start_time.as_ref().map_or(0, |t| t.micros());
    let mut out: Vec<v1::Record> = Vec::new();
    let mut last_ts = start_us;
    let push = |out: &mut Vec<v1::Record>, ts: i64, payload: Payload| {
        let seq = out.len() as u64 + 1;
        out.push(v1::Record {
            run_id: run_id.clone(),
            writer_id,
            seq,
            timestamp_us: ts,
            payload: Some(payload),
        });
    };
    let mut started = false;
    let mut exited = false;
    let mut skipped = 0u64;
    let mut console = Console::default();
    let not_wandb = |p: &[String]| p.first().is_some_and(|k| k != "_wandb");
    let user_key = |p: &[String]| p.first().is_some_and(|k| !k.starts_with('_'));
    for r in recs {
        if let Some(run) = &r.run {
            if !started {
                started = true;
                let cfg = run
                    .config
                    .as_ref()
                    .map(|c| items(&c.update, not_wandb))
                    .unwrap_or_default();
                let start = v1::RunStart {
                    project: project
                        .map(str::to_string)
                        .or_else(|| (!run.project.is_empty()).then(|| run.project.clone()))
                        .unwrap_or_else(|| "uncategorized".into()),
                    name: if run.display_name.is_empty() {
                        run.run_id.clone()
                    } else {
                        run.display_name.clone()
                    },
                    group: run.run_group.clone(),
                    job_type: run.job_type.clone(),
                    tags: run.tags.clone(),
                    notes: run.notes.clone(),
                    config: cfg,
                    host: run.host.clone(),
                    program: String::new(),
                    ..Default::default()
                };
                push(&mut out, start_us, Payload::RunStart(start));
                if !media.is_empty() {
                    // The media files the history names, already in the
                    // blob store: stored with the run before any reference.
                    push(
                        &mut out,
                        start_us,
                        Payload::Files(v1::Files {
                            files: media.clone(),
                        }),
                    );
                }
            } else {
                let upd = v1::RunUpdate {
                    name: (!run.display_name.is_empty()).then(|| run.display_name.clone()),
                    set_tags: !run.tags.is_empty(),
                    tags: run.tags.clone(),
                    notes: (!run.notes.is_empty()).then(|| run.notes.clone()),
                    ..Default::default()
                };
                push(&mut out, last_ts, Payload::RunUpdate(upd));
            }
            continue;
        }
        if !started {
            skipped += 1;
            continue;
        }
        if let Some(h) = &r.history {
            let step = h.step.as_ref().map(|s| s.num).or_else(|| {
                h.item
                    .iter()
                    .find(|i| i.path() == ["_step"])
                    .and_then(|i| i.value_json.trim().parse::<i64>().ok())
            });
            let ts = h
                .item
                .iter()
                .find(|i| i.path() == ["_timestamp"])
                .and_then(|i| i.value_json.trim().parse::<f64>().ok())
                .map_or(last_ts, |s| (s * 1e6) as i64);
            last_ts = ts;
            let history = v1::PartialHistory {
                // `_timestamp` is kept as wandb wrote it; `_step` and
                // `_runtime` are derived again.
                items: regroup_media(items(&h.item, |p| {
                    !matches!(p[0].as_str(), "_step" | "_runtime")
                })),
                step,
                flush: Some(true),
            };
            push(&mut out, ts, Payload::History(history));
        } else if let Some(c) = &r.config {
            push(
                &mut out,
                last_ts,
                Payload::Config(v1::ConfigUpdate {
                    update: items(&c.update, not_wandb),
                    remove: paths(&c.remove),
                }),
            );
        } else if let Some(s) = &r.summary {
            let update = regroup_media(items(&s.update, user_key));
            if !update.is_empty() || !s.remove.is_empty() {
                push(
                    &mut out,
                    last_ts,
                    Payload::Summary(v1::SummaryUpdate {
                        update,
                        remove: paths(&s.remove),
                    }),
                );
            }
        } else if let Some(o) = r.output.as_ref().or(r.output_raw.as_ref()) {
            // wandb: STDERR 0, STDOUT 1; TrackLab: STDOUT 0, STDERR 1.
            let (slot, stream) = if o.output_type == 0 {
                (1, v1::OutputStream::Stderr)
            } else {
                (0, v1::OutputStream::Stdout)
            };
            let text = if r.output.is_some() && !o.line.ends_with('\n') {
                format!("{}\n", o.line)
            } else {
                o.line.clone()
            };
            let lines = console.feed(slot, &text);
            if !lines.is_empty() {
                let ts = o.timestamp.as_ref().map_or(last_ts, |t| t.micros());
                push(
                    &mut out,
                    ts,
                    Payload::Output(v1::ConsoleOutput {
                        stream: stream as i32,
                        lines,
                    }),
                );
            }
        } else if let Some(st) = &r.stats {
            let ts = st.timestamp.as_ref().map_or(last_ts, |t| t.micros());
            let items = st
                .item
                .iter()
                .map(|i| v1::Item {
                    path: i.key.split('.').map(str::to_string).collect(),
                    value: Some(value(&i.value_json)),
                })
                .filter(|i| {
                    matches!(
                        i.value.as_ref().and_then(|v| v.kind.as_ref()),
                        Some(Kind::Float(_) | Kind::Int(_))
                    )
                })
                .collect::<Vec<_>>();
            if !items.is_empty() {
                push(&mut out, ts, Payload::Stats(v1::SystemStats { items }));
            }
        } else if let Some(m) = &r.metric {
            let s = m.summary.clone().unwrap_or_default();
            let def = v1::MetricDefinition {
                name: m.name.clone(),
                glob_name: m.glob_name.clone(),
                step_metric: m.step_metric.clone(),
                step_sync: m.options.as_ref().map(|o| o.step_sync).filter(|b| *b),
                hidden: m.options.as_ref().map(|o| o.hidden).filter(|b| *b),
                summary: m.summary.as_ref().map(|_| v1::MetricSummary {
                    min: s.min,
                    max: s.max,
                    mean: s.mean,
                    first: s.first,
                    last: s.last,
                    none: s.none,
                }),
                goal: m.goal,
                overwrite: false,
            };
            push(&mut out, last_ts, Payload::Metric(def));
        } else if let Some(e) = &r.exit {
            exited = true;
            push(
                &mut out,
                last_ts,
                Payload::Exit(v1::RunExit {
                    exit_code: e.exit_code,
                    crashed: false,
                }),
            );
        } else {
            skipped += 1;
        }
    }
    for slot in 0..2 {
        let rest = std::mem::take(&mut console.partial[slot]);
        if !rest.is_empty() {
            let stream = if slot == 1 {
                v1::OutputStream::Stderr
            } else {
                v1::OutputStream::Stdout
            };
            let line = rest.rsplit('\r').next().unwrap_or("").to_string();
            push(
                &mut out,
                last_ts,
                Payload::Output(v1::ConsoleOutput {
                    stream: stream as i32,
                    lines: vec![line],
                }),
            );
        }
    }
    if !exited {
        push(
            &mut out,
            last_ts,
            Payload::Exit(v1::RunExit {
                exit_code: 1,
                crashed: true,
            }),
        );
    }
    Ok(Converted {
        run_id,
        records: out,
        skipped,
        crashed: !exited,
    })
}

/// The files a media value names: its `path`, or each of `filenames`
/// (`images/separated`), under `media/`.
fn media_paths(json: &str, out: &mut BTreeSet<String>) {
    fn walk(j: &Json, out: &mut BTreeSet<String>) {
        match j {
            Json::Object(m) => {
                if m.get("_type").is_some_and(Json::is_string) {
                    let one = m.get("path").into_iter();
                    let many = m
                        .get("filenames")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten();
                    for p in one.chain(many).filter_map(Json::as_str) {
                        if p.starts_with("media/") {
                            out.insert(p.to_string());
                        }
                    }
                }
                m.values().for_each(|v| walk(v, out));
            }
            Json::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    if json.contains("\"_type\"")
        && let Ok(j) = serde_json::from_str::<Json>(json)
    {
        walk(&j, out);
    }
}

/// Stores the media files `recs` name (from the wandb run's `files/`
/// folder beside its `.wandb` file) in the blob store; returns them as
/// file entries, and how many were missing.
fn adopt_media(
    recs: &[Record],
    run_dir: &Path,
    blobs: &tracklab_blobs::BlobStore,
) -> anyhow::Result<(Vec<v1::FileEntry>, Vec<String>)> {
    let mut paths = BTreeSet::new();
    for r in recs {
        let items = r
            .history
            .iter()
            .flat_map(|h| &h.item)
            .chain(r.summary.iter().flat_map(|s| &s.update));
        for it in items {
            media_paths(&it.value_json, &mut paths);
            // A media value written field by field: its `path` / `filenames`.
            let key = it.nested_key.last().unwrap_or(&it.key);
            if key == "path" || key == "filenames" {
                let names = match serde_json::from_str::<Json>(&it.value_json) {
                    Ok(Json::String(p)) => vec![p],
                    Ok(Json::Array(a)) => a
                        .into_iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                };
                paths.extend(names.into_iter().filter(|p| p.starts_with("media/")));
            }
        }
    }
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for p in paths {
        if tracklab_state::artifact::validate_entry_path("path", &p).is_err() {
            missing.push(p);
            continue;
        }
        let file = run_dir.join("files").join(&p);
        if !file.is_file() {
            missing.push(p);
            continue;
        }
        let (digest, size) = blobs
            .put_file(&file)
            .with_context(|| format!("storing {}", file.display()))?;
        found.push(v1::FileEntry {
            path: p,
            policy: v1::FilePolicy::Now as i32,
            digest: digest.to_string(),
            size,
        });
    }
    Ok((found, missing))
}

/// Sends records as import batches; returns (duplicates, warnings).
async fn send(ctx: &Ctx, records: Vec<v1::Record>) -> anyhow::Result<(u64, u64)> {
    let conn = ctx.connect().await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<IngestRequest>(4);
    let mut responses = conn
        .ingest()
        .stream(ReceiverStream::new(rx))
        .await
        .context("opening the ingest stream")?
        .into_inner();
    let batches: Vec<Vec<v1::Record>> = records.chunks(2048).map(<[v1::Record]>::to_vec).collect();
    let n = batches.len();
    let sender = tokio::spawn(async move {
        for (i, records) in batches.into_iter().enumerate() {
            let req = IngestRequest {
                batch_id: i as u64 + 1,
                records,
                import: true,
            };
            if tx.send(req).await.is_err() {
                break;
            }
        }
    });
    let (mut acked, mut dups, mut warns) = (0usize, 0u64, 0u64);
    while acked < n {
        match responses.next().await {
            Some(Ok(r)) => {
                if r.batch_id != 0 {
                    acked += 1;
                    dups += r.duplicates;
                }
                warns += r.warnings.len() as u64;
            }
            Some(Err(s)) => return Err(anyhow!("the daemon refused the import: {}", s.message())),
            None => {
                return Err(anyhow!(
                    "the daemon ended the import early; run it again (it is idempotent)"
                ));
            }
        }
    }
    let _ = sender.await;
    Ok((dups, warns))
}

pub fn import(ctx: &Ctx, args: ImportArgs) -> anyhow::Result<Outcome> {
    let files = crate::sync::collect_files(&args.paths, "wandb")?;
    if files.is_empty() {
        return Err(UsageError(format!(
            "no .wandb files under {}; wandb keeps offline runs in wandb/offline-run-*/run-*.wandb",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into());
    }
    let blobs = tracklab_blobs::BlobStore::open(&ctx.data_dir.join("blobs"))
        .with_context(|| format!("opening the blob store of {}", ctx.data_dir.display()))?;
    let mut problems = 0usize;
    for f in &files {
        let name = f.display().to_string();
        let bytes = std::fs::read(f).with_context(|| format!("reading {name}"))?;
        let read = wandb_file::read(&bytes, &name).map_err(UsageError)?;
        for p in &read.problems {
            eprintln!("problem: {p}");
        }
        problems += read.problems.len();
        let file_name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let run_dir = f.parent().unwrap_or(Path::new("."));
        let (media, missing) = adopt_media(&read.records, run_dir, &blobs)?;
        for m in &missing {
            eprintln!(
                "warning: {name}: media file {m} is not in {}/files; its references stay, without bytes",
                run_dir.display()
            );
        }
        let c = convert(&read.records, &file_name, args.project.as_deref(), media)?;
        let total = c.records.len() as u64;
        let (dups, warns) = ctx.block_on(send(ctx, c.records))?;
        eprintln!(
            "{name}: run {} — {} records imported{}{}{}{}",
            c.run_id,
            total - dups,
            if dups > 0 {
                format!(", {dups} already there")
            } else {
                String::new()
            },
            if warns > 0 {
                format!(", {warns} warnings (see `tracklab show {}`)", c.run_id)
            } else {
                String::new()
            },
            if c.skipped > 0 {
                format!(
                    ", {} wandb records with no TrackLab counterpart skipped",
                    c.skipped
                )
            } else {
                String::new()
            },
            if c.crashed {
                "; it has no exit record, so it is marked crashed"
            } else {
                ""
            },
        );
    }
    Ok(if problems > 0 {
        Outcome::Problems
    } else {
        Outcome::Ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_types() {
        let k = |s: &str| value(s).kind.unwrap();
        assert_eq!(k("3"), Kind::Int(3));
        assert_eq!(k("3.0"), Kind::Float(3.0));
        assert!(matches!(k("NaN"), Kind::Float(f) if f.is_nan()));
        assert_eq!(k("-Infinity"), Kind::Float(f64::NEG_INFINITY));
        assert_eq!(k("\"a\""), Kind::Str("a".into()));
        assert_eq!(k("true"), Kind::Bool(true));
        assert_eq!(k("[1,2]"), Kind::Json("[1,2]".into()));
        assert_eq!(k("{\"a\": NaN}"), Kind::Json("{\"a\": NaN}".into()));
    }

    #[test]
    fn media_fields_become_one_value() {
        let it = |p: &[&str], v: Kind| v1::Item {
            path: p.iter().map(|s| s.to_string()).collect(),
            value: Some(v1::Value { kind: Some(v) }),
        };
        let got = regroup_media(vec![
            it(&["loss"], Kind::Float(0.5)),
            it(&["img", "_type"], Kind::Str("image-file".into())),
            it(&["img", "width"], Kind::Int(7)),
            it(&["img", "meta", "a"], Kind::Int(1)),
            it(&["x"], Kind::Int(1)),
        ]);
        let keys: Vec<String> = got.iter().map(|i| i.path.join(".")).collect();
        assert_eq!(keys, ["loss", "img", "x"]);
        let Some(Kind::Json(text)) = got[1].value.as_ref().and_then(|v| v.kind.clone()) else {
            panic!("img is not JSON: {:?}", got[1]);
        };
        let j: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"_type": "image-file", "width": 7, "meta": {"a": 1}})
        );
    }

    #[test]
    fn console_redraws_keep_their_last_state() {
        let mut c = Console::default();
        assert!(c.feed(0, "10%\r50%").is_empty());
        assert_eq!(c.feed(0, "\r100%\nnext\n"), ["100%", "next"]);
    }
}
