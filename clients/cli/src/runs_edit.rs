//! `tracklab runs delete|restore|tag|rename|set-state` and `tracklab gc`.
//! Each change is a record the daemon appends to the run's log, so a
//! rebuild keeps it.

use anyhow::Context;
use serde_json::json;
use tracklab_client::Connection;
use tracklab_proto::v1::{EditRunRequest, GcRequest, RunInfo, RunState, RunUpdate};

use crate::args::{EndState, TagArgs};
use crate::ctx::{Ctx, Outcome, UsageError, pick_run};
use crate::json::{run_json, state_name};

async fn edit(
    conn: &Connection,
    run_id: &str,
    update: Option<RunUpdate>,
    state: RunState,
    force: bool,
) -> anyhow::Result<RunInfo> {
    Ok(conn
        .admin()
        .edit_run(EditRunRequest {
            run_id: run_id.to_string(),
            update,
            state: state as i32,
            force,
        })
        .await
        .with_context(|| format!("changing run {run_id}"))?
        .into_inner())
}

fn report(ctx: &Ctx, run: &RunInfo, what: &str) -> anyhow::Result<()> {
    if ctx.json {
        crate::outln!("{}", serde_json::to_string_pretty(&run_json(run))?);
    } else {
        crate::outln!("run {} {:?}: {what}", run.run_id, run.name);
    }
    Ok(())
}

pub fn set_deleted(ctx: &Ctx, runs: &[String], deleted: bool) -> anyhow::Result<Outcome> {
    ctx.block_on(async {
        let conn = ctx.connect().await?;
        let all = ctx.all_runs(&conn).await?;
        // Resolve every name first: nothing changes if one is unknown.
        let ids = runs
            .iter()
            .map(|w| pick_run(&all, w).map(|r| r.run_id.clone()))
            .collect::<anyhow::Result<Vec<_>>>()?;
        for id in ids {
            let update = RunUpdate {
                deleted: Some(deleted),
                ..Default::default()
            };
            let info = edit(&conn, &id, Some(update), RunState::Unspecified, false).await?;
            let what = if deleted {
                "deleted (hidden; `tracklab runs restore` undoes it, `tracklab gc` removes it for good)"
            } else {
                "restored"
            };
            report(ctx, &info, what)?;
        }
        Ok(Outcome::Ok)
    })
}

pub fn tag(ctx: &Ctx, args: TagArgs) -> anyhow::Result<Outcome> {
    if args.add.is_empty() && args.remove.is_empty() {
        return Err(UsageError("give tags to --add or --remove".into()).into());
    }
    ctx.block_on(async {
        let conn = ctx.connect().await?;
        let run = ctx.resolve(&conn, &args.run).await?;
        let mut tags: Vec<String> = run
            .tags
            .iter()
            .filter(|t| !args.remove.contains(t))
            .cloned()
            .collect();
        for t in &args.add {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        let update = RunUpdate {
            set_tags: true,
            tags,
            ..Default::default()
        };
        let info = edit(
            &conn,
            &run.run_id,
            Some(update),
            RunState::Unspecified,
            false,
        )
        .await?;
        report(ctx, &info, &format!("tags: {}", info.tags.join(", ")))?;
        Ok(Outcome::Ok)
    })
}

pub fn rename(ctx: &Ctx, run: &str, name: String) -> anyhow::Result<Outcome> {
    ctx.block_on(async {
        let conn = ctx.connect().await?;
        let run = ctx.resolve(&conn, run).await?;
        let update = RunUpdate {
            name: Some(name),
            ..Default::default()
        };
        let info = edit(
            &conn,
            &run.run_id,
            Some(update),
            RunState::Unspecified,
            false,
        )
        .await?;
        report(ctx, &info, "renamed")?;
        Ok(Outcome::Ok)
    })
}

pub fn set_state(ctx: &Ctx, run: &str, state: EndState, force: bool) -> anyhow::Result<Outcome> {
    let state = match state {
        EndState::Finished => RunState::Finished,
        EndState::Failed => RunState::Failed,
        EndState::Crashed => RunState::Crashed,
    };
    ctx.block_on(async {
        let conn = ctx.connect().await?;
        let run = ctx.resolve(&conn, run).await?;
        let info = edit(&conn, &run.run_id, None, state, force).await?;
        report(ctx, &info, &format!("state {}", state_name(info.state)))?;
        Ok(Outcome::Ok)
    })
}

pub fn gc(ctx: &Ctx, dry_run: bool) -> anyhow::Result<Outcome> {
    let r = ctx.block_on(async {
        let conn = ctx.connect().await?;
        let r = conn
            .admin()
            .gc(GcRequest { dry_run })
            .await
            .context("garbage-collecting deleted runs")?
            .into_inner();
        anyhow::Ok(r)
    })?;
    if ctx.json {
        let v = json!({
            "dry_run": dry_run,
            "removed_runs": r.removed_runs,
            "log_bytes_freed": r.log_bytes_freed,
            "store_bytes_before": r.store_bytes_before,
            "store_bytes_after": r.store_bytes_after,
            "blobs_removed": r.blobs_removed,
            "blob_bytes_freed": r.blob_bytes_freed,
            "kept_runs": r.kept_runs,
        });
        crate::outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(Outcome::Ok);
    }
    let verb = if dry_run { "would remove" } else { "removed" };
    if r.removed_runs.is_empty() {
        crate::outln!("no deleted runs to remove");
    } else {
        crate::outln!(
            "{verb} {} deleted run(s): {} ({} bytes of logs)",
            r.removed_runs.len(),
            r.removed_runs.join(", "),
            r.log_bytes_freed
        );
    }
    for kept in &r.kept_runs {
        crate::outln!("kept {kept}");
    }
    if r.blobs_removed > 0 {
        crate::outln!(
            "{verb} {} unreferenced blob(s) ({} bytes)",
            r.blobs_removed,
            r.blob_bytes_freed
        );
    }
    Ok(Outcome::Ok)
}
