//! `tracklab`: the command line of TrackLab.
//!
//! Exit codes: 0 success; 1 error (daemon not reachable, unknown run, I/O);
//! 2 usage error (bad arguments, bad filter expression); 3 a data problem
//! was found (damaged or torn log frames, sequence gaps) — the command did
//! what it could and reported each problem with its file and offset.

mod agent;
mod args;
mod bridges;
use tracklab_view::{compare, fmt, json, table};
mod ctx;
mod daemon_ctl;
mod dump;
mod export;
mod filter;
mod lineage;
mod listing;
mod logtool;
mod models;
mod rebuild;
mod runs_edit;
mod show;
mod sparkline;
mod sweeps;
mod sync;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command, DaemonCmd, LogCmd, RunsCmd};
use crate::ctx::{Ctx, Outcome, UsageError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = Ctx::new(cli.data_dir.clone(), cli.json);
    match dispatch(&ctx, cli.command) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(3),
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn dispatch(ctx: &Ctx, command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Daemon { cmd } => match cmd {
            DaemonCmd::Start(a) => daemon_ctl::start(ctx, a),
            DaemonCmd::Stop => daemon_ctl::stop(ctx),
            DaemonCmd::Status => daemon_ctl::status(ctx),
            DaemonCmd::Logs { lines, follow } => daemon_ctl::logs(ctx, lines, follow),
        },
        Command::Ui { no_open } => daemon_ctl::ui(ctx, no_open),
        Command::Sync(a) if a.rebuild => {
            if !a.paths.is_empty() {
                return Err(UsageError(
                    "`sync --rebuild` rebuilds from the data dir's own logs and takes no paths; sync the paths first, without --rebuild".into(),
                )
                .into());
            }
            rebuild::rebuild(ctx)
        }
        Command::Sync(a) => sync::sync(ctx, a),
        Command::Ls(a) => listing::ls(ctx, a),
        Command::Projects => listing::projects(ctx),
        Command::Show(a) => show::show(ctx, a),
        Command::Compare(a) => show::compare(ctx, a),
        Command::Export(a) => export::export(ctx, a),
        Command::Runs { cmd } => match cmd {
            RunsCmd::Delete { runs } => runs_edit::set_deleted(ctx, &runs, true),
            RunsCmd::Restore { runs } => runs_edit::set_deleted(ctx, &runs, false),
            RunsCmd::Tag(a) => runs_edit::tag(ctx, a),
            RunsCmd::Rename { run, name } => runs_edit::rename(ctx, &run, name),
            RunsCmd::SetState { run, state, force } => {
                runs_edit::set_state(ctx, &run, state, force)
            }
        },
        Command::Gc { dry_run } => runs_edit::gc(ctx, dry_run),
        Command::Artifacts { cmd } => models::artifacts(ctx, cmd),
        Command::Models { cmd } => models::models(ctx, cmd),
        Command::Lineage(a) => lineage::lineage(ctx, a),
        Command::Sweep(a) => sweeps::sweep(ctx, a),
        Command::Sweeps { sweep, project } => sweeps::list(ctx, sweep, project),
        Command::Agent(a) => agent::agent(ctx, a),
        Command::Import(a) => bridges::wandb_import::import(ctx, a),
        Command::Log { cmd } => match cmd {
            LogCmd::Verify { paths } => logtool::verify(ctx, &paths),
            LogCmd::Dump { path } => dump::dump(ctx, &path),
        },
    }
}
