//! Harness for the end-to-end tests: starts the real `tracklab-daemon` on
//! 127.0.0.1:0 in a temporary data dir, waits for its "listening" line (no
//! sleeps), and stops it gracefully or with SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tracklab_client::{Connection, Target};

/// Path of a binary built by this workspace, next to the test executable.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let dir = exe
        .parent()
        .and_then(|d| {
            if d.ends_with("deps") {
                d.parent()
            } else {
                Some(d)
            }
        })
        .expect("test executable lives in target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first with `cargo build --workspace --bins`",
        path.display()
    );
    path
}

/// A running daemon owned by a test.
pub struct Daemon {
    pub dir: PathBuf,
    pub addr: String,
    child: Child,
}

impl Daemon {
    /// Starts a daemon on a free port for `dir` and waits until it listens.
    pub fn start(dir: &Path) -> Daemon {
        Self::try_start(dir, &[]).unwrap_or_else(|e| panic!("daemon did not start: {e}"))
    }

    /// Starts a daemon; on failure returns its stderr.
    pub fn try_start(dir: &Path, extra: &[&str]) -> Result<Daemon, String> {
        Self::try_start_env(dir, extra, &[])
    }

    /// Starts a daemon with extra environment variables.
    pub fn try_start_env(
        dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Daemon, String> {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.with_extension("daemon.log"))
            .map_err(|e| e.to_string())?;
        let mut child = Command::new(workspace_bin("tracklab-daemon"))
            .arg("--data-dir")
            .arg(dir)
            .args([
                "--port",
                "0",
                "--log-level",
                "info",
                "--liveness-interval-ms",
                "100",
            ])
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawning tracklab-daemon: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("tracklab-daemon listening on ") {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => Ok(Daemon {
                dir: dir.to_path_buf(),
                addr,
                child,
            }),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().map_err(|e| e.to_string())?;
                let log =
                    std::fs::read_to_string(dir.with_extension("daemon.log")).unwrap_or_default();
                Err(format!("exited with {status}; log:\n{log}"))
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn target(&self) -> Target {
        Target::DataDir(self.dir.clone())
    }

    pub async fn connect(&self) -> Connection {
        Connection::connect(&self.dir)
            .await
            .unwrap_or_else(|e| panic!("connecting to the test daemon: {e}"))
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM; returns the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("waiting for the daemon")
    }

    /// Waits for the daemon to exit (after a shutdown request) for at most
    /// `secs` seconds; `None` if it is still running then (it is killed).
    pub fn wait_exit(mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let pid = self.child.id();
        // The child moves to a waiting thread; `self` keeps a stand-in that
        // has already exited, so Drop does nothing to the real daemon twice.
        let child = std::mem::replace(&mut self.child, Command::new("true").spawn().ok()?);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut child = child;
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(Duration::from_secs(secs)) {
            Ok(status) => status.ok(),
            Err(_) => {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                None
            }
        }
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.with_extension("daemon.log")).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
