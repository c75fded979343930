//! `tracklab sweep CONFIG` (create), `tracklab sweep --pause|--resume|
//! --stop|--cancel ID`, and `tracklab sweeps [ID]` (list, show).

use anyhow::Context;
use serde_json::Value as Json;
use tracklab_proto::v1;

use crate::args::SweepArgs;
use crate::ctx::{Ctx, Outcome, UsageError, emit};
use crate::fmt::format_time_us;
use crate::table::Table;

/// `ID`, `PROJECT/ID` or `ENTITY/PROJECT/ID` (as wandb's agents accept).
pub fn sweep_id(s: &str) -> String {
    s.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(s)
        .to_string()
}

/// Reads a sweep config: YAML (JSON is YAML too).
fn read_config(path: &str) -> anyhow::Result<Json> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the sweep config {path}"))?;
    let v: Json = serde_yaml::from_str(&text).map_err(|e| {
        UsageError(format!(
            "the sweep config {path} is not valid YAML: {e}; see `tracklab sweep --help`"
        ))
    })?;
    if !v.is_object() {
        return Err(UsageError(format!(
            "the sweep config {path} must be a map with method and parameters"
        ))
        .into());
    }
    Ok(v)
}

fn doc(d: &v1::SweepDoc) -> anyhow::Result<Json> {
    serde_json::from_str(&d.json).context("the daemon sent a sweep document that is not JSON")
}

pub fn sweep(ctx: &Ctx, a: SweepArgs) -> anyhow::Result<Outcome> {
    let control = [
        (a.pause, "pause"),
        (a.resume, "resume"),
        (a.stop, "finish"),
        (a.cancel, "cancel"),
    ]
    .into_iter()
    .find(|(on, _)| *on)
    .map(|(_, s)| s);
    if let Some(state) = control {
        let id = sweep_id(&a.target);
        let d = ctx.block_on(async {
            let conn = ctx.connect().await?;
            let r = conn
                .sweeps()
                .set_state(v1::SetSweepStateRequest {
                    sweep_id: id.clone(),
                    state: state.to_string(),
                })
                .await
                .with_context(|| format!("changing sweep {id}"))?;
            anyhow::Ok(r.into_inner())
        })?;
        let j = doc(&d)?;
        if ctx.json {
            emit(&format!("{j:#}\n"));
        } else {
            emit(&format!(
                "sweep {id} is now {}\n",
                j["state"].as_str().unwrap_or("?")
            ));
        }
        return Ok(Outcome::Ok);
    }
    let config = read_config(&a.target)?;
    let project = a
        .project
        .clone()
        .or_else(|| config["project"].as_str().map(str::to_string))
        .unwrap_or_else(|| "uncategorized".to_string());
    let d = ctx.block_on(async {
        let conn = ctx.connect().await?;
        let r = conn
            .sweeps()
            .create(v1::CreateSweepRequest {
                project: project.clone(),
                config_json: config.to_string(),
            })
            .await
            .map_err(|s| anyhow::anyhow!("{}", s.message()))
            .with_context(|| format!("creating a sweep from {}", a.target))?;
        anyhow::Ok(r.into_inner())
    })?;
    if ctx.json {
        emit(&format!("{:#}\n", doc(&d)?));
    } else {
        eprintln!("tracklab: created sweep with ID: {}", d.sweep_id);
        eprintln!("tracklab: run agents with: tracklab agent {}", d.sweep_id);
        emit(&format!("{}\n", d.sweep_id));
    }
    Ok(Outcome::Ok)
}

fn cell(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        Json::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => crate::fmt::float_to_string(f),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

pub fn list(ctx: &Ctx, sweep: Option<String>, project: Option<String>) -> anyhow::Result<Outcome> {
    let docs = ctx.block_on(async {
        let conn = ctx.connect().await?;
        let mut c = conn.sweeps();
        let docs = match &sweep {
            Some(id) => vec![
                c.get(v1::GetSweepRequest {
                    sweep_id: sweep_id(id),
                })
                .await
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?
                .into_inner(),
            ],
            None => {
                c.list(v1::ListSweepsRequest {
                    project: project.clone().unwrap_or_default(),
                })
                .await
                .context("listing sweeps")?
                .into_inner()
                .sweeps
            }
        };
        anyhow::Ok(docs)
    })?;
    let docs: Vec<Json> = docs.iter().map(doc).collect::<anyhow::Result<_>>()?;
    if ctx.json {
        let out = if sweep.is_some() {
            docs[0].clone()
        } else {
            Json::Array(docs)
        };
        emit(&format!("{out:#}\n"));
        return Ok(Outcome::Ok);
    }
    if sweep.is_none() {
        let mut t = Table::new(
            [
                "sweep", "project", "method", "state", "runs", "metric", "best", "created",
            ]
            .map(String::from)
            .to_vec(),
        );
        for d in &docs {
            let metric = &d["metric"];
            t.push(vec![
                cell(&d["id"]),
                cell(&d["project"]),
                cell(&d["method"]),
                cell(&d["state"]),
                format!("{} runs", d["runs"].as_array().map_or(0, Vec::len)),
                if metric.is_null() {
                    String::new()
                } else {
                    format!("{} ({})", cell(&metric["name"]), cell(&metric["goal"]))
                },
                cell(&d["best"]["value"]),
                d["created_us"]
                    .as_i64()
                    .map(format_time_us)
                    .unwrap_or_default(),
            ]);
        }
        emit(&t.to_plain());
        return Ok(Outcome::Ok);
    }
    let d = &docs[0];
    let params: Vec<String> = d["parameters"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let metric = d["metric"]["name"].as_str().unwrap_or("");
    emit(&format!(
        "sweep {} ({}, {}) in project {}: {}\n",
        cell(&d["id"]),
        cell(&d["method"]),
        cell(&d["state"]),
        cell(&d["project"]),
        if metric.is_empty() {
            "no metric".to_string()
        } else {
            format!("{} {}", cell(&d["metric"]["goal"]), metric)
        }
    ));
    let mut headers = vec!["run".to_string(), "state".to_string()];
    headers.extend(params.iter().cloned());
    if !metric.is_empty() {
        headers.push(metric.to_string());
        headers.push("best".to_string());
    }
    headers.push("note".to_string());
    let mut t = Table::new(headers);
    for r in d["runs"].as_array().into_iter().flatten() {
        let mut row = vec![cell(&r["id"]), cell(&r["state"])];
        row.extend(params.iter().map(|p| cell(&r["flat_params"][p])));
        if !metric.is_empty() {
            row.push(cell(&r["metric"]));
            row.push(cell(&r["best"]));
        }
        row.push(if r["stopped"].as_bool() == Some(true) {
            "stopped early".to_string()
        } else {
            String::new()
        });
        t.push(row);
    }
    emit(&t.to_plain());
    Ok(Outcome::Ok)
}
