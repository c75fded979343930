//! The chain of training stages behind a run: `tracklab lineage` and the
//! dashboard's lineage graph.
//!
//! A stage is a run. Its input `base_model` (a used artifact with role
//! "base_model", else one of type "model") was produced by the previous
//! stage's run; its output is its `final_checkpoint` (a logged artifact
//! with that role, else its last logged model, else its last output). The
//! walk starts at a run and follows base models back to the first stage;
//! stages are returned first stage first.

use std::collections::HashSet;

use serde_json::{Map, Value as Json, json};
use tracklab_proto::v1::{ArtifactVersion, ModelInfo, RunArtifactsResponse, RunInfo, value::Kind};
use tracklab_state::registry::stage_name;

use crate::catalog::artifact_ref;
use crate::fmt::{item_key, value_to_json, value_to_string};
use crate::json::state_name;
use crate::table::Table;

/// Where the chain's runs and their artifacts come from (the CLI asks the
/// daemon; the daemon reads its own state).
pub trait LineageSource {
    /// A run by exact id.
    fn run(&mut self, run_id: &str) -> Result<RunInfo, String>;
    /// A run as a user names it (id, unique prefix or name).
    fn find_run(&mut self, name: &str) -> Result<RunInfo, String>;
    fn run_artifacts(&mut self, run_id: &str) -> Result<RunArtifactsResponse, String>;
    fn model(&mut self, name: &str) -> Result<ModelInfo, String>;
    fn artifact(
        &mut self,
        project: &str,
        name: &str,
        version: &str,
    ) -> Result<ArtifactVersion, String>;
}

/// The version of a registered model a selector names: a number, "vN",
/// "latest" (or empty), a stage name (the newest version in it), or an
/// alias.
pub fn pick_model_version(m: &ModelInfo, selector: &str) -> Option<usize> {
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

/// The run a lineage target names, and the target described: a model
/// (`models:/NAME/STAGE|VERSION`, `models:/NAME@ALIAS`), an artifact
/// (`PROJECT/NAME[:VERSION]`: its producing run) or a run.
pub fn resolve(src: &mut impl LineageSource, target: &str) -> Result<(RunInfo, String), String> {
    if let Some(rest) = target.strip_prefix("models:/") {
        let rest = rest.trim_matches('/');
        let (name, selector) = match rest.split_once('@') {
            Some((n, a)) => (n, a),
            None => rest.split_once('/').unwrap_or((rest, "latest")),
        };
        let m = src.model(name)?;
        let i = pick_model_version(&m, selector)
            .ok_or_else(|| format!("model {name:?} has no version, stage or alias {selector:?}"))?;
        let v = &m.versions[i];
        let run = src.run(&v.source_run)?;
        return Ok((
            run,
            format!("model {name} v{} ({})", v.version, stage_name(v.stage)),
        ));
    }
    // Run ids have no '/': with one it is an artifact.
    let (path, version) = target.split_once(':').unwrap_or((target, ""));
    if let Some((project, name)) = path.rsplit_once('/') {
        let project = project.rsplit('/').next().unwrap_or(project);
        let v = src.artifact(project, name, version)?;
        let run = src.run(&v.created_by)?;
        return Ok((run, format!("artifact {}/{}", v.project, short(&v))));
    }
    let run = src.find_run(target)?;
    let what = format!("run {}", run.run_id);
    Ok((run, what))
}

pub struct Stage {
    pub run: RunInfo,
    pub base_model: Option<ArtifactVersion>,
    pub dataset: Option<ArtifactVersion>,
    pub final_checkpoint: Option<ArtifactVersion>,
}

/// (key, value as text, value as JSON).
type Field = (String, String, Json);

impl Stage {
    /// Job type, else group, else run name, else run id.
    pub fn name(&self) -> String {
        [&self.run.job_type, &self.run.group, &self.run.name]
            .into_iter()
            .find(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| self.run.run_id.clone())
    }

    /// Numeric summary values not starting with `_`.
    pub fn metrics(&self) -> Vec<Field> {
        self.run
            .summary
            .iter()
            .filter_map(|it| {
                let key = item_key(&it.path);
                let v = it.value.as_ref()?;
                let numeric = matches!(v.kind, Some(Kind::Float(_) | Kind::Int(_)));
                (numeric && !key.starts_with('_'))
                    .then(|| (key, value_to_string(v), value_to_json(v)))
            })
            .collect()
    }

    /// Config values not starting with `_`.
    pub fn hyperparameters(&self) -> Vec<Field> {
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

/// The input with `role`, else one of `kind` type used without a role.
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

/// The stages behind `last`, first stage first. Each run is visited once.
pub fn chain(src: &mut impl LineageSource, last: RunInfo) -> Result<Vec<Stage>, String> {
    let mut stages = Vec::new();
    let mut seen = HashSet::new();
    let mut next = Some(last);
    while let Some(run) = next.take() {
        if !seen.insert(run.run_id.clone()) {
            break;
        }
        let arts = src.run_artifacts(&run.run_id)?;
        let used: Vec<(ArtifactVersion, String)> =
            arts.used.into_iter().zip(arts.used_roles).collect();
        let base_model = pick_input(&used, "base_model", "model");
        let dataset = pick_input(&used, "dataset", "dataset");
        let final_checkpoint = arts
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
            next = Some(src.run(&b.created_by)?);
        }
        stages.push(Stage {
            run,
            base_model,
            dataset,
            final_checkpoint,
        });
    }
    stages.reverse();
    Ok(stages)
}

fn short(v: &ArtifactVersion) -> String {
    format!("{}:v{}", v.name, v.version)
}

/// A `training_info.json`-shaped document.
pub fn to_json(target: &str, stages: &[Stage]) -> Json {
    let obj = |items: Vec<Field>| -> Map<String, Json> {
        items.into_iter().map(|(k, _, j)| (k, j)).collect()
    };
    json!({
        "target": target,
        "stages": stages.iter().enumerate().map(|(i, s)| json!({
            "index": i,
            "stage": s.name(),
            "run_id": s.run.run_id,
            "run_name": s.run.name,
            "project": s.run.project,
            "state": state_name(s.run.state),
            "steps": s.run.history_rows,
            "base_model": artifact_ref(s.base_model.as_ref()),
            "dataset": artifact_ref(s.dataset.as_ref()),
            "final_checkpoint": artifact_ref(s.final_checkpoint.as_ref()),
            "metrics": obj(s.metrics()),
            "hyperparameters": obj(s.hyperparameters()),
        })).collect::<Vec<_>>(),
    })
}

/// `k=v` pairs, at most `shown`, then how many more.
fn kv_line(items: &[Field], shown: usize) -> String {
    let mut s: Vec<String> = items
        .iter()
        .take(shown)
        .map(|(k, v, _)| format!("{k}={v}"))
        .collect();
    if items.len() > shown {
        s.push(format!("(+{} more)", items.len() - shown));
    }
    s.join(" ")
}

/// Metrics and hyperparameters shown per stage in text (JSON has them all).
const SHOWN: usize = 6;

pub fn to_markdown(target: &str, stages: &[Stage]) -> String {
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
    for s in stages {
        t.push(vec![
            s.name(),
            s.run.run_id.clone(),
            s.base_model.as_ref().map(short).unwrap_or_default(),
            s.dataset.as_ref().map(short).unwrap_or_default(),
            s.final_checkpoint.as_ref().map(short).unwrap_or_default(),
            s.run.history_rows.to_string(),
            kv_line(&s.metrics(), SHOWN),
            kv_line(&s.hyperparameters(), SHOWN),
        ]);
    }
    format!("Lineage of {target}\n\n{}", t.to_markdown())
}

pub fn to_tree(target: &str, stages: &[Stage]) -> String {
    let mut out = format!("{target}: {} stage(s)\n", stages.len());
    for (i, s) in stages.iter().enumerate() {
        let indent = "   ".repeat(i);
        let arrow = if i == 0 { "" } else { "└─ " };
        out.push_str(&format!(
            "{indent}{arrow}{}  run {} ({}, {} steps)\n",
            s.name(),
            s.run.run_id,
            state_name(s.run.state),
            s.run.history_rows
        ));
        let pad = format!("{indent}{}", if i == 0 { "   " } else { "      " });
        let mut line = |label: &str, text: String| {
            if !text.is_empty() {
                out.push_str(&format!("{pad}{label:<18}{text}\n"));
            }
        };
        line(
            "base model:",
            s.base_model.as_ref().map(short).unwrap_or_default(),
        );
        line(
            "dataset:",
            s.dataset.as_ref().map(short).unwrap_or_default(),
        );
        line(
            "final checkpoint:",
            s.final_checkpoint.as_ref().map(short).unwrap_or_default(),
        );
        line("metrics:", kv_line(&s.metrics(), SHOWN));
        line("hyperparameters:", kv_line(&s.hyperparameters(), SHOWN));
    }
    out
}
