//! `tracklab daemon start|stop|status|logs`.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde_json::json;
use tracklab_proto::v1::{ShutdownRequest, StatusRequest, StatusResponse};

use crate::args::StartArgs;
use crate::ctx::{Ctx, Outcome};
use crate::fmt::format_duration_us;
use crate::table::Table;

/// Name of the log file a daemon started by `tracklab daemon start` writes.
pub const DAEMON_LOG: &str = "daemon.log";
/// How long `start` and `stop` wait for the daemon.
const WAIT: Duration = Duration::from_secs(30);

async fn try_status(ctx: &Ctx) -> anyhow::Result<StatusResponse> {
    let conn = ctx.connect().await?;
    Ok(conn
        .admin()
        .status(StatusRequest {})
        .await
        .context("asking the daemon for its status")?
        .into_inner())
}

/// The daemon binary: the flag, else next to this executable, else PATH.
fn daemon_bin(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(p) = explicit {
        return p;
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        let sibling = dir.join("tracklab-daemon");
        if sibling.is_file() {
            return sibling;
        }
    }
    PathBuf::from("tracklab-daemon")
}

/// Last `n` lines of a text file (empty if it does not exist).
fn tail_lines(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub fn start(ctx: &Ctx, args: StartArgs) -> anyhow::Result<Outcome> {
    if let Ok(s) = ctx.block_on(try_status(ctx)) {
        crate::outln!(
            "tracklab-daemon already runs for {} at {} (pid {})",
            s.data_dir,
            s.address,
            s.pid
        );
        return Ok(Outcome::Ok);
    }
    std::fs::create_dir_all(&ctx.data_dir)
        .with_context(|| format!("creating data dir {}", ctx.data_dir.display()))?;
    let log_path = ctx.data_dir.join(DAEMON_LOG);
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    let log_start = log.seek(SeekFrom::End(0)).unwrap_or(0);
    let bin = daemon_bin(args.daemon_bin);
    let mut child = Command::new(&bin)
        .arg("--data-dir")
        .arg(&ctx.data_dir)
        .arg("--port")
        .arg(args.port.to_string())
        .arg("--log-level")
        .arg(&args.log_level)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        // Its own process group: Ctrl-C in this terminal does not stop it.
        .process_group(0)
        .spawn()
        .with_context(|| {
            format!(
                "starting {}: is tracklab-daemon built and on PATH? (or pass --daemon-bin)",
                bin.display()
            )
        })?;
    let _ = log.flush();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            let mut out = String::new();
            if let Ok(mut f) = std::fs::File::open(&log_path) {
                let _ = f.seek(SeekFrom::Start(log_start));
                let _ = f.read_to_string(&mut out);
            }
            bail!(
                "tracklab-daemon exited at start ({status}); its output:\n{}",
                out.trim_end()
            );
        }
        if let Ok(s) = ctx.block_on(try_status(ctx))
            && s.pid == child.id()
        {
            crate::outln!(
                "tracklab-daemon started for {} at {} (pid {}); log: {}",
                s.data_dir,
                s.address,
                s.pid,
                log_path.display()
            );
            return Ok(Outcome::Ok);
        }
        if started.elapsed() > WAIT {
            bail!(
                "tracklab-daemon (pid {}) did not answer within {} s; see {}",
                child.id(),
                WAIT.as_secs(),
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

pub fn stop(ctx: &Ctx) -> anyhow::Result<Outcome> {
    let status = match ctx.block_on(try_status(ctx)) {
        Ok(s) => s,
        Err(_) => {
            crate::outln!("no tracklab-daemon runs for {}", ctx.data_dir.display());
            return Ok(Outcome::Ok);
        }
    };
    ctx.block_on(async {
        let conn = ctx.connect().await?;
        conn.admin()
            .shutdown(ShutdownRequest {})
            .await
            .context("asking the daemon to shut down")?;
        anyhow::Ok(())
    })?;
    let started = Instant::now();
    while process_alive(status.pid) {
        if started.elapsed() > WAIT {
            bail!(
                "tracklab-daemon (pid {}) is still running {} s after the shutdown request; see `tracklab daemon logs`",
                status.pid,
                WAIT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    crate::outln!("tracklab-daemon (pid {}) stopped", status.pid);
    Ok(Outcome::Ok)
}

pub fn status(ctx: &Ctx) -> anyhow::Result<Outcome> {
    let s = ctx.block_on(try_status(ctx))?;
    if ctx.json {
        let v = json!({
            "version": s.version,
            "pid": s.pid,
            "address": s.address,
            "data_dir": s.data_dir,
            "uptime_ms": s.uptime_ms,
            "runs": s.runs,
            "log_bytes": s.log_bytes,
            "pending_records": s.pending_records,
            "healthy": s.healthy,
            "last_error": s.last_error,
            "problems": s.problems,
            "dashboard": dashboard_url(ctx, &s.address).ok(),
        });
        crate::outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let mut t = Table::new(vec!["".into(), "".into()]);
        let rows = [
            ("version", s.version.clone()),
            ("pid", s.pid.to_string()),
            ("address", s.address.clone()),
            ("data dir", s.data_dir.clone()),
            ("uptime", format_duration_us(s.uptime_ms as i64 * 1000)),
            ("runs", s.runs.to_string()),
            ("log bytes", s.log_bytes.to_string()),
            ("not yet applied", format!("{} records", s.pending_records)),
            (
                "dashboard",
                dashboard_url(ctx, &s.address).unwrap_or_else(|e| format!("(no token: {e})")),
            ),
            (
                "health",
                if s.healthy {
                    "ok".to_string()
                } else {
                    format!("ERROR: {}", s.last_error)
                },
            ),
        ];
        for (k, v) in rows {
            t.push(vec![k.to_string(), v]);
        }
        // The table's header row is empty: print the rows only.
        let plain = t.to_plain();
        crate::outln!("{}", plain.lines().skip(1).collect::<Vec<_>>().join("\n"));
        if !s.problems.is_empty() {
            crate::outln!("problems found in the logs at start-up:");
            for p in &s.problems {
                crate::outln!("  {p}");
            }
        }
    }
    Ok(Outcome::Ok)
}

/// The dashboard's URL with the token, which the page trades for a cookie.
fn dashboard_url(ctx: &Ctx, address: &str) -> anyhow::Result<String> {
    let path = ctx.data_dir.join("token");
    let token = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the daemon's token {}", path.display()))?;
    Ok(format!("http://{address}/?token={}", token.trim()))
}

/// `tracklab ui`: the dashboard's URL, opened in a browser when there is one.
pub fn ui(ctx: &Ctx, no_open: bool) -> anyhow::Result<Outcome> {
    let s = ctx.block_on(try_status(ctx))?;
    let url = dashboard_url(ctx, &s.address)?;
    if ctx.json {
        crate::outln!("{}", json!({ "url": url }));
        return Ok(Outcome::Ok);
    }
    crate::outln!("{url}");
    if !no_open
        && std::env::var_os("DISPLAY")
            .or(std::env::var_os("WAYLAND_DISPLAY"))
            .is_some()
    {
        for opener in ["xdg-open", "open"] {
            let spawned = std::process::Command::new(opener)
                .arg(&url)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
            if spawned.is_ok() {
                break;
            }
        }
    }
    Ok(Outcome::Ok)
}

pub fn logs(ctx: &Ctx, lines: usize, follow: bool) -> anyhow::Result<Outcome> {
    let path = ctx.data_dir.join(DAEMON_LOG);
    if !path.exists() {
        return Err(anyhow!(
            "{} does not exist: only a daemon started with `tracklab daemon start` writes it (one started by hand logs to its standard error)",
            path.display()
        ));
    }
    let text = tail_lines(&path, lines);
    if !text.is_empty() {
        crate::outln!("{text}");
    }
    if !follow {
        return Ok(Outcome::Ok);
    }
    let mut f = std::fs::File::open(&path)?;
    let mut pos = f.seek(SeekFrom::End(0))?;
    let mut out = std::io::stdout();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let len = f.metadata()?.len();
        if len < pos {
            pos = 0;
        }
        if len > pos {
            f.seek(SeekFrom::Start(pos))?;
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)?;
            pos += buf.len() as u64;
            if out.write_all(&buf).and_then(|()| out.flush()).is_err() {
                return Ok(Outcome::Ok);
            }
        }
    }
}
