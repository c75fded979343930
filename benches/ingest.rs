//! Ingest benchmark: N concurrent Rust clients log M points each through a
//! real `tracklab-daemon`, with durable acks. Prints points/s, ack latency
//! percentiles, bytes on disk per point, daemon RSS, rebuild speed and the
//! time of a downsampled history query; writes the figures as JSON.
//!
//! Usage: tracklab-bench-ingest [--runs N] [--steps S] [--metrics K]
//!        [--daemon PATH] [--json OUT]
//! Build with `cargo build --release -p tracklab-daemon -p tracklab-benches`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracklab_client::v1::{self, HistoryRequest, RebuildRequest, StatusRequest};
use tracklab_client::{Connection, Run, RunOptions, Target, float};

struct Args {
    /// Steps per second per run (0 = as fast as possible).
    rate: f64,
    runs: usize,
    steps: usize,
    metrics: usize,
    daemon: PathBuf,
    json: Option<PathBuf>,
    /// Log into this data dir and keep it (default: a temporary dir).
    keep: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        rate: 0.0,
        runs: 1,
        steps: 200_000,
        metrics: 10,
        daemon: sibling("tracklab-daemon"),
        json: None,
        keep: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let val = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--runs" => a.runs = val.parse().unwrap_or(a.runs),
            "--rate" => a.rate = val.parse().unwrap_or(a.rate),
            "--steps" => a.steps = val.parse().unwrap_or(a.steps),
            "--metrics" => a.metrics = val.parse().unwrap_or(a.metrics),
            "--daemon" => a.daemon = PathBuf::from(val),
            "--json" => a.json = Some(PathBuf::from(val)),
            "--keep" => a.keep = Some(PathBuf::from(val)),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    a
}

fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

fn start_daemon(bin: &Path, dir: &Path) -> (Child, String) {
    let mut child = Command::new(bin)
        .arg("--data-dir")
        .arg(dir)
        .args(["--port", "0", "--log-level", "warn"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) => {
                if let Some(a) = l.strip_prefix("tracklab-daemon listening on ") {
                    return (child, a.to_string());
                }
            }
            _ => {
                let _ = child.kill();
                let status = child.wait();
                panic!("daemon exited before listening: {status:?}");
            }
        }
    }
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn dir_bytes(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                dir_bytes(&path)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Logs `steps` rows of `metrics` metrics, paced at `rate` steps/s if
/// non-zero. A watcher task sees every change of the durable sequence and
/// measures, for every 50th record, the time from enqueue to ack.
async fn one_client(
    target: Target,
    run_id: String,
    steps: usize,
    metrics: usize,
    rate: f64,
) -> Vec<f64> {
    let mut run = Run::start(
        target,
        RunOptions {
            run_id,
            start: v1::RunStart {
                project: "bench".into(),
                ..Default::default()
            },
            reconnect_timeout: None,
        },
    )
    .await
    .expect("start");
    let names: Vec<String> = (0..metrics).map(|k| format!("metric_{k}")).collect();
    let pending: Arc<Mutex<VecDeque<(u64, Instant)>>> = Arc::default();
    let mut durable = run.durable_watch();
    let watcher = {
        let pending = pending.clone();
        tokio::spawn(async move {
            let mut lat = Vec::new();
            while durable.changed().await.is_ok() {
                let d = *durable.borrow_and_update();
                let now = Instant::now();
                let mut p = pending.lock().expect("lock");
                while p.front().is_some_and(|(s, _)| *s <= d) {
                    if let Some((_, t)) = p.pop_front() {
                        lat.push(now.duration_since(t).as_secs_f64() * 1e3);
                    }
                }
            }
            lat
        })
    };
    let start = Instant::now();
    for step in 0..steps {
        let items = names.iter().map(|n| float(n, step as f64 * 1e-3)).collect();
        let seq = run.log(items, None, None).expect("log");
        if step % 50 == 0 {
            pending
                .lock()
                .expect("lock")
                .push_back((seq, Instant::now()));
        }
        if rate > 0.0 && step % 5 == 4 {
            let due = start + Duration::from_secs_f64((step + 1) as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        } else if step % 1000 == 999 {
            tokio::task::yield_now().await;
        }
    }
    run.finish(0).await.expect("finish");
    watcher.await.expect("watcher")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = parse_args();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d).expect("creating the --keep dir");
            d.clone()
        }
        None => tmp.path().to_path_buf(),
    };
    let (mut child, _addr) = start_daemon(&args.daemon, &dir);
    let pid = child.id();
    let conn = Connection::connect(&dir).await.expect("connect");
    let idle_rss = rss_kib(pid, "VmRSS:");

    let points = (args.runs * args.steps * args.metrics) as f64;
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for r in 0..args.runs {
        tasks.push(tokio::spawn(one_client(
            Target::DataDir(dir.clone()),
            format!("bench-{r}"),
            args.steps,
            args.metrics,
            args.rate,
        )));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("client task"));
    }
    let elapsed = t0.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    let peak_rss = rss_kib(pid, "VmHWM:");

    let st = conn
        .admin()
        .status(StatusRequest {})
        .await
        .expect("status")
        .into_inner();
    conn.admin()
        .flush(v1::FlushRequest {})
        .await
        .expect("flush");
    let log_bytes = dir_bytes(&dir.join("runs"));
    let store_bytes = dir_bytes(&dir.join("store"));

    // A chart's query: one metric downsampled to 2 000 points; median of 9.
    let mut query_times = Vec::new();
    let mut h = v1::HistoryResponse::default();
    for _ in 0..9 {
        let q0 = Instant::now();
        h = conn
            .query()
            .history(HistoryRequest {
                run_id: "bench-0".into(),
                keys: vec!["metric_0".into()],
                max_points: 2000,
                ..Default::default()
            })
            .await
            .expect("history")
            .into_inner();
        query_times.push(q0.elapsed().as_secs_f64() * 1e3);
    }
    query_times.sort_by(f64::total_cmp);
    let query_ms = query_times[query_times.len() / 2];
    let q_points = h.series.first().map_or(0, |s| s.total_points);

    let r0 = Instant::now();
    let rb = conn
        .admin()
        .rebuild(RebuildRequest {})
        .await
        .expect("rebuild")
        .into_inner();
    let rebuild_s = r0.elapsed().as_secs_f64();

    let result = serde_json::json!({
        "runs": args.runs, "steps": args.steps, "metrics": args.metrics, "rate": args.rate,
        "points": points, "seconds": elapsed, "points_per_s": points / elapsed,
        "ack_ms_p50": pct(&lat, 0.5), "ack_ms_p99": pct(&lat, 0.99), "ack_samples": lat.len(),
        "log_bytes_per_point": log_bytes as f64 / points,
        "store_bytes_per_point": store_bytes as f64 / points,
        "daemon_idle_rss_mib": idle_rss as f64 / 1024.0,
        "daemon_peak_rss_mib": peak_rss as f64 / 1024.0,
        "history_query_ms": query_ms, "history_query_points": q_points,
        "rebuild_points_per_s": rb.history_points as f64 / rebuild_s,
        "rebuild_seconds": rebuild_s,
        "daemon_healthy": st.healthy,
    });
    println!(
        "ingest benchmark: {} run(s) x {} steps x {} metrics = {points} points{}",
        args.runs,
        args.steps,
        args.metrics,
        if args.rate > 0.0 {
            format!(", paced at {} steps/s per run", args.rate)
        } else {
            String::new()
        }
    );
    println!("| measure | value |\n|---|---|");
    println!("| points/s (durable) | {:.0} |", points / elapsed);
    println!(
        "| ack latency p50 / p99 | {:.2} ms / {:.2} ms |",
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    println!(
        "| bytes/point log + store | {:.1} + {:.1} = {:.1} |",
        log_bytes as f64 / points,
        store_bytes as f64 / points,
        (log_bytes + store_bytes) as f64 / points
    );
    println!(
        "| daemon RSS idle / peak | {:.1} MiB / {:.1} MiB |",
        idle_rss as f64 / 1024.0,
        peak_rss as f64 / 1024.0
    );
    println!("| history query ({q_points} points -> 2000, median of 9) | {query_ms:.2} ms |");
    println!(
        "| rebuild | {:.0} points/s ({rebuild_s:.2} s) |",
        rb.history_points as f64 / rebuild_s
    );
    if let Some(p) = args.json {
        std::fs::write(&p, serde_json::to_string_pretty(&result).expect("json"))
            .expect("write json");
    }
    let _ = child.kill();
    let _ = child.wait();
}
