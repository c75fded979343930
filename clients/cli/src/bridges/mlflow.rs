//! `tracklab export --to mlflow RUN…`: runs the Python bridge
//! (`python -m tracklab.bridges.mlflow`, in the tracklab package) with the
//! Python of `TRACKLAB_PYTHON`, else `python3`: that Python needs the
//! `tracklab` and `mlflow` packages. The bridge documents the mapping.

use anyhow::Context;

use crate::args::ExportArgs;
use crate::ctx::{Ctx, Outcome};

pub fn export(ctx: &Ctx, args: &ExportArgs) -> anyhow::Result<Outcome> {
    let python = std::env::var("TRACKLAB_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into());
    let mut cmd = std::process::Command::new(&python);
    cmd.args(["-m", "tracklab.bridges.mlflow", "--data-dir"])
        .arg(&ctx.data_dir);
    if let Some(u) = &args.tracking_uri {
        cmd.args(["--tracking-uri", u]);
    }
    if let Some(e) = &args.experiment {
        cmd.args(["--experiment", e]);
    }
    if args.replace {
        cmd.arg("--replace");
    }
    cmd.args(&args.runs);
    let status = cmd.status().with_context(|| {
        format!(
            "starting {python} for the MLflow export; set TRACKLAB_PYTHON to a Python with tracklab and mlflow installed"
        )
    })?;
    if !status.success() {
        anyhow::bail!(
            "the MLflow export ({python} -m tracklab.bridges.mlflow) failed ({status}); its message is above"
        );
    }
    Ok(Outcome::Ok)
}
