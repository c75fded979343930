//! `tracklab agent SWEEP`: runs the sweep's program once per run the
//! daemon's controller hands out, like `wandb agent`.
//!
//! The command line comes from the config's `command` (default
//! `${env} ${interpreter} ${program} ${args}`), with wandb's macros:
//! `${env}` (/usr/bin/env), `${interpreter}` (`TRACKLAB_AGENT_PYTHON`, else
//! `python` on PATH, else `python3`), `${program}`, `${args}` (`--k=v`),
//! `${args_no_hyphens}` (`k=v`), `${args_no_equals}` (`--k` `v`),
//! `${args_no_boolean_flags}` (`--k` for true, nothing for false),
//! `${args_json}` (one JSON argument), `${args_json_file}` (a JSON file's
//! path) and `${envvar:NAME}`. Values print as Python's `str()` would for
//! scalars (True, None, 0.001); lists and dicts as JSON.
//!
//! The program runs with `TRACKLAB_SWEEP_ID`, `TRACKLAB_RUN_ID`,
//! `TRACKLAB_PROJECT`, `TRACKLAB_SWEEP_PARAMS` (JSON), `TRACKLAB_DIR` and
//! `TRACKLAB_AGENT=cli`, so its `tracklab.init()` joins the sweep. Every
//! `--poll-interval` seconds the agent asks whether the run must stop
//! (hyperband, a cancelled sweep); if so it sends SIGTERM (the SDK ends the
//! run normally), and SIGKILL 30 s later if the program is still there.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Map, Value as Json};
use tracklab_proto::v1;

use crate::args::AgentArgs;
use crate::ctx::{Ctx, Outcome};
use crate::sweeps::sweep_id;

const KILL_DELAY: Duration = Duration::from_secs(30);

/// A parameter value as Python's `str()` prints scalars.
fn py_str(v: &Json) -> String {
    match v {
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        Json::Null => "None".into(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

fn interpreter() -> String {
    if let Ok(p) = std::env::var("TRACKLAB_AGENT_PYTHON")
        && !p.is_empty()
    {
        return p;
    }
    if on_path("python") {
        "python".into()
    } else {
        "python3".into()
    }
}

/// `${envvar:NAME}` anywhere in a token.
fn expand_envvars(token: &str) -> String {
    let mut out = String::new();
    let mut rest = token;
    while let Some(i) = rest.find("${envvar:") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "${envvar:".len()..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                out.push_str(&std::env::var(name).unwrap_or_else(|_| name.to_string()));
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The program's argv for one run.
pub fn command_line(
    command: &[String],
    program: &str,
    params: &Map<String, Json>,
    json_file: &std::path::Path,
) -> anyhow::Result<Vec<String>> {
    let mut argv = Vec::new();
    for token in command {
        match token.as_str() {
            "${env}" => argv.push("/usr/bin/env".into()),
            "${interpreter}" => argv.push(interpreter()),
            "${program}" => {
                if program.is_empty() {
                    anyhow::bail!(
                        "the sweep config has no `program`, which its command needs; add `program: train.py`"
                    );
                }
                argv.push(program.to_string());
            }
            "${args}" => argv.extend(params.iter().map(|(k, v)| format!("--{k}={}", py_str(v)))),
            "${args_no_hyphens}" => {
                argv.extend(params.iter().map(|(k, v)| format!("{k}={}", py_str(v))));
            }
            "${args_no_equals}" => {
                for (k, v) in params {
                    argv.push(format!("--{k}"));
                    argv.push(py_str(v));
                }
            }
            "${args_no_boolean_flags}" => {
                for (k, v) in params {
                    match v {
                        Json::Bool(true) => argv.push(format!("--{k}")),
                        Json::Bool(false) => {}
                        _ => argv.push(format!("--{k}={}", py_str(v))),
                    }
                }
            }
            "${args_json}" => argv.push(Json::Object(params.clone()).to_string()),
            "${args_json_file}" => {
                std::fs::write(json_file, Json::Object(params.clone()).to_string())
                    .with_context(|| format!("writing {}", json_file.display()))?;
                argv.push(json_file.display().to_string());
            }
            t if t.starts_with("${") && t.ends_with('}') && !t.starts_with("${envvar:") => {}
            t => argv.push(expand_envvars(t)),
        }
    }
    if argv.is_empty() {
        anyhow::bail!("the sweep config's command is empty");
    }
    Ok(argv)
}

#[allow(unsafe_code)]
fn terminate(child: &Child) {
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
}

pub fn agent(ctx: &Ctx, a: AgentArgs) -> anyhow::Result<Outcome> {
    let id = sweep_id(&a.sweep);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let name = format!("{host}:{}:cli", std::process::id());
    let poll = Duration::from_secs_f64(a.poll_interval.clamp(0.05, 3600.0));
    let conn = ctx.block_on(ctx.connect())?;
    let scratch: PathBuf = ctx.data_dir.join("sweeps").join(&id);
    let mut done = 0u64;
    let mut failed = 0u64;
    while a.count.is_none_or(|c| done < c) {
        let next = ctx
            .block_on(conn.sweeps().next(v1::NextSweepRunRequest {
                sweep_id: id.clone(),
                agent: name.clone(),
            }))
            .map_err(|s| anyhow::anyhow!("{}", s.message()))
            .with_context(|| format!("asking sweep {id} for a run"))?
            .into_inner();
        if next.done {
            eprintln!("tracklab: agent stops: {}", next.reason);
            break;
        }
        let params: Map<String, Json> = match serde_json::from_str(&next.params_json) {
            Ok(Json::Object(m)) => m,
            _ => anyhow::bail!("the daemon sent parameters that are not a JSON object"),
        };
        std::fs::create_dir_all(&scratch)
            .with_context(|| format!("creating {}", scratch.display()))?;
        let json_file = scratch.join(format!("config-{}.json", next.run_id));
        let argv = command_line(&next.command, &next.program, &params, &json_file)?;
        eprintln!("tracklab: agent: run {}: {}", next.run_id, argv.join(" "));
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .env("TRACKLAB_SWEEP_ID", &id)
            .env("TRACKLAB_RUN_ID", &next.run_id)
            .env("TRACKLAB_PROJECT", &next.project)
            .env("TRACKLAB_SWEEP_PARAMS", &next.params_json)
            .env("TRACKLAB_DIR", &ctx.data_dir)
            .env("TRACKLAB_AGENT", "cli")
            .spawn()
            .with_context(|| format!("starting {}", argv[0]))?;
        let mut termed: Option<Instant> = None;
        let mut last_poll = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().context("waiting for the run's program")? {
                break st;
            }
            std::thread::sleep(Duration::from_millis(50).min(poll));
            if let Some(t) = termed {
                if t.elapsed() > KILL_DELAY {
                    let _ = child.kill();
                }
                continue;
            }
            if last_poll.elapsed() < poll {
                continue;
            }
            last_poll = Instant::now();
            let asked = ctx.block_on(conn.sweeps().poll(v1::PollSweepRequest {
                sweep_id: id.clone(),
                run_ids: vec![next.run_id.clone()],
            }));
            if let Ok(r) = asked {
                let r = r.into_inner();
                if let Some(why) = r.reasons.first() {
                    eprintln!("tracklab: agent: stopping run {}: {why}", next.run_id);
                    terminate(&child);
                    termed = Some(Instant::now());
                }
            }
        };
        if !status.success() && termed.is_none() {
            failed += 1;
            eprintln!("tracklab: agent: run {} exited with {status}", next.run_id);
        }
        let _ = std::fs::remove_file(&json_file);
        done += 1;
    }
    eprintln!("tracklab: agent ran {done} run(s), {failed} failed");
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn macros_expand_as_wandb_does() {
        let params = match json!({"lr": 0.001, "deep": true, "name": "x", "off": false}) {
            Json::Object(m) => m,
            _ => unreachable!(),
        };
        let cmd = |c: &[&str]| {
            command_line(
                &c.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "train.py",
                &params,
                std::path::Path::new("/tmp/unused.json"),
            )
            .unwrap()
        };
        assert_eq!(
            cmd(&["${env}", "${program}", "${args}"]),
            [
                "/usr/bin/env",
                "train.py",
                "--deep=True",
                "--lr=0.001",
                "--name=x",
                "--off=False"
            ]
        );
        assert_eq!(
            cmd(&["run", "${args_no_boolean_flags}", "${unknown}"]),
            ["run", "--deep", "--lr=0.001", "--name=x"]
        );
        assert_eq!(cmd(&["${args_no_hyphens}"])[1], "lr=0.001");
        assert_eq!(
            cmd(&["${args_json}"]),
            [r#"{"deep":true,"lr":0.001,"name":"x","off":false}"#]
        );
        assert!(
            command_line(
                &["${program}".into()],
                "",
                &params,
                std::path::Path::new("x")
            )
            .is_err()
        );
    }
}
