//! `tracklab lineage`: the chain of training stages behind a model or run.
//!
//! A stage is a run. Its input `base_model` (a used artifact with role
//! "base_model", else the one of type "model") was produced by the previous
//! stage's run; its output is its `final_checkpoint` (a logged artifact with
//! that role, else its last logged model). The walk starts at the target and
//! follows base models back to the first stage, then prints from there.

use std::collections::HashSet;

use anyhow::Context;
use serde_json::{Map, Value as Json, json};
use tracklab_client::Connection;
use tracklab_proto::v1::{
    ArtifactVersion, GetArtifactRequest, GetRunRequest, ListModelsRequest, ModelInfo, RunInfo,
};
use tracklab_state::registry::stage_name;

use crate::args::{LineageArgs, LineageFormat};
use crate::ctx::{Ctx, Outcome, UsageError};
use crate::fmt::{item_key, value_to_json, value_to_string};
use crate::json::state_name;
use crate::table::Table;

/// Metrics and hyperparameters shown per stage in the tree and table (the
/// JSON has them all).
const SHOWN: usize = 6;

struct Stage {
    run: RunInfo,
    base_model: Option<ArtifactVersion>,
    dataset: Option<ArtifactVersion>,
    output: Option<ArtifactVersion>,
}

impl Stage {
    fn name(&self) -> String {
        [&self.run.job_type, &self.run.group, &self.run.name]
            .into_iter()
            .find(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| self.run.run_id.clone())
    }

    fn metrics(&self) -> Vec<(String, String, Json)> {
        self.run
            .summary
            .iter()
            .filter_map(|it| {
                let key = item_key(&it.path);
                let v = it.value.as_ref()?;
                let numeric = matches!(
                    v.kind,
                    Some(
                        tracklab_proto::v1::value::Kind::Float(_)
                            | tracklab_proto::v1::value::Kind::Int(_)
                    )
                );
                (numeric && !key.starts_with('_'))
                    .then(|| (key, value_to_string(v), value_to_json(v)))
            })
            .collect()
    }

    fn hyperparameters(&self) -> Vec<(String, String, Json)> {
        self.run
            .config
            .iter()
            .filter_map(|it| {
                let key = item_key(&it.path);
                let v = it.value.as_ref()?;
                (!key.starts_with('_')).then(|| (key, value_to_string(v), value_to_json(v)))
            })
            .collect()
    }
}

fn short(v: &ArtifactVersion) -> String {
    format!("{}:v{}", v.name, v.version)
}

fn artifact_ref(v: &Option<ArtifactVersion>) -> Json {
    match v {
        None => Json::Null,
        Some(v) => json!({
            "project": v.project,
            "name": v.name,
            "version": format!("v{}", v.version),
            "type": v.r#type,
            "digest": v.digest,
            "aliases": v.aliases,
        }),
    }
}

/// The version of a registered model a selector names (a number, "vN",
/// "latest", a stage, or an alias).
fn pick_model_version(m: &ModelInfo, selector: &str) -> Option<usize> {
    let s = selector.trim();
    let number = s.strip_prefix('v').unwrap_or(s);
    if let Ok(n) = number.parse::<u32>() {
        return m.versions.iter().position(|v| v.version == n);
    }
    if s.is_empty() || s == "latest" {
        return m.versions.len().checked_sub(1);
    }
    if let Some(i) = m
        .versions
        .iter()
        .rposition(|v| stage_name(v.stage).eq_ignore_ascii_case(s))
    {
        return Some(i);
    }
    m.versions
        .iter()
        .position(|v| v.aliases.iter().any(|a| a == s))
}

/// The run a target names, and a line saying what the target was.
async fn start_run(
    ctx: &Ctx,
    conn: &Connection,
    target: &str,
) -> anyhow::Result<(RunInfo, String)> {
    if let Some(rest) = target.strip_prefix("models:/") {
        let rest = rest.trim_matches('/');
        let (name, selector) = match rest.split_once('@') {
            Some((n, a)) => (n, a),
            None => rest.split_once('/').unwrap_or((rest, "latest")),
        };
        let models = conn
            .query()
            .list_models(ListModelsRequest {
                name: name.to_string(),
            })
            .await
            .map_err(|s| anyhow::anyhow!("{}", s.message()))?
            .into_inner()
            .models;
        let m = models
            .first()
            .ok_or_else(|| UsageError(format!("no registered model {name:?}")))?;
        let i = pick_model_version(m, selector).ok_or_else(|| {
            UsageError(format!(
                "model {name:?} has no version, stage or alias {selector:?}"
            ))
        })?;
        let v = &m.versions[i];
        let run = get_run(conn, &v.source_run).await?;
        let what = format!("model {name} v{} ({})", v.version, stage_name(v.stage));
        return Ok((run, what));
    }
    // An artifact: PROJECT/NAME[:VERSION] (run ids have no '/').
    let (path, version) = target.split_once(':').unwrap_or((target, ""));
    if let Some((project, name)) = path.rsplit_once('/') {
        let v = conn
            .query()
            .get_artifact(GetArtifactRequest {
                project: project.rsplit('/').next().unwrap_or(project).to_string(),
                name: name.to_string(),
                version: version.to_string(),
            })
            .await
            .map_err(|s| anyhow::anyhow!("{}", s.message()))?
            .into_inner();
        let run = get_run(conn, &v.created_by).await?;
        return Ok((run, format!("artifact {}/{}", v.project, short(&v))));
    }
    let run = ctx.resolve(conn, target).await?;
    let what = format!("run {}", run.run_id);
    Ok((run, what))
}

async fn get_run(conn: &Connection, run_id: &str) -> anyhow::Result<RunInfo> {
    Ok(conn
        .query()
        .get_run(GetRunRequest {
            run_id: run_id.to_string(),
        })
        .await
        .with_context(|| format!("reading run {run_id}"))?
        .into_inner())
}

/// The input with `role`, else the first of `kind` type.
fn pick_input(
    used: &[(ArtifactVersion, String)],
    role: &str,
    kind: &str,
) -> Option<ArtifactVersion> {
    used.iter()
        .find(|(_, r)| r == role)
        .or_else(|| used.iter().find(|(v, r)| r.is_empty() && v.r#type == kind))
        .map(|(v, _)| v.clone())
}

async fn chain(ctx: &Ctx, conn: &Connection, target: &str) -> anyhow::Result<(String, Vec<Stage>)> {
    let (first, what) = start_run(ctx, conn, target).await?;
    let mut stages = Vec::new();
    let mut seen = HashSet::new();
    let mut next = Some(first);
    while let Some(run) = next.take() {
        if !seen.insert(run.run_id.clone()) {
            break; // a cycle: each run once
        }
        let arts = conn
            .query()
            .run_artifacts(GetRunRequest {
                run_id: run.run_id.clone(),
            })
            .await
            .with_context(|| format!("reading the artifacts of run {}", run.run_id))?
            .into_inner();
        let used: Vec<(ArtifactVersion, String)> =
            arts.used.into_iter().zip(arts.used_roles).collect();
        let base_model = pick_input(&used, "base_model", "model");
        let dataset = pick_input(&used, "dataset", "dataset");
        let output = arts
            .logged
            .iter()
            .rev()
            .find(|v| v.role == "final_checkpoint")
            .or_else(|| arts.logged.iter().rev().find(|v| v.r#type == "model"))
            .or_else(|| arts.logged.last())
            .cloned();
        if let Some(b) = &base_model
            && !b.created_by.is_empty()
        {
            next = Some(get_run(conn, &b.created_by).await?);
        }
        stages.push(Stage {
            run,
            base_model,
            dataset,
            output,
        });
    }
    stages.reverse();
    Ok((what, stages))
}

fn kv_line(items: &[(String, String, Json)]) -> String {
    let mut s: Vec<String> = items
        .iter()
        .take(SHOWN)
        .map(|(k, v, _)| format!("{k}={v}"))
        .collect();
    if items.len() > SHOWN {
        s.push(format!("(+{} more)", items.len() - SHOWN));
    }
    s.join(" ")
}

pub fn lineage(ctx: &Ctx, args: LineageArgs) -> anyhow::Result<Outcome> {
    let (what, stages) = ctx.block_on(async {
        let conn = ctx.connect().await?;
        chain(ctx, &conn, &args.target).await
    })?;
    let format = if ctx.json {
        LineageFormat::Json
    } else {
        args.format
    };
    match format {
        LineageFormat::Json => {
            let doc = json!({
                "target": what,
                "stages": stages.iter().enumerate().map(|(i, s)| {
                    let obj = |items: Vec<(String, String, Json)>| -> Map<String, Json> {
                        items.into_iter().map(|(k, _, j)| (k, j)).collect()
                    };
                    json!({
                        "index": i,
                        "stage": s.name(),
                        "run_id": s.run.run_id,
                        "run_name": s.run.name,
                        "project": s.run.project,
                        "state": state_name(s.run.state),
                        "base_model": artifact_ref(&s.base_model),
                        "dataset": artifact_ref(&s.dataset),
                        "final_checkpoint": artifact_ref(&s.output),
                        "steps": s.run.history_rows,
                        "metrics": obj(s.metrics()),
                        "hyperparameters": obj(s.hyperparameters()),
                    })
                }).collect::<Vec<_>>(),
            });
            crate::outln!("{}", serde_json::to_string_pretty(&doc)?);
        }
        LineageFormat::Markdown => {
            let mut t = Table::new(
                [
                    "stage",
                    "run",
                    "base model",
                    "dataset",
                    "final checkpoint",
                    "steps",
                    "metrics",
                    "hyperparameters",
                ]
                .map(String::from)
                .to_vec(),
            );
            for s in &stages {
                t.push(vec![
                    s.name(),
                    s.run.run_id.clone(),
                    s.base_model.as_ref().map(short).unwrap_or_default(),
                    s.dataset.as_ref().map(short).unwrap_or_default(),
                    s.output.as_ref().map(short).unwrap_or_default(),
                    s.run.history_rows.to_string(),
                    kv_line(&s.metrics()),
                    kv_line(&s.hyperparameters()),
                ]);
            }
            crate::outln!("Lineage of {what}\n\n{}", t.to_markdown());
        }
        LineageFormat::Tree => {
            crate::outln!("{what}: {} stage(s)", stages.len());
            for (i, s) in stages.iter().enumerate() {
                let indent = "   ".repeat(i);
                let arrow = if i == 0 { "" } else { "└─ " };
                crate::outln!(
                    "{indent}{arrow}{}  run {} ({}, {} steps)",
                    s.name(),
                    s.run.run_id,
                    state_name(s.run.state),
                    s.run.history_rows
                );
                let pad = format!("{indent}{}", if i == 0 { "   " } else { "      " });
                if let Some(b) = &s.base_model {
                    crate::outln!("{pad}base model:       {}", short(b));
                }
                if let Some(d) = &s.dataset {
                    crate::outln!("{pad}dataset:          {}", short(d));
                }
                if let Some(o) = &s.output {
                    crate::outln!("{pad}final checkpoint: {}", short(o));
                }
                let m = s.metrics();
                if !m.is_empty() {
                    crate::outln!("{pad}metrics:          {}", kv_line(&m));
                }
                let h = s.hyperparameters();
                if !h.is_empty() {
                    crate::outln!("{pad}hyperparameters:  {}", kv_line(&h));
                }
            }
        }
    }
    Ok(Outcome::Ok)
}
