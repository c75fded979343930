//! `tracklab artifacts ls|show` and `tracklab models ls|show|promote|alias`.

use anyhow::Context;
use serde_json::Value as Json;
use tracklab_client::Connection;
use tracklab_proto::v1::{
    self, GetArtifactRequest, ListArtifactsRequest, ListModelsRequest, ModelInfo, RegistryOp,
    RegistryRequest, registry_op::Op,
};
use tracklab_state::registry::{stage_from_name, stage_name};
use tracklab_view::catalog::{artifact_json, model_json};

use crate::args::{ArtifactsCmd, ModelsCmd};
use crate::ctx::{Ctx, Outcome, UsageError};
use crate::fmt::format_time_us;
use crate::table::Table;

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < UNITS.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", UNITS[u])
    }
}

/// `project/name[:version]` to its parts ("" = latest).
fn split_artifact(spec: &str) -> Result<(String, String, String), UsageError> {
    let (path, version) = spec.split_once(':').unwrap_or((spec, ""));
    let Some((project, name)) = path.rsplit_once('/') else {
        return Err(UsageError(format!(
            "artifact {spec:?}: write PROJECT/NAME[:VERSION], for example mnist/model:v3 or mnist/model:best"
        )));
    };
    let project = project.rsplit('/').next().unwrap_or(project);
    Ok((project.to_string(), name.to_string(), version.to_string()))
}

pub fn artifacts(ctx: &Ctx, cmd: ArtifactsCmd) -> anyhow::Result<Outcome> {
    match cmd {
        ArtifactsCmd::Ls {
            project,
            name,
            r#type,
        } => {
            let versions = ctx.block_on(async {
                let conn = ctx.connect().await?;
                let r = conn
                    .query()
                    .list_artifacts(ListArtifactsRequest {
                        project: project.clone(),
                        name: name.clone().unwrap_or_default(),
                        r#type: r#type.clone().unwrap_or_default(),
                    })
                    .await
                    .with_context(|| format!("listing the artifacts of project {project}"))?;
                anyhow::Ok(r.into_inner().versions)
            })?;
            if ctx.json {
                let all: Vec<Json> = versions.iter().map(artifact_json).collect();
                crate::outln!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(Outcome::Ok);
            }
            if versions.is_empty() {
                crate::outln!("no artifacts in project {project}");
                return Ok(Outcome::Ok);
            }
            let mut t = Table::new(
                [
                    "artifact",
                    "version",
                    "type",
                    "aliases",
                    "files",
                    "size",
                    "created by",
                    "created",
                ]
                .map(String::from)
                .to_vec(),
            );
            for v in &versions {
                t.push(vec![
                    v.name.clone(),
                    format!("v{}", v.version),
                    v.r#type.clone(),
                    v.aliases.join(", "),
                    v.entries.len().to_string(),
                    human_bytes(v.size),
                    v.created_by.clone(),
                    format_time_us(v.created_us),
                ]);
            }
            crate::outln!("{}", t.to_plain());
            Ok(Outcome::Ok)
        }
        ArtifactsCmd::Delete { artifact } => {
            let (project, name, version) = split_artifact(&artifact)?;
            if version.is_empty() {
                return Err(UsageError(format!(
                    "artifact {artifact:?}: name the version to delete (PROJECT/NAME:vN or :ALIAS)"
                ))
                .into());
            }
            let v = ctx.block_on(async {
                let conn = ctx.connect().await?;
                let r = conn
                    .admin()
                    .delete_artifact(GetArtifactRequest {
                        project,
                        name,
                        version,
                    })
                    .await
                    .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
                anyhow::Ok(r.into_inner())
            })?;
            if ctx.json {
                crate::outln!("{}", serde_json::to_string_pretty(&artifact_json(&v))?);
            } else {
                crate::outln!(
                    "deleted {}/{}:v{}; `tracklab gc` frees its files",
                    v.project,
                    v.name,
                    v.version
                );
            }
            Ok(Outcome::Ok)
        }
        ArtifactsCmd::Show { artifact } => {
            let (project, name, version) = split_artifact(&artifact)?;
            let v = ctx.block_on(async {
                let conn = ctx.connect().await?;
                let r = conn
                    .query()
                    .get_artifact(GetArtifactRequest {
                        project,
                        name,
                        version,
                    })
                    .await
                    .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
                anyhow::Ok(r.into_inner())
            })?;
            if ctx.json {
                crate::outln!("{}", serde_json::to_string_pretty(&artifact_json(&v))?);
                return Ok(Outcome::Ok);
            }
            crate::outln!("{}/{}:v{} ({})", v.project, v.name, v.version, v.r#type);
            crate::outln!("  aliases     {}", v.aliases.join(", "));
            crate::outln!("  digest      {}", v.digest);
            crate::outln!(
                "  size        {} in {} file(s)",
                human_bytes(v.size),
                v.entries.len()
            );
            crate::outln!(
                "  created     {} by run {}",
                format_time_us(v.created_us),
                v.created_by
            );
            if !v.description.is_empty() {
                crate::outln!("  description {}", v.description);
            }
            if !v.metadata_json.is_empty() {
                crate::outln!("  metadata    {}", v.metadata_json);
            }
            if !v.used_by.is_empty() {
                let users: Vec<String> = v
                    .used_by
                    .iter()
                    .map(|u| {
                        if u.role.is_empty() {
                            u.run_id.clone()
                        } else {
                            format!("{} ({})", u.run_id, u.role)
                        }
                    })
                    .collect();
                crate::outln!("  used by     {}", users.join(", "));
            }
            let mut t = Table::new(["file", "size", "sha256"].map(String::from).to_vec());
            for e in &v.entries {
                let digest = if e.r#ref.is_empty() {
                    e.digest.clone()
                } else {
                    format!("{} (reference {})", e.digest, e.r#ref)
                };
                t.push(vec![e.path.clone(), human_bytes(e.size), digest]);
            }
            crate::outln!("{}", t.to_plain());
            Ok(Outcome::Ok)
        }
    }
}

async fn registry(conn: &Connection, op: RegistryOp) -> anyhow::Result<ModelInfo> {
    let r = conn
        .admin()
        .registry(RegistryRequest { op: Some(op) })
        .await
        .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
    Ok(r.into_inner())
}

fn user() -> String {
    std::env::var("USER").unwrap_or_default()
}

fn print_model(ctx: &Ctx, m: &ModelInfo) -> anyhow::Result<()> {
    if ctx.json {
        crate::outln!("{}", serde_json::to_string_pretty(&model_json(m))?);
        return Ok(());
    }
    crate::outln!("model {} ({} version(s))", m.name, m.versions.len());
    let mut t = Table::new(
        [
            "version",
            "stage",
            "aliases",
            "artifact",
            "source run",
            "registered",
        ]
        .map(String::from)
        .to_vec(),
    );
    for v in &m.versions {
        t.push(vec![
            v.version.to_string(),
            stage_name(v.stage).to_string(),
            v.aliases.join(", "),
            format!("{}/{}", v.artifact_project, v.artifact_name),
            v.source_run.clone(),
            format_time_us(v.created_us),
        ]);
    }
    crate::outln!("{}", t.to_plain());
    for v in &m.versions {
        for tr in &v.transitions {
            crate::outln!(
                "  v{}: {} -> {} at {}{}{}",
                v.version,
                stage_name(tr.from),
                stage_name(tr.to),
                format_time_us(tr.timestamp_us),
                if tr.user.is_empty() {
                    String::new()
                } else {
                    format!(" by {}", tr.user)
                },
                if tr.reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", tr.reason)
                }
            );
        }
    }
    Ok(())
}

pub fn models(ctx: &Ctx, cmd: ModelsCmd) -> anyhow::Result<Outcome> {
    match cmd {
        ModelsCmd::Ls => {
            let models = ctx.block_on(async {
                let conn = ctx.connect().await?;
                let r = conn
                    .query()
                    .list_models(ListModelsRequest::default())
                    .await
                    .context("listing registered models")?;
                anyhow::Ok(r.into_inner().models)
            })?;
            if ctx.json {
                let all: Vec<Json> = models.iter().map(model_json).collect();
                crate::outln!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(Outcome::Ok);
            }
            if models.is_empty() {
                crate::outln!("no registered models");
                return Ok(Outcome::Ok);
            }
            let mut t = Table::new(
                [
                    "model",
                    "versions",
                    "latest",
                    "production",
                    "staging",
                    "aliases",
                ]
                .map(String::from)
                .to_vec(),
            );
            for m in &models {
                let in_stage = |s: v1::ModelStage| {
                    m.versions
                        .iter()
                        .filter(|v| v.stage == s as i32)
                        .map(|v| format!("v{}", v.version))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let aliases: Vec<String> = m
                    .versions
                    .iter()
                    .flat_map(|v| v.aliases.iter().map(move |a| format!("{a}=v{}", v.version)))
                    .collect();
                t.push(vec![
                    m.name.clone(),
                    m.versions.len().to_string(),
                    m.versions
                        .last()
                        .map(|v| format!("v{}", v.version))
                        .unwrap_or_default(),
                    in_stage(v1::ModelStage::StageProduction),
                    in_stage(v1::ModelStage::StageStaging),
                    aliases.join(", "),
                ]);
            }
            crate::outln!("{}", t.to_plain());
            Ok(Outcome::Ok)
        }
        ModelsCmd::Show { name } => {
            let m = ctx.block_on(async {
                let conn = ctx.connect().await?;
                let r = conn
                    .query()
                    .list_models(ListModelsRequest { name: name.clone() })
                    .await
                    .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
                anyhow::Ok(r.into_inner().models)
            })?;
            for model in &m {
                print_model(ctx, model)?;
            }
            Ok(Outcome::Ok)
        }
        ModelsCmd::Promote {
            name,
            version,
            stage,
            archive_existing,
            reason,
        } => {
            let Some(stage) = stage_from_name(&stage) else {
                return Err(UsageError(format!(
                    "stage {stage:?}: use None, Staging, Production or Archived"
                ))
                .into());
            };
            let m = ctx.block_on(async {
                let conn = ctx.connect().await?;
                registry(
                    &conn,
                    RegistryOp {
                        model: name,
                        user: user(),
                        reason: reason.unwrap_or_default(),
                        op: Some(Op::Transition(v1::StageTransition {
                            version,
                            stage: stage as i32,
                            archive_existing,
                        })),
                    },
                )
                .await
            })?;
            print_model(ctx, &m)?;
            Ok(Outcome::Ok)
        }
        ModelsCmd::Alias {
            name,
            alias,
            version,
            remove,
        } => {
            if version.is_none() && !remove {
                return Err(
                    UsageError("give the VERSION the alias points at, or --remove".into()).into(),
                );
            }
            let m = ctx.block_on(async {
                let conn = ctx.connect().await?;
                registry(
                    &conn,
                    RegistryOp {
                        model: name,
                        user: user(),
                        reason: String::new(),
                        op: Some(Op::Alias(v1::ModelAlias {
                            version: version.unwrap_or(0),
                            alias,
                            remove,
                        })),
                    },
                )
                .await
            })?;
            print_model(ctx, &m)?;
            Ok(Outcome::Ok)
        }
    }
}
