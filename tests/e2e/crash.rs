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

/// Cycles of the random crash loop: 5 by default, 200 with TRACKLAB_SOAK=1.
fn random_cycles() -> u64 {
    if std::env::var_os("TRACKLAB_SOAK").is_some() {
        200
    } else {
        5
    }
}

/// xorshift64*, seeded from TRACKLAB_SEED or the clock (printed, so a
/// failure can be replayed).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("TRACKLAB_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("crash loop seed: TRACKLAB_SEED={seed}");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// The value every crash-loop client logs at a step: any other value in
/// the store would be a point that was never sent.
fn crash_value(client: usize, step: u64) -> f64 {
    (client as u64 * 1_000_000 + step) as f64
}

/// Checks a run against what its client had acknowledged: every acked
/// point present once, in step order, with the value sent, and nothing
/// else, looking from step `from` on; returns how many points the store
/// holds. On a mismatch it reads again a second later, to tell lost data
/// (the gap stays) from a read that saw the store mid-commit.
async fn check_prefix(
    conn: &tracklab_client::Connection,
    client: usize,
    acked_seq: u64,
    from: usize,
) -> usize {
    let id = format!("loop-{client}");
    let v = series_from(conn, &id, from).await;
    // seq 1 is the run start; seq k carries step k-2.
    let acked_points = acked_seq.saturating_sub(1) as usize;
    let bad = |v: &[(i64, f64)]| {
        v.iter().enumerate().position(|(i, (s, x))| {
            let want = from + i;
            *s != want as i64 || *x != crash_value(client, want as u64)
        })
    };
    assert!(
        from + v.len() >= acked_points,
        "{id}: {} points stored, {acked_points} acknowledged",
        from + v.len()
    );
    if let Some(i) = bad(&v) {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let again = series_from(conn, &id, from).await;
        let still = bad(&again);
        panic!(
            "{id}: point {} is (step {}, {}), expected (step {0}, {}); read again 1 s later: first bad at {still:?} ({:?})",
            from + i,
            v[i].0,
            v[i].1,
            crash_value(client, (from + i) as u64),
            still.map(|j| again[j])
        );
    }
    from + v.len()
}

/// (step, value) of the `v` series from step `from` on.
async fn series_from(
    conn: &tracklab_client::Connection,
    run_id: &str,
    from: usize,
) -> Vec<(i64, f64)> {
    // Right after a restart the store may still be catching up with a big
    // backlog (UNAVAILABLE, "retry in a moment"): retry, as a client would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let resp = loop {
        let r = conn
            .query()
            .history(v1::HistoryRequest {
                run_id: run_id.to_string(),
                keys: vec!["v".into()],
                min_step: Some(from as i64),
                ..Default::default()
            })
            .await;
        match r {
            Ok(r) => break r.into_inner(),
            Err(s)
                if s.code() == tonic::Code::Unavailable && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            Err(s) => panic!("history of {run_id}: {s}"),
        }
    };
    let s = resp.series[0].clone().unpacked();
    s.steps
        .iter()
        .zip(&s.values)
        .map(|(st, v)| match v.kind {
            Some(v1::value::Kind::Float(f)) => (*st, f),
            ref other => panic!("non-float value {other:?} at step {st}"),
        })
        .collect()
}

/// Every run log scans clean: a restarted daemon has cut any torn tail.
fn logs_verify_clean(dir: &std::path::Path) {
    for entry in std::fs::read_dir(dir.join("runs")).unwrap() {
        let log = entry.unwrap().path().join("run.tlog");
        if !log.is_file() {
            continue;
        }
        let report = tracklab_log::scan(&log, tracklab_log::HEADER_LEN, |_| {
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap();
        assert!(
            report.corruptions.is_empty(),
            "{}: {report:?}",
            log.display()
        );
        // A frame being written right now may look torn from here.
        assert!(
            matches!(
                report.tail,
                tracklab_log::Tail::Clean | tracklab_log::Tail::Torn { .. }
            ),
            "{}: {report:?}",
            log.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kills_of_the_daemon_under_three_logging_clients_lose_and_invent_nothing() {
    const CLIENTS: usize = 3;
    // Kept when the test fails (the path is printed), for a post-mortem.
    let dir = tempfile::Builder::new()
        .prefix("tracklab-crash-loop-")
        .tempdir()
        .unwrap()
        .keep();
    eprintln!("crash loop data dir: {}", dir.display());
    let mut daemon = Daemon::start(&dir);
    let mut rng = Rng::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut durables = Vec::new();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let mut run = Run::start(daemon.target(), start_opts(&format!("loop-{c}"), "crash"))
            .await
            .unwrap();
        durables.push(run.durable_watch());
        let stop = stop.clone();
        clients.push(tokio::spawn(async move {
            let mut step = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for _ in 0..50 {
                    run.log(vec![float("v", crash_value(c, step))], None, None)
                        .unwrap();
                    step += 1;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            let report = run.finish(0).await.expect("finishes after the restarts");
            (step, report)
        }));
    }
    let n = random_cycles();
    let mut kept = vec![0usize; CLIENTS];
    for cycle in 0..n {
        tokio::time::sleep(std::time::Duration::from_millis(50 + rng.below(450))).await;
        let acked: Vec<u64> = durables.iter().map(|d| *d.borrow()).collect();
        daemon.kill9();
        daemon = Daemon::start(&dir);
        logs_verify_clean(&dir);
        let conn = daemon.connect().await;
        // Each cycle checks from a little before what the last one saw
        // (a point once kept must stay); the end checks everything.
        for (c, a) in acked.iter().enumerate() {
            kept[c] = check_prefix(&conn, c, *a, kept[c].saturating_sub(1000)).await;
        }
        if cycle % 20 == 0 || cycle + 1 == n {
            eprintln!("cycle {cycle}: acked seqs {acked:?}, points kept {kept:?}");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let conn = daemon.connect().await;
    let mut total = 0;
    for (c, client) in clients.into_iter().enumerate() {
        let (steps, report) = client.await.unwrap();
        assert!(report.reconnects >= 1, "client {c} never reconnected");
        let stored = check_prefix(&conn, c, steps + 1, 0).await;
        assert_eq!(stored as u64, steps, "client {c}: every point exactly once");
        let info = get_run(&conn, &format!("loop-{c}")).await;
        assert_eq!(info.state, v1::RunState::Finished as i32);
        total += stored;
    }
    logs_verify_clean(&dir);
    eprintln!("{n} kill -9 cycles, {total} points, 0 lost, 0 invented, 0 duplicated");
    drop(daemon);
    let _ = std::fs::remove_dir_all(&dir);
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
