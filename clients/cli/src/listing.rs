//! `tracklab ls` and `tracklab projects`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use serde_json::json;
use tracklab_proto::v1::{Item, ListRunsRequest, RunInfo, RunState, Value};

use crate::args::{LsArgs, StateArg};
use crate::ctx::{Ctx, MAX_MESSAGE_BYTES, Outcome, UsageError};
use crate::filter::parse_filter;
use crate::fmt::{format_duration_us, format_time_us, item_key, value_as_f64, value_to_string};
use crate::json::{duration_us, run_json, state_name};
use crate::table::Table;

/// Summary columns shown by default.
const DEFAULT_SUMMARY_COLUMNS: usize = 3;

fn state_filter(s: StateArg) -> RunState {
    match s {
        StateArg::Running => RunState::Running,
        StateArg::Finished => RunState::Finished,
        StateArg::Failed => RunState::Failed,
        StateArg::Crashed => RunState::Crashed,
    }
}

/// The value at a `config.KEY` / `summary.KEY` column of a run.
fn column_value<'a>(r: &'a RunInfo, column: &str) -> Option<&'a Value> {
    let (items, key): (&[Item], &str) = if let Some(k) = column.strip_prefix("config.") {
        (&r.config, k)
    } else if let Some(k) = column.strip_prefix("summary.") {
        (&r.summary, k)
    } else {
        return None;
    };
    items
        .iter()
        .find(|it| item_key(&it.path) == key)
        .and_then(|it| it.value.as_ref())
}

/// Summary metrics most runs have (numeric, not `_`-prefixed).
fn common_metrics(runs: &[RunInfo]) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for r in runs {
        for it in &r.summary {
            let key = item_key(&it.path);
            let numeric = it.value.as_ref().and_then(value_as_f64).is_some();
            if numeric && !key.starts_with('_') {
                *counts.entry(key).or_default() += 1;
            }
        }
    }
    let mut keys: Vec<(String, usize)> = counts.into_iter().collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    keys.into_iter()
        .take(DEFAULT_SUMMARY_COLUMNS)
        .map(|(k, _)| format!("summary.{k}"))
        .collect()
}

fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => match (value_as_f64(x), value_as_f64(y)) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            _ => value_to_string(x).cmp(&value_to_string(y)),
        },
    }
}

type RunOrder = dyn Fn(&RunInfo, &RunInfo) -> Ordering;

/// Sorts runs by a `--sort` key; a leading '-' sorts descending.
fn sort_runs(runs: &mut [RunInfo], key: &str) -> Result<(), UsageError> {
    let (desc, key) = match key.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, key),
    };
    let cmp: Box<RunOrder> = match key {
        "created" => Box::new(|a, b| a.created_us.cmp(&b.created_us)),
        "name" => Box::new(|a, b| a.name.cmp(&b.name)),
        "state" => Box::new(|a, b| state_name(a.state).cmp(state_name(b.state))),
        "duration" => Box::new(|a, b| duration_us(a).cmp(&duration_us(b))),
        "steps" => Box::new(|a, b| a.history_rows.cmp(&b.history_rows)),
        "project" => Box::new(|a, b| a.project.cmp(&b.project)),
        "id" => Box::new(|a, b| a.run_id.cmp(&b.run_id)),
        k if k.starts_with("config.") || k.starts_with("summary.") => {
            let k = k.to_string();
            Box::new(move |a, b| compare_values(column_value(a, &k), column_value(b, &k)))
        }
        other => {
            return Err(UsageError(format!(
                "cannot sort by {other:?}: use created, name, state, duration, steps, project, id, config.KEY or summary.KEY (prefix '-' for descending)"
            )));
        }
    };
    runs.sort_by(|a, b| {
        let o = cmp(a, b).then_with(|| a.run_id.cmp(&b.run_id));
        if desc { o.reverse() } else { o }
    });
    Ok(())
}

pub fn ls(ctx: &Ctx, args: LsArgs) -> anyhow::Result<Outcome> {
    let filters = args
        .filters
        .iter()
        .map(|f| parse_filter(f).map_err(|e| UsageError(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    for c in &args.columns {
        if !(c.starts_with("config.") || c.starts_with("summary.")) {
            return Err(UsageError(format!(
                "column {c:?} must start with \"config.\" or \"summary.\""
            ))
            .into());
        }
    }
    let sort_key = args.sort.as_deref().unwrap_or("-created");
    // A bad sort key is a usage error even before the daemon is asked.
    sort_runs(&mut [], sort_key)?;
    let req = ListRunsRequest {
        project: args.project.clone().unwrap_or_default(),
        state: args.state.map_or(RunState::Unspecified, state_filter) as i32,
        tags: args.tags.clone(),
        filters,
        limit: 0,
        include_deleted: args.all,
    };
    let mut runs = ctx.block_on(async {
        let conn = ctx.connect().await?;
        let resp = conn
            .query()
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .list_runs(req)
            .await
            .context("listing runs")?;
        anyhow::Ok(resp.into_inner().runs)
    })?;
    sort_runs(&mut runs, sort_key)?;
    if let Some(n) = args.limit {
        runs.truncate(n);
    }
    if ctx.json {
        let all: Vec<_> = runs.iter().map(run_json).collect();
        crate::outln!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(Outcome::Ok);
    }
    let columns = if args.columns.is_empty() {
        common_metrics(&runs)
    } else {
        args.columns.clone()
    };
    let mut headers: Vec<String> = [
        "id", "name", "project", "state", "created", "duration", "steps",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    headers.extend(columns.iter().map(|c| {
        c.strip_prefix("summary.")
            .map_or_else(|| c.clone(), str::to_string)
    }));
    let mut t = Table::new(headers);
    for r in &runs {
        let mut state = state_name(r.state).to_string();
        if r.deleted {
            state.push_str(" (deleted)");
        }
        let mut row = vec![
            r.run_id.clone(),
            r.name.clone(),
            r.project.clone(),
            state,
            format_time_us(r.created_us),
            format_duration_us(duration_us(r)),
            r.history_rows.to_string(),
        ];
        row.extend(
            columns
                .iter()
                .map(|c| column_value(r, c).map(value_to_string).unwrap_or_default()),
        );
        t.push(row);
    }
    if runs.is_empty() {
        crate::outln!("no runs match");
    } else {
        crate::out!("{}", t.to_plain());
    }
    Ok(Outcome::Ok)
}

pub fn projects(ctx: &Ctx) -> anyhow::Result<Outcome> {
    let runs = ctx.block_on(async {
        let conn = ctx.connect().await?;
        let resp = conn
            .query()
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .list_runs(ListRunsRequest::default())
            .await
            .context("listing runs")?;
        anyhow::Ok(resp.into_inner().runs)
    })?;
    #[derive(Default)]
    struct P {
        runs: u64,
        running: u64,
        last_us: i64,
    }
    let mut by: BTreeMap<String, P> = BTreeMap::new();
    for r in &runs {
        let p = by.entry(r.project.clone()).or_default();
        p.runs += 1;
        p.running += u64::from(r.state == RunState::Running as i32);
        p.last_us = p.last_us.max(r.updated_us);
    }
    if ctx.json {
        let all: Vec<_> = by
            .iter()
            .map(|(name, p)| {
                json!({"project": name, "runs": p.runs, "running": p.running, "last_activity_us": p.last_us})
            })
            .collect();
        crate::outln!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(Outcome::Ok);
    }
    if by.is_empty() {
        crate::outln!("no runs yet");
        return Ok(Outcome::Ok);
    }
    let mut t = Table::new(
        ["project", "runs", "running", "last activity"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    );
    for (name, p) in &by {
        t.push(vec![
            name.clone(),
            p.runs.to_string(),
            p.running.to_string(),
            format_time_us(p.last_us),
        ]);
    }
    crate::out!("{}", t.to_plain());
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracklab_proto::v1::value::Kind;

    fn run(id: &str, created: i64, loss: f64) -> RunInfo {
        RunInfo {
            run_id: id.into(),
            created_us: created,
            summary: vec![Item {
                path: vec!["loss".into()],
                value: Some(Value {
                    kind: Some(Kind::Float(loss)),
                }),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn sorts_by_builtin_and_summary_keys() {
        let mut runs = vec![run("a", 3, 0.5), run("b", 1, 0.1), run("c", 2, 0.9)];
        sort_runs(&mut runs, "-created").unwrap();
        let ids: Vec<_> = runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["a", "c", "b"]);
        sort_runs(&mut runs, "summary.loss").unwrap();
        let ids: Vec<_> = runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["b", "a", "c"]);
        assert!(sort_runs(&mut runs, "bogus").is_err());
    }

    #[test]
    fn default_columns_are_the_common_metrics() {
        let runs = vec![run("a", 3, 0.5), run("b", 1, 0.1)];
        assert_eq!(common_metrics(&runs), ["summary.loss"]);
    }
}
