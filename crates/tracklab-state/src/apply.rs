//! The pure apply function: one record of a run's log into the run's state.
//!
//! `apply` reads no clock, no randomness, no environment and does no IO;
//! times come from `Record.timestamp_us`. Applying a run's log record by
//! record therefore always gives the same state and the same emitted rows,
//! whether the daemon does it live or a rebuild does it from the logs.
//!
//! Rules kept here (wandb's step, summary and metric rules live in
//! `history.rs`, `summary.rs` and `metrics.rs`):
//! - idempotence: a record with `seq <= last_seq(writer_id)` is a duplicate
//!   and changes nothing; a gap in a writer's sequence is applied anyway,
//!   with a warning;
//! - the first `RunStart` starts the run; a later one resumes it (wandb's
//!   `core/internal/runbranch/resume.go`: the step restarts one past the
//!   last emitted row, the run time continues from where it stopped, tags
//!   are replaced only when given, config is merged with the new values
//!   winning); `resume = NEVER` on a started run is ignored with a warning;
//! - any other record before the run starts, or after it exits (until a
//!   resume), is ignored with a warning;
//! - `RunExit` flushes the row being built, as wandb's `handleExit` does,
//!   and records `_runtime` in the summary (wandb's `updateRunTiming`);
//! - a record for another run, or with nothing in it, never panics: it is
//!   reported as a warning.
//!
//! Every warning is returned in [`Applied::warnings`] and the newest ones
//! are kept in the state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tracklab_proto::v1;
use v1::record::Payload;

use crate::artifact::ArtifactLink;
use crate::history::{FlushCtx, HistoryRow, step_dropped_message};
use crate::keys::key_name;
use crate::pathmap::PathMap;
use crate::run::{Git, KeptAlert, Metadata, RunState, Status};
use crate::value::Value;

/// One console line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleLine {
    /// `v1::OutputStream` as an integer.
    pub stream: i32,
    pub line: String,
    pub timestamp_us: i64,
}

/// One system-stats sample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsRow {
    pub timestamp_us: i64,
    /// By flat key name.
    pub items: BTreeMap<String, Value>,
}

/// Something the sender (and the run's warning list) should know about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub writer_id: u64,
    pub seq: u64,
    /// One of the [`warning_kind`] constants.
    pub kind: String,
    pub message: String,
}

/// The kinds of [`Warning`].
pub mod warning_kind {
    /// A history record with a step below the current one was dropped.
    pub const STEP_DROPPED: &str = "step_dropped";
    /// A writer's sequence numbers skipped some values.
    pub const SEQ_GAP: &str = "seq_gap";
    /// A record arrived before the run's `RunStart`.
    pub const NOT_STARTED: &str = "not_started";
    /// A record arrived after the run exited.
    pub const AFTER_EXIT: &str = "after_exit";
    /// A `RunStart` with `resume = NEVER` for a run that already exists.
    pub const RESUME_NEVER: &str = "resume_never";
    /// A record for a different run than this state's.
    pub const WRONG_RUN: &str = "wrong_run";
    /// Part of a record could not be used (validation would have rejected it).
    pub const INVALID: &str = "invalid";
}

/// What applying one record produced besides the state change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The record was already applied; nothing changed.
    pub duplicate: bool,
    /// History rows completed by this record, in step order.
    pub rows: Vec<HistoryRow>,
    pub console: Vec<ConsoleLine>,
    pub stats: Vec<StatsRow>,
    pub warnings: Vec<Warning>,
    /// Artifact versions logged or used (the store indexes them).
    pub artifacts: Vec<ArtifactEvent>,
}

/// An artifact record, with what the store needs to index it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArtifactEvent {
    /// `run.log_artifact`: the version, and the record that logged it
    /// (versions are numbered by their first log's time, run and seq).
    Logged {
        link: ArtifactLink,
        r#type: String,
        description: String,
        metadata_json: String,
        aliases: Vec<String>,
        entries: Vec<ManifestFile>,
        writer_id: u64,
        seq: u64,
        timestamp_us: i64,
    },
    /// `run.use_artifact`.
    Used {
        link: ArtifactLink,
        timestamp_us: i64,
    },
}

/// One file of an artifact version.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub digest: String,
    pub size: u64,
    pub r#ref: String,
}

/// The warning sink for one record.
struct Cx<'a> {
    writer_id: u64,
    seq: u64,
    timestamp_us: i64,
    out: &'a mut Applied,
}

impl Cx<'_> {
    fn warn(&mut self, kind: &str, message: String) {
        self.out.warnings.push(Warning {
            writer_id: self.writer_id,
            seq: self.seq,
            kind: kind.to_string(),
            message,
        });
    }

    /// Usable items: those with a non-empty path and a value of known kind.
    fn items(&mut self, items: &[v1::Item], field: &str) -> Vec<(Vec<String>, Value)> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.value.as_ref().and_then(Value::from_proto) {
                Some(value) if !item.path.is_empty() => out.push((item.path.clone(), value)),
                _ => self.warn(
                    warning_kind::INVALID,
                    format!("{field}[{i}] has an empty path or no value; ignored"),
                ),
            }
        }
        out
    }
}

/// Applies one record of the run's log to its state.
pub fn apply(state: &mut RunState, record: &v1::Record) -> Applied {
    let mut out = Applied::default();
    let mut cx = Cx {
        writer_id: record.writer_id,
        seq: record.seq,
        timestamp_us: record.timestamp_us,
        out: &mut out,
    };
    if record.run_id != state.run_id {
        cx.warn(
            warning_kind::WRONG_RUN,
            format!(
                "record for run {:?} applied to run {:?}; ignored",
                record.run_id, state.run_id
            ),
        );
        return out;
    }
    let last = state.last_seq(record.writer_id);
    if record.seq <= last {
        out.duplicate = true;
        return out;
    }
    if record.seq != last.saturating_add(1) {
        // Only damage in a log can cause this (the daemon refuses gaps).
        // The missing records may have advanced the step, so this writer's
        // later history would be misnumbered: it is not applied.
        state.gapped_writers.insert(record.writer_id);
        cx.warn(
            warning_kind::SEQ_GAP,
            format!(
                "writer {:016x} jumped from seq {last} to {}; records in between are missing \
                 (damaged log), so its later history is not applied to avoid misnumbered steps",
                record.writer_id, record.seq
            ),
        );
    }
    state.last_seq.insert(record.writer_id, record.seq);
    if matches!(record.payload, Some(Payload::History(_)))
        && state.gapped_writers.contains(&record.writer_id)
    {
        state.skipped_history = state.skipped_history.saturating_add(1);
        for w in out.warnings.clone() {
            state.push_warning(w);
        }
        return out;
    }

    // A crash mark is the daemon's guess that the client is gone. A record
    // that continues a client writer the run already had proves the guess
    // premature (the unacknowledged tail an SDK kept and `tracklab sync`
    // imports later): the run is open again, and the client's own exit
    // decides how it ends. Deterministic on replay: it depends only on the
    // records.
    if state.status == Status::Crashed
        && record.writer_id != 0
        && last > 0
        && !matches!(record.payload, Some(Payload::RunStart(_)))
    {
        state.status = Status::Running;
    }
    match &record.payload {
        None => cx.warn(warning_kind::INVALID, "record has no payload".to_string()),
        Some(Payload::RunStart(start)) => run_start(state, start, &mut cx),
        Some(_) if !state.started() => cx.warn(
            warning_kind::NOT_STARTED,
            "record for a run that was never started; ignored".to_string(),
        ),
        // Metadata edits (tags, name, notes, delete) apply at any time and
        // do not count as run activity.
        Some(Payload::RunUpdate(u)) => run_update(state, u),
        // Model-registry changes (the daemon's registry log, which is
        // started and ended at once): the store applies them; they are no
        // run activity.
        Some(Payload::Registry(_)) => {}
        // Sweep records (the daemon's sweeps log, started and ended at
        // once, like the registry's) apply at any time.
        Some(Payload::Sweep(op)) => {
            if let Some(why) = crate::sweep::apply(&mut state.sweeps, op, record.timestamp_us) {
                cx.warn(warning_kind::INVALID, why);
            }
        }
        // The daemon (writer 0) may end an exited run again with another
        // state: `tracklab runs set-state`.
        Some(Payload::Exit(e)) if state.exited() && record.writer_id == 0 => {
            set_exit(state, e);
        }
        Some(_) if state.exited() => cx.warn(
            warning_kind::AFTER_EXIT,
            "record for a run that has already exited; ignored".to_string(),
        ),
        Some(payload) => {
            state.updated_us = state.updated_us.max(record.timestamp_us);
            match payload {
                Payload::RunStart(_) => {} // handled above
                Payload::RunUpdate(u) => run_update(state, u),
                Payload::Config(c) => config(state, c, &mut cx),
                Payload::History(h) => history(state, h, &mut cx),
                Payload::Summary(s) => summary(state, s, &mut cx),
                Payload::Metric(m) => {
                    if let Err(bad) = state.metrics.define(m, &mut state.summary) {
                        cx.warn(
                            warning_kind::INVALID,
                            format!("metric definition ignored: {}", bad.0),
                        );
                    }
                }
                Payload::Output(o) => {
                    state.console_lines = state.console_lines.saturating_add(o.lines.len() as u64);
                    cx.out
                        .console
                        .extend(o.lines.iter().map(|line| ConsoleLine {
                            stream: o.stream,
                            line: line.clone(),
                            timestamp_us: record.timestamp_us,
                        }));
                }
                Payload::Files(f) => {
                    for file in f.files.iter().filter(|f| !f.path.is_empty()) {
                        let saved = state.files.entry(file.path.clone()).or_default();
                        saved.policy = file.policy;
                        // A record without bytes (the name, sent first)
                        // keeps an earlier upload.
                        if !file.digest.is_empty() {
                            saved.digest = file.digest.clone();
                            saved.size = file.size;
                        }
                    }
                }
                Payload::Stats(s) => {
                    let items = cx.items(&s.items, "payload.stats.items");
                    let items = items.into_iter().map(|(p, v)| (key_name(&p), v)).collect();
                    cx.out.stats.push(StatsRow {
                        timestamp_us: record.timestamp_us,
                        items,
                    });
                }
                Payload::Alert(a) => state.push_alert(KeptAlert {
                    title: a.title.clone(),
                    text: a.text.clone(),
                    level: a.level,
                }),
                Payload::Exit(e) => exit(state, e, &mut cx),
                Payload::Artifact(a) => {
                    let link = ArtifactLink {
                        project: state.meta.project.clone(),
                        name: a.name.clone(),
                        digest: a.digest.clone(),
                        role: a.role.clone(),
                    };
                    if !state.logged_artifacts.contains(&link) {
                        state.logged_artifacts.push(link.clone());
                    }
                    cx.out.artifacts.push(ArtifactEvent::Logged {
                        link,
                        r#type: a.r#type.clone(),
                        description: a.description.clone(),
                        metadata_json: a.metadata_json.clone(),
                        aliases: a.aliases.clone(),
                        entries: a
                            .entries
                            .iter()
                            .map(|e| ManifestFile {
                                path: e.path.clone(),
                                digest: e.digest.clone(),
                                size: e.size,
                                r#ref: e.r#ref.clone(),
                            })
                            .collect(),
                        writer_id: record.writer_id,
                        seq: record.seq,
                        timestamp_us: record.timestamp_us,
                    });
                }
                Payload::UseArtifact(u) => {
                    let link = ArtifactLink {
                        project: u.project.clone(),
                        name: u.name.clone(),
                        digest: u.digest.clone(),
                        role: u.role.clone(),
                    };
                    if !state.used_artifacts.contains(&link) {
                        state.used_artifacts.push(link.clone());
                    }
                    cx.out.artifacts.push(ArtifactEvent::Used {
                        link,
                        timestamp_us: record.timestamp_us,
                    });
                }
                // Matched above.
                Payload::Registry(_) | Payload::Sweep(_) => {}
            }
        }
    }

    let warnings = out.warnings.clone();
    for w in warnings {
        state.push_warning(w);
    }
    out
}

impl RunState {
    /// Flushes the row being built at time `at_us` and moves to `next_step`.
    fn flush_row(&mut self, next_step: i64, at_us: i64, out: &mut Applied) {
        let runtime_s = self.runtime_at(at_us);
        let ctx = FlushCtx {
            metrics: &mut self.metrics,
            summary: &mut self.summary,
            runtime_s,
        };
        if let Some(row) = self.history.flush(next_step, ctx) {
            out.rows.push(row);
        }
    }
}

fn metadata(start: &v1::RunStart) -> Metadata {
    Metadata {
        project: start.project.clone(),
        name: start.name.clone(),
        group: start.group.clone(),
        job_type: start.job_type.clone(),
        tags: start.tags.clone(),
        notes: start.notes.clone(),
        host: start.host.clone(),
        program: start.program.clone(),
        args: start.args.clone(),
        git: start.git.as_ref().map(|g| Git {
            commit: g.commit.clone(),
            branch: g.branch.clone(),
            remote: g.remote.clone(),
            dirty: g.dirty,
        }),
        python: start.python.clone(),
        user: start.user.clone(),
        pid: start.pid,
        fork_from: start.fork_from.as_ref().map(|f| (f.run_id.clone(), f.step)),
        sweep_id: start.sweep_id.clone(),
        deleted: false,
    }
}

fn run_start(state: &mut RunState, start: &v1::RunStart, cx: &mut Cx<'_>) {
    let ts = cx.timestamp_us;
    let config = cx.items(&start.config, "payload.run_start.config");
    if !state.started() {
        state.meta = metadata(start);
        // wandb `runbranch/fork.go`: a fork starts one past the fork step.
        state.starting_step = match &start.fork_from {
            Some(f) => f.step.saturating_add(1),
            None => 0,
        };
        state.history.restart(state.starting_step);
        state.created_us = ts;
        state.updated_us = state.updated_us.max(ts);
        state.segment_start_us = ts;
        state.runtime_offset_us = 0;
        state.status = Status::Running;
        for (path, value) in config {
            state.config.insert(path, value);
        }
        return;
    }
    if start.resume == v1::ResumeMode::ResumeNever as i32 {
        cx.warn(
            warning_kind::RESUME_NEVER,
            format!(
                "run {} already exists; a start with resume=never is ignored",
                state.run_id
            ),
        );
        return;
    }

    // Resume. Keep what the previous segment left in its row, timed at the
    // segment's last record.
    let prev_end = state.updated_us;
    if !state.history.pending.is_empty() {
        let next = state.history.step.saturating_add(1);
        state.flush_row(next, prev_end, cx.out);
    }
    state.runtime_offset_us = state.runtime_us_at(prev_end);
    state.segment_start_us = ts;
    state.updated_us = state.updated_us.max(ts);
    state.status = Status::Running;
    state.exit_code = 0;
    state.resumed = true;
    state.meta.deleted = false;

    let new = metadata(start);
    let m = &mut state.meta;
    for (field, value) in [
        (&mut m.name, new.name),
        (&mut m.group, new.group),
        (&mut m.job_type, new.job_type),
        (&mut m.notes, new.notes),
    ] {
        if !value.is_empty() {
            *field = value;
        }
    }
    if !new.tags.is_empty() {
        m.tags = new.tags;
    }
    m.host = new.host;
    m.program = new.program;
    m.args = new.args;
    m.git = new.git;
    m.python = new.python;
    m.user = new.user;
    m.pid = new.pid;
    for (path, value) in config {
        state.config.insert(path, value);
    }

    // wandb resume.go: the starting step is one past the last logged `_step`.
    if let Some(last) = state.history.last_flushed {
        state.starting_step = last.saturating_add(1);
    }
    state.history.restart(state.starting_step);
}

fn run_update(state: &mut RunState, u: &v1::RunUpdate) {
    let m = &mut state.meta;
    for (field, value) in [
        (&mut m.name, &u.name),
        (&mut m.group, &u.group),
        (&mut m.job_type, &u.job_type),
        (&mut m.notes, &u.notes),
    ] {
        if let Some(v) = value {
            field.clone_from(v);
        }
    }
    if u.set_tags {
        m.tags.clone_from(&u.tags);
    }
    if let Some(deleted) = u.deleted {
        m.deleted = deleted;
    }
}

fn config(state: &mut RunState, c: &v1::ConfigUpdate, cx: &mut Cx<'_>) {
    for (path, value) in cx.items(&c.update, "payload.config.update") {
        state.config.insert(path, value);
    }
    for p in &c.remove {
        state.config.remove(&p.path);
    }
}

fn history(state: &mut RunState, h: &v1::PartialHistory, cx: &mut Cx<'_>) {
    let ts = cx.timestamp_us;
    if let Some(step) = h.step {
        let current = state.history.step;
        if step > current {
            state.flush_row(step, ts, cx.out);
        } else if step < current {
            state.history.dropped = state.history.dropped.saturating_add(1);
            cx.warn(
                warning_kind::STEP_DROPPED,
                step_dropped_message(step, current),
            );
            return;
        }
    }
    let items = cx.items(&h.items, "payload.history.items");
    state.history.merge(items, ts);
    if h.flush.unwrap_or(h.step.is_none()) {
        let next = state.history.step.saturating_add(1);
        state.flush_row(next, ts, cx.out);
    }
}

fn summary(state: &mut RunState, s: &v1::SummaryUpdate, cx: &mut Cx<'_>) {
    // wandb `runsummary.FromProto` then `Updates.Apply`: updates as a path
    // tree, minus removed paths; then all sets, then all removals.
    let mut updates = PathMap::default();
    for (path, value) in cx.items(&s.update, "payload.summary.update") {
        updates.insert(path, value);
    }
    for p in &s.remove {
        updates.remove(&p.path);
    }
    for (path, value) in updates.take() {
        state.summary.set_explicit(&path, value);
    }
    for p in &s.remove {
        state.summary.remove(&p.path);
    }
}

fn exit(state: &mut RunState, e: &v1::RunExit, cx: &mut Cx<'_>) {
    let ts = cx.timestamp_us;
    state.summary.set_explicit(
        &["_runtime".to_string()],
        Value::Float(state.runtime_at(ts)),
    );
    // A crash mark (the daemon's guess) keeps what is pending but does not
    // move an empty row's step: if the client's tail arrives later, its
    // rows keep the steps the client gave them.
    if !(e.crashed && state.history.pending.is_empty()) {
        let next = state.history.step.saturating_add(1);
        state.flush_row(next, ts, cx.out);
    }
    set_exit(state, e);
}

/// The state and exit code an exit record gives.
fn set_exit(state: &mut RunState, e: &v1::RunExit) {
    state.exit_code = e.exit_code;
    state.status = if e.crashed {
        Status::Crashed
    } else if e.exit_code == 0 {
        Status::Finished
    } else {
        Status::Failed
    };
}
