//! The JSON endpoints of API.md. Every handler first waits until what was
//! acknowledged before the request is applied (read-your-writes), like the
//! gRPC Query service, and keeps store reads off the executor.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde::Deserialize;
use serde_json::{Map, Value as J, json};
use tracklab_proto::v1::value::Kind;
use tracklab_proto::v1::{EditRunRequest, HistoryRequest, Item, RunInfo, RunUpdate, Series};
use tracklab_state::key_name;
use tracklab_store::Namespace;
use tracklab_view::compare::{CompareOptions, compare as build_comparison, to_json};
use tracklab_view::fmt::value_to_json;
use tracklab_view::json::{run_header, run_json, state_name};

use super::auth::Authorized;
use super::params::Params;
use super::{ApiError, Http};
use crate::query::{SYSTEM_PREFIX, info, read_history};

/// Points per series when the page does not say.
const DEFAULT_MAX_POINTS: u32 = 2000;
/// Most points per series one request may ask for (0 asks for all).
const MAX_MAX_POINTS: u32 = 100_000;
/// Most runs one comparison takes.
const MAX_COMPARE: usize = 64;
/// Largest `requirements.txt` the run document carries.
const MAX_REQUIREMENTS_BYTES: u64 = 1 << 20;

/// The run's `requirements.txt`, which the SDK writes into the run's files
/// dir (`runs/<id>/files/`) at init; `None` when there is none (a run
/// imported with `tracklab sync` keeps its files where it was logged).
fn read_requirements(run_dir: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(run_dir.join("files").join("requirements.txt")).ok()?;
    let mut text = String::new();
    f.take(MAX_REQUIREMENTS_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

type ApiResult = Result<Json<J>, ApiError>;

/// Items as a flat map of scalar values (the runs table's cells).
fn flat_scalars(items: &[Item]) -> J {
    let mut out = Map::new();
    for it in items {
        let Some(v) = &it.value else { continue };
        if matches!(v.kind, Some(Kind::Json(_)) | Some(Kind::Bytes(_)) | None) {
            continue;
        }
        out.insert(key_name(&it.path), value_to_json(v));
    }
    J::Object(out)
}

/// A runs-table row (API.md, "Row"): the run's header fields plus flat
/// scalar config and summary.
pub fn row(r: &RunInfo) -> J {
    let mut m = run_header(r);
    m.insert("config".into(), flat_scalars(&r.config));
    m.insert("summary".into(), flat_scalars(&r.summary));
    J::Object(m)
}

/// Runs that exist for the API: started, and not deleted unless asked.
fn visible(st: &Http, deleted: bool) -> Vec<RunInfo> {
    st.core
        .all_runs()
        .iter()
        .filter(|r| r.state.started() && (deleted || !r.state.deleted()))
        .map(|r| info(r))
        .collect()
}

fn find(st: &Http, id: &str) -> Result<RunInfo, ApiError> {
    st.core
        .run(id)
        .filter(|r| r.state.started())
        .map(|r| info(&r))
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                format!("run {id:?} does not exist; /api/v1/runs lists the runs there are"),
            )
        })
}

pub async fn projects(_: Authorized, State(st): State<Http>) -> ApiResult {
    st.core.wait_applied().await?;
    let mut by: BTreeMap<String, (u64, u64, i64)> = BTreeMap::new();
    for r in visible(&st, false) {
        let e = by.entry(r.project.clone()).or_insert((0, 0, i64::MIN));
        e.0 += 1;
        e.1 += u64::from(state_name(r.state) == "running");
        e.2 = e.2.max(r.created_us);
    }
    let mut list: Vec<_> = by.into_iter().collect();
    list.sort_by(|a, b| b.1.2.cmp(&a.1.2).then(a.0.cmp(&b.0)));
    let projects: Vec<J> = list
        .into_iter()
        .map(|(name, (runs, running, last))| {
            json!({"name": name, "runs": runs, "running": running, "last_created_us": last})
        })
        .collect();
    Ok(Json(json!({ "projects": projects })))
}

pub async fn runs(_: Authorized, State(st): State<Http>, RawQuery(q): RawQuery) -> ApiResult {
    let p = Params::parse(q.as_deref());
    st.core.wait_applied().await?;
    let project = p.get("project").filter(|s| !s.is_empty());
    let mut runs = visible(&st, p.flag("deleted"));
    runs.retain(|r| project.is_none_or(|p| r.project == p));
    runs.sort_by(|a, b| {
        b.created_us
            .cmp(&a.created_us)
            .then(a.run_id.cmp(&b.run_id))
    });
    let rows: Vec<J> = runs.iter().map(row).collect();
    Ok(Json(json!({ "runs": rows })))
}

/// The run document: `tracklab show --json`, plus its series keys.
async fn run_document(st: &Http, id: &str) -> ApiResult {
    let info = find(st, id)?;
    let core = st.core.clone();
    let run_id = id.to_string();
    let run_dir = st.core.data.run_dir(id);
    let (history_keys, system_keys, requirements) = tokio::task::spawn_blocking(move || {
        let keys = |ns| -> Result<Vec<String>, ApiError> {
            Ok(core
                .store
                .series(ns, &run_id)
                .map_err(|e| ApiError::from(tonic::Status::internal(e.to_string())))?
                .into_iter()
                .map(|(k, _)| k)
                .collect())
        };
        let hist = keys(Namespace::History)?;
        let sys = keys(Namespace::Stats)?
            .into_iter()
            .map(|k| format!("{SYSTEM_PREFIX}{k}"))
            .collect::<Vec<_>>();
        Ok::<_, ApiError>((hist, sys, read_requirements(&run_dir)))
    })
    .await
    .map_err(|e| {
        ApiError::from(tonic::Status::internal(format!(
            "listing series failed: {e}"
        )))
    })??;
    let mut doc = run_json(&info);
    if let J::Object(m) = &mut doc {
        m.insert("history_keys".into(), json!(history_keys));
        m.insert("system_keys".into(), json!(system_keys));
        m.insert("requirements".into(), json!(requirements));
    }
    Ok(Json(doc))
}

pub async fn run(_: Authorized, State(st): State<Http>, Path(id): Path<String>) -> ApiResult {
    st.core.wait_applied().await?;
    run_document(&st, &id).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunPatch {
    name: Option<String>,
    notes: Option<String>,
    tags: Option<Vec<String>>,
    group: Option<String>,
    job_type: Option<String>,
}

pub async fn patch_run(
    _: Authorized,
    State(st): State<Http>,
    Path(id): Path<String>,
    body: Result<Json<RunPatch>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let Json(p) = body.map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be a JSON object with any of name, notes, tags, group, job_type: {e}"
        ))
    })?;
    let req = EditRunRequest {
        run_id: id.clone(),
        update: Some(RunUpdate {
            name: p.name,
            group: p.group,
            job_type: p.job_type,
            set_tags: p.tags.is_some(),
            tags: p.tags.unwrap_or_default(),
            notes: p.notes,
            deleted: None,
        }),
        state: 0,
        force: false,
    };
    crate::admin::edit_run(&st.core, req).await?;
    run_document(&st, &id).await
}

/// A value for a chart: a number, a NaN/inf string, a media reference (an
/// object with `_type`), or null.
fn point(v: &tracklab_proto::v1::Value) -> J {
    match &v.kind {
        Some(Kind::Float(_)) | Some(Kind::Int(_)) => value_to_json(v),
        Some(Kind::Bool(b)) => json!(u8::from(*b)),
        Some(Kind::Json(text)) if text.contains("\"_type\"") => match value_to_json(v) {
            J::Object(m) if m.get("_type").is_some_and(J::is_string) => J::Object(m),
            _ => J::Null,
        },
        _ => J::Null,
    }
}

/// `x`'s values at `steps` (both ascending), null where it has none.
fn align(steps: &[i64], x: &Series) -> Vec<J> {
    let mut out = Vec::with_capacity(steps.len());
    let mut j = 0;
    for &s in steps {
        while j < x.steps.len() && x.steps[j] < s {
            j += 1;
        }
        out.push(if j < x.steps.len() && x.steps[j] == s {
            point(&x.values[j])
        } else {
            J::Null
        });
    }
    out
}

pub async fn history(
    _: Authorized,
    State(st): State<Http>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = Params::parse(q.as_deref());
    let max_points: u32 = p.int("max_points")?.unwrap_or(DEFAULT_MAX_POINTS);
    if max_points > MAX_MAX_POINTS {
        return Err(ApiError::bad_request(format!(
            "max_points={max_points} is over {MAX_MAX_POINTS}; ask for a step range instead"
        )));
    }
    let req = HistoryRequest {
        run_id: id.clone(),
        keys: p.all("key"),
        min_step: p.int("min_step")?,
        max_step: p.int("max_step")?,
        max_points,
    };
    let x_key = p
        .get("x")
        .filter(|x| !x.is_empty() && *x != "_step")
        .map(str::to_string);
    st.core.wait_applied().await?;
    find(&st, &id)?;
    let core = st.core.clone();
    let out = tokio::task::spawn_blocking(move || -> Result<Vec<J>, ApiError> {
        let series = read_history(&core, &req)?;
        let x = match &x_key {
            Some(key) => {
                let lo = series.iter().filter_map(|s| s.steps.first()).min().copied();
                let hi = series.iter().filter_map(|s| s.steps.last()).max().copied();
                let xr = HistoryRequest {
                    run_id: req.run_id.clone(),
                    keys: vec![key.clone()],
                    min_step: lo,
                    max_step: hi,
                    max_points: 0,
                };
                match lo {
                    Some(_) => read_history(&core, &xr)?.into_iter().next(),
                    None => None,
                }
            }
            None => None,
        };
        Ok(series
            .iter()
            .map(|s| {
                let mut o = json!({
                    "key": s.key,
                    "steps": s.steps,
                    "values": s.values.iter().map(point).collect::<Vec<_>>(),
                    "total_points": s.total_points,
                });
                if let (Some(x), J::Object(m)) = (&x, &mut o) {
                    m.insert("x".into(), J::Array(align(&s.steps, x)));
                } else if let (Some(_), None, J::Object(m)) = (&x_key, &x, &mut o) {
                    m.insert("x".into(), J::Array(vec![J::Null; s.steps.len()]));
                }
                o
            })
            .collect())
    })
    .await
    .map_err(|e| ApiError::from(tonic::Status::internal(format!("history read failed: {e}"))))??;
    Ok(Json(json!({ "series": out })))
}

pub async fn console(
    _: Authorized,
    State(st): State<Http>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = Params::parse(q.as_deref());
    let offset: u64 = p.int("offset")?.unwrap_or(0);
    let limit: usize = p.int::<usize>("limit")?.unwrap_or(10_000).clamp(1, 10_000);
    st.core.wait_applied().await?;
    let total = find(&st, &id)?.console_lines;
    let core = st.core.clone();
    let lines = tokio::task::spawn_blocking(move || core.store.console(&id, offset, limit))
        .await
        .map_err(|e| ApiError::from(tonic::Status::internal(format!("console read failed: {e}"))))?
        .map_err(|e| ApiError::from(tonic::Status::internal(e.to_string())))?;
    let lines: Vec<J> = lines
        .into_iter()
        .map(|l| {
            json!({
                "stream": if l.stream == tracklab_proto::v1::OutputStream::Stderr as i32 { "stderr" } else { "stdout" },
                "line": l.line,
                "timestamp_us": l.timestamp_us,
            })
        })
        .collect();
    Ok(Json(json!({ "lines": lines, "total": total })))
}

pub async fn compare(_: Authorized, State(st): State<Http>, RawQuery(q): RawQuery) -> ApiResult {
    let ids = Params::parse(q.as_deref()).all("run");
    if ids.is_empty() || ids.len() > MAX_COMPARE {
        return Err(ApiError::bad_request(format!(
            "give 1 to {MAX_COMPARE} runs to compare as ?run=ID&run=ID"
        )));
    }
    st.core.wait_applied().await?;
    let runs = ids
        .iter()
        .map(|id| find(&st, id))
        .collect::<Result<Vec<_>, _>>()?;
    let c = build_comparison(
        &runs,
        &CompareOptions {
            metrics: None,
            goal: None,
            all_config: false,
        },
    );
    Ok(Json(to_json(&c)))
}
