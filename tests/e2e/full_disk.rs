//! A full disk: the daemon's run logs live on a 2 MiB tmpfs, mostly taken
//! by a ballast file. Acknowledgements stop with a clear error (to the
//! client and in Admin.Status), nothing acknowledged is damaged, and once
//! the ballast is removed logging resumes without a restart, every point
//! exactly once.
//!
//! The tmpfs is mounted in a private mount namespace of an unprivileged
//! user namespace (`unshare -Urm`), so the test needs no root; the daemon
//! runs inside it, while `daemon.json`, the token and the store stay on the
//! normal disk where the test and the client see them.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use tracklab_client::v1::{self, StatusRequest};
use tracklab_client::{Connection, Run, RunOptions, Target, float, item};
use tracklab_tests::workspace_bin;

use crate::support::{get_run, series};

/// The tmpfs size and the ballast in it: about 300 KiB stay free.
const TMPFS: &str = "size=2m";
const BALLAST_BYTES: u64 = 1_750_000;
const STEPS: u64 = 3_000;

/// The shell inside the namespace: mount, fill, start the daemon; the first
/// line on its stdin removes the ballast, the second copies the run's log
/// out to the normal disk for a scan.
const SCRIPT: &str = r#"
set -e
mount -t tmpfs -o "$2" tracklab-full-disk-test "$0/runs"
head -c "$3" /dev/zero > "$0/runs/.ballast"
"$1" --data-dir "$0" --port 0 --liveness-interval-ms 100 </dev/null 2>"$0/daemon.err" &
read -r _
rm -f "$0/runs/.ballast"
echo freed
read -r _
cp "$0/runs/full/run.tlog" "$0/copy.tlog"
echo copied
wait
"#;

struct Jail {
    shell: Child,
    stdin: ChildStdin,
    lines: std::sync::mpsc::Receiver<String>,
    daemon_pid: Option<i32>,
}

impl Jail {
    fn next_line(&self, what: &str) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no `{what}` from the namespace shell"))
    }

    fn say(&mut self) {
        writeln!(self.stdin).unwrap();
        self.stdin.flush().unwrap();
    }
}

impl Drop for Jail {
    fn drop(&mut self) {
        if let Some(pid) = self.daemon_pid {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        let _ = self.shell.kill();
        let _ = self.shell.wait();
    }
}

fn user_namespaces_work() -> bool {
    Command::new("unshare")
        .args(["-Urm", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn start_jailed_daemon(dir: &Path) -> Jail {
    std::fs::create_dir_all(dir.join("runs")).unwrap();
    let mut shell = Command::new("unshare")
        .args(["-Urm", "--propagation", "private", "sh", "-c", SCRIPT])
        .arg(dir)
        .arg(workspace_bin("tracklab-daemon"))
        .arg(TMPFS)
        .arg(BALLAST_BYTES.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting unshare");
    let stdin = shell.stdin.take().unwrap();
    let stdout = shell.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut jail = Jail {
        shell,
        stdin,
        lines,
        daemon_pid: None,
    };
    loop {
        if jail.next_line("listening on").contains("listening on") {
            break;
        }
    }
    let info = std::fs::read_to_string(dir.join("daemon.json")).unwrap();
    let pid = info
        .split("\"pid\":")
        .nth(1)
        .and_then(|s| s.trim().split([',', '\n', '}']).next())
        .and_then(|s| s.trim().parse().ok())
        .expect("pid in daemon.json");
    jail.daemon_pid = Some(pid);
    jail
}

/// Text that LZ4 cannot shrink much, so the disk fills.
fn noise(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..64)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("{:08x}", x as u32)
        })
        .collect()
}

async fn status(conn: &Connection) -> v1::StatusResponse {
    conn.admin()
        .status(StatusRequest {})
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_acks_with_a_clear_error_and_logging_resumes_when_space_is_freed() {
    if !user_namespaces_work() {
        eprintln!(
            "SKIPPED: `unshare -Urm` is not allowed here, so no private tmpfs can be mounted for the full-disk test"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut jail = start_jailed_daemon(dir);
    let conn = Connection::connect(dir).await.unwrap();
    let mut run = Run::start(
        Target::DataDir(dir.to_path_buf()),
        RunOptions {
            run_id: "full".into(),
            start: v1::RunStart {
                project: "disk".into(),
                ..Default::default()
            },
            reconnect_timeout: Some(Duration::from_secs(120)),
        },
    )
    .await
    .unwrap();
    for step in 0..STEPS {
        run.log(
            vec![
                float("i", step as f64),
                item("blob", v1::value::Kind::Str(noise(step))),
            ],
            None,
            None,
        )
        .unwrap();
    }

    // Acks stop, and both the client and the daemon say why.
    let mut last = (run.durable_seq(), Instant::now());
    let deadline = Instant::now() + Duration::from_secs(60);
    let problem = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let seq = run.durable_seq();
        if seq != last.0 {
            last = (seq, Instant::now());
        }
        if let Some(p) = run.delivery_problem()
            && last.1.elapsed() > Duration::from_secs(1)
        {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "acks never stopped (durable seq {seq}); the disk did not fill"
        );
    };
    let acked = run.durable_seq();
    assert!(acked < STEPS + 1, "not everything fitted: {acked}");
    assert!(
        problem.contains("disk") && problem.contains("full"),
        "{problem}"
    );
    assert!(problem.contains("free space"), "{problem}");
    let st = status(&conn).await;
    assert!(!st.healthy, "status while the disk is full");
    assert!(st.last_error.contains("disk full"), "{}", st.last_error);

    // Nothing acknowledged is damaged: seq 1 is the run start, seq k is step k-2.
    let kept = series(&conn, "full", "i").await;
    assert!(
        kept.len() as u64 >= acked - 1,
        "{} points kept, {} acked",
        kept.len(),
        acked - 1
    );
    assert!(
        kept.iter()
            .enumerate()
            .all(|(n, (s, v))| *s == n as i64 && *v == n as f64)
    );
    eprintln!(
        "disk full after {} of {STEPS} steps acknowledged: {problem}",
        acked - 1
    );

    // The client retries about twice a second; the daemon says "disk full"
    // once when it starts, not at every retry.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let log = std::fs::read_to_string(dir.join("daemon.err")).unwrap();
    let warned = log
        .matches("disk full: records are not acknowledged")
        .count();
    assert!(
        (1..=2).contains(&warned),
        "{warned} disk-full warnings:\n{log}"
    );

    // Space again: the client's retries go through, no restart needed.
    jail.say();
    assert_eq!(jail.next_line("freed"), "freed");
    let report = tokio::time::timeout(Duration::from_secs(60), run.finish(0))
        .await
        .expect("finish after space came back")
        .expect("every record acknowledged");
    assert_eq!(report.warnings.len(), 0);
    let all = series(&conn, "full", "i").await;
    assert_eq!(all.len() as u64, STEPS, "every point exactly once");
    assert!(
        all.iter()
            .enumerate()
            .all(|(n, (s, v))| *s == n as i64 && *v == n as f64)
    );
    assert_eq!(
        get_run(&conn, "full").await.state,
        v1::RunState::Finished as i32
    );
    let st = status(&conn).await;
    assert!(st.healthy, "healthy again: {}", st.last_error);
    let log = std::fs::read_to_string(dir.join("daemon.err")).unwrap();
    assert!(log.contains("the disk has space again"), "{log}");

    // The log itself is clean: no damage where the disk ran out.
    jail.say();
    assert_eq!(jail.next_line("copied"), "copied");
    let report = tracklab_log::scan(&dir.join("copy.tlog"), tracklab_log::HEADER_LEN, |_| {
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap();
    assert!(report.corruptions.is_empty(), "{report:?}");
    assert!(
        matches!(report.tail, tracklab_log::Tail::Clean),
        "{report:?}"
    );
}
