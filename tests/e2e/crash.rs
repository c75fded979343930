//! Crashes: kill -9 of the daemon while a client logs, and kill -9 of a
//! client. Nothing acknowledged may be lost; nothing may be applied twice.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tracklab_client::v1;
use tracklab_client::{Run, float};
use tracklab_tests::Daemon;

use crate::support::{eventually, get_run, series, start_opts};

/// Cycles of kill -9 and restart in the default suite; TRACKLAB_SOAK=1 runs
/// many more.
fn cycles() -> usize {
    if std::env::var_os("TRACKLAB_SOAK").is_some() {
        50
    } else {
        3
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_daemon_mid_stream_loses_no_acknowledged_point_and_duplicates_none() {
    let tmp = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start(tmp.path());
    let steps: i64 = 20_000;
    let mut run = Run::start(daemon.target(), start_opts("crashy", "crash"))
        .await
        .unwrap();
    let mut durable = run.durable_watch();
    // Everything is enqueued at once; the daemon works through the backlog
    // while it is killed at evenly spaced durable positions.
    let logger = tokio::spawn(async move {
        for step in 0..steps {
            run.log(vec![float("v", step as f64 * 0.5)], None, None)
                .unwrap();
        }
        run.finish(0).await
    });
    let n = cycles() as u64;
    for cycle in 0..n {
        let threshold = (cycle + 1) * steps as u64 / (n + 1);
        let reached = tokio::time::timeout(
            std::time::Duration::from_secs(120),
            durable.wait_for(|d| *d >= threshold),
        )
        .await
        .map(|r| r.map(|seq| *seq));
        assert!(
            matches!(reached, Ok(Ok(_))),
            "cycle {cycle}: seq {threshold} never became durable"
        );
        let acked = *durable.borrow();
        daemon.kill9();
        daemon = Daemon::start(tmp.path());
        eprintln!("cycle {cycle}: killed after seq {acked} was acknowledged");
    }
    let report = logger
        .await
        .unwrap()
        .expect("the client re-sends and finishes after restarts");
    assert!(report.reconnects >= 1, "the client should have reconnected");
    let conn = daemon.connect().await;
    let v = series(&conn, "crashy", "v").await;
    assert_eq!(v.len() as i64, steps, "every point exactly once");
    for (i, (s, x)) in v.iter().enumerate() {
        assert_eq!((*s, *x), (i as i64, i as f64 * 0.5), "point {i}");
    }
    let info = get_run(&conn, "crashy").await;
    assert_eq!(info.state, v1::RunState::Finished as i32);
    assert_eq!(info.history_rows, steps as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_with_sigkill_leaves_its_run_crashed_with_acknowledged_points_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracklab-test-logger"))
        .arg(tmp.path())
        .arg("victim")
        .arg("100000000")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked = 0u64;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("acked ") {
            acked = n.parse().unwrap();
            if acked > 2_000 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let conn = d.connect().await;
    let info = eventually(20, || {
        let conn = conn.clone();
        async move {
            let info = get_run(&conn, "victim").await;
            (info.state == v1::RunState::Crashed as i32).then_some(info)
        }
    })
    .await
    .expect("the run is marked crashed once its process is gone");
    // seq 1 was the run start; every later acked record is one step.
    let loss = series(&conn, "victim", "loss").await;
    assert!(
        loss.len() as u64 >= acked - 1,
        "{} points kept, {} acked",
        loss.len(),
        acked - 1
    );
    assert!(
        loss.iter()
            .enumerate()
            .all(|(i, (s, v))| *s == i as i64 && *v == i as f64)
    );
    assert_eq!(info.exit_code, -1);

    // The crash mark is in the log: a restarted daemon agrees.
    drop(conn);
    d.kill9();
    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    assert_eq!(
        get_run(&conn, "victim").await.state,
        v1::RunState::Crashed as i32
    );
}
