//! `tracklab lineage`: the chain of training stages behind a model, an
//! artifact or a run (built by `tracklab_view::lineage`, the same code the
//! dashboard's lineage graph uses).

use tracklab_client::Connection;
use tracklab_proto::v1::{
    ArtifactVersion, GetArtifactRequest, GetRunRequest, ListModelsRequest, ModelInfo,
    RunArtifactsResponse, RunInfo,
};
use tracklab_view::lineage::{self, LineageSource};

use crate::args::{LineageArgs, LineageFormat};
use crate::ctx::{Ctx, Outcome};

/// The daemon's answers, one call at a time.
struct Daemon<'a> {
    ctx: &'a Ctx,
    conn: Connection,
}

fn message(s: tonic::Status) -> String {
    s.message().to_string()
}

impl LineageSource for Daemon<'_> {
    fn run(&mut self, run_id: &str) -> Result<RunInfo, String> {
        let mut q = self.conn.query();
        let req = GetRunRequest {
            run_id: run_id.to_string(),
        };
        self.ctx
            .block_on(q.get_run(req))
            .map(|r| r.into_inner())
            .map_err(message)
    }

    fn find_run(&mut self, name: &str) -> Result<RunInfo, String> {
        self.ctx
            .block_on(self.ctx.resolve(&self.conn, name))
            .map_err(|e| format!("{e:#}"))
    }

    fn run_artifacts(&mut self, run_id: &str) -> Result<RunArtifactsResponse, String> {
        let mut q = self.conn.query();
        let req = GetRunRequest {
            run_id: run_id.to_string(),
        };
        self.ctx
            .block_on(q.run_artifacts(req))
            .map(|r| r.into_inner())
            .map_err(message)
    }

    fn model(&mut self, name: &str) -> Result<ModelInfo, String> {
        let mut q = self.conn.query();
        let req = ListModelsRequest {
            name: name.to_string(),
        };
        let models = self
            .ctx
            .block_on(q.list_models(req))
            .map_err(message)?
            .into_inner()
            .models;
        models
            .into_iter()
            .next()
            .ok_or_else(|| format!("no registered model {name:?}"))
    }

    fn artifact(
        &mut self,
        project: &str,
        name: &str,
        version: &str,
    ) -> Result<ArtifactVersion, String> {
        let mut q = self.conn.query();
        let req = GetArtifactRequest {
            project: project.to_string(),
            name: name.to_string(),
            version: version.to_string(),
        };
        self.ctx
            .block_on(q.get_artifact(req))
            .map(|r| r.into_inner())
            .map_err(message)
    }
}

/// The run ids of a chain's stages, first stage first (`compare --lineage`).
pub fn stage_runs(ctx: &Ctx, target: &str) -> anyhow::Result<Vec<String>> {
    let conn = ctx.block_on(ctx.connect())?;
    let mut src = Daemon { ctx, conn };
    let (last, _) = lineage::resolve(&mut src, target).map_err(anyhow::Error::msg)?;
    let stages = lineage::chain(&mut src, last).map_err(anyhow::Error::msg)?;
    Ok(stages.into_iter().map(|s| s.run.run_id).collect())
}

pub fn lineage(ctx: &Ctx, args: LineageArgs) -> anyhow::Result<Outcome> {
    let conn = ctx.block_on(ctx.connect())?;
    let mut src = Daemon { ctx, conn };
    let (last, what) = lineage::resolve(&mut src, &args.target).map_err(anyhow::Error::msg)?;
    let stages = lineage::chain(&mut src, last).map_err(anyhow::Error::msg)?;
    let format = if ctx.json {
        LineageFormat::Json
    } else {
        args.format
    };
    let text = match format {
        LineageFormat::Json => serde_json::to_string_pretty(&lineage::to_json(&what, &stages))?,
        LineageFormat::Markdown => lineage::to_markdown(&what, &stages),
        LineageFormat::Tree => lineage::to_tree(&what, &stages),
    };
    crate::outln!("{}", text.trim_end());
    Ok(Outcome::Ok)
}
