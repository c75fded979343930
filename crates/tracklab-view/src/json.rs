//! JSON forms of runs and records for `--json` output.

use serde_json::{Map, Value as Json, json};
use tracklab_proto::v1::{self, Item, RunInfo, RunState};

use crate::fmt::value_to_json;

/// Items as a nested object: path ["a", "b"] becomes {"a": {"b": ...}}.
pub fn items_json(items: &[Item]) -> Json {
    let mut root = Map::new();
    for it in items {
        let value = it.value.as_ref().map_or(Json::Null, value_to_json);
        insert_path(&mut root, &it.path, value);
    }
    Json::Object(root)
}

fn insert_path(node: &mut Map<String, Json>, path: &[String], value: Json) {
    match path {
        [] => {}
        [last] => {
            node.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = node
                .entry(first.clone())
                .or_insert_with(|| Json::Object(Map::new()));
            if !entry.is_object() {
                *entry = Json::Object(Map::new());
            }
            if let Json::Object(child) = entry {
                insert_path(child, rest, value);
            }
        }
    }
}

pub fn state_name(state: i32) -> &'static str {
    match RunState::try_from(state) {
        Ok(RunState::Running) => "running",
        Ok(RunState::Finished) => "finished",
        Ok(RunState::Failed) => "failed",
        Ok(RunState::Crashed) => "crashed",
        _ => "unknown",
    }
}

/// Seconds between a run's creation and its last record.
pub fn duration_us(r: &RunInfo) -> i64 {
    r.updated_us.saturating_sub(r.created_us)
}

/// The fields every JSON form of a run has (the runs table's row and the
/// whole run document share them).
pub fn run_header(r: &RunInfo) -> Map<String, Json> {
    match json!({
        "id": r.run_id,
        "name": r.name,
        "project": r.project,
        "state": state_name(r.state),
        "exit_code": r.exit_code,
        "created_us": r.created_us,
        "updated_us": r.updated_us,
        "duration_s": duration_us(r) as f64 / 1e6,
        "steps": r.history_rows,
        "group": r.group,
        "job_type": r.job_type,
        "sweep": r.sweep_id,
        "tags": r.tags,
        "notes": r.notes,
        "deleted": r.deleted,
        "host": r.host,
        "user": r.user,
        "console_lines": r.console_lines,
    }) {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

pub fn run_json(r: &RunInfo) -> Json {
    let mut m = run_header(r);
    let rest = json!({
        "next_step": r.next_step,
        "resumed": r.resumed,
        "program": r.program,
        "args": r.args,
        "python": r.python,
        "git": r.git.as_ref().map(|g| json!({
            "commit": g.commit, "branch": g.branch, "remote": g.remote, "dirty": g.dirty,
        })),
        "config": items_json(&r.config),
        "summary": items_json(&r.summary),
        "metrics": r.metrics.iter().map(metric_json).collect::<Vec<_>>(),
        "dropped_steps": r.dropped_steps,
        "warnings": r.warnings,
        "files": r.files.iter().map(|f| f.path.clone()).collect::<Vec<_>>(),
    });
    if let Json::Object(rest) = rest {
        m.extend(rest);
    }
    Json::Object(m)
}

fn goal_name(goal: i32) -> Option<&'static str> {
    match v1::Goal::try_from(goal) {
        Ok(v1::Goal::Minimize) => Some("minimize"),
        Ok(v1::Goal::Maximize) => Some("maximize"),
        _ => None,
    }
}

/// The summaries a metric definition asks for, as wandb spells them.
pub fn summary_names(s: Option<&v1::MetricSummary>) -> Vec<&'static str> {
    let Some(s) = s else { return vec![] };
    [
        (s.min, "min"),
        (s.max, "max"),
        (s.mean, "mean"),
        (s.first, "first"),
        (s.last, "last"),
        (s.none, "none"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

pub fn metric_json(m: &v1::MetricInfo) -> Json {
    json!({
        "name": if m.name.is_empty() { &m.glob_name } else { &m.name },
        "glob": !m.glob_name.is_empty(),
        "step_metric": m.step_metric,
        "step_sync": m.step_sync,
        "hidden": m.hidden,
        "summary": summary_names(m.summary.as_ref()),
        "goal": goal_name(m.goal),
    })
}
