//! System metrics: the daemon samples a live run's process tree and
//! records `system/*` series; sampling stops when the run ends.

use std::time::Duration;

use tracklab_client::v1::{self, HistoryRequest};
use tracklab_client::{Connection, Run, float};
use tracklab_tests::Daemon;

use crate::support::start_opts;

async fn points(conn: &Connection, run_id: &str, key: &str) -> Vec<(i64, f64)> {
    let resp = conn
        .query()
        .history(HistoryRequest {
            run_id: run_id.into(),
            keys: vec![key.into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let s = resp.series[0].clone().unpacked();
    s.steps
        .iter()
        .zip(&s.values)
        .filter_map(|(st, v)| match v.kind {
            Some(v1::value::Kind::Float(f)) => Some((*st, f)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_runs_process_tree_is_sampled_until_it_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::try_start(tmp.path(), &["--stats-interval-ms", "100"]).unwrap();
    let mut opts = start_opts("sys", "e2e");
    // This test process is the "training script".
    opts.start.pid = std::process::id();
    let mut run = Run::start(d.target(), opts).await.unwrap();
    // Some CPU work while the run is live.
    let until = std::time::Instant::now() + Duration::from_millis(1200);
    let mut x = 0u64;
    while std::time::Instant::now() < until {
        for i in 0..100_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        run.log(vec![float("x", (x % 1000) as f64)], None, None)
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let conn = d.connect().await;
    let rss = points(&conn, "sys", "system/proc.memory.rssMB").await;
    assert!(rss.len() >= 4, "{} samples in 1.2 s at 100 ms", rss.len());
    assert!(rss.iter().all(|(_, mb)| *mb > 1.0), "{rss:?}");
    let cpu = points(&conn, "sys", "system/cpu").await;
    assert!(
        !cpu.is_empty() && cpu.iter().any(|(_, c)| *c > 1.0),
        "{cpu:?}"
    );
    let mem = points(&conn, "sys", "system/memory").await;
    assert!(mem.iter().all(|(_, m)| *m > 0.0 && *m <= 100.0), "{mem:?}");

    run.finish(0).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let at_end = points(&conn, "sys", "system/proc.memory.rssMB").await.len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = points(&conn, "sys", "system/proc.memory.rssMB").await.len();
    assert_eq!(at_end, later, "sampling stopped with the run");
}

/// GPU metrics through NVML: the daemon loads the library named by
/// TRACKLAB_NVML_LIB (here a stand-in built from fake_nvml.c with two GPUs)
/// and records wandb's `gpu.<i>.*` names for a live run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gpu_metrics_come_from_nvml_when_it_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("libnvidia-ml.so.1");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/e2e/fake_nvml.c");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = std::process::Command::new(&cc)
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&lib)
        .arg(src)
        .status()
        .unwrap_or_else(|e| panic!("running {cc} to build the NVML stand-in: {e}"));
    assert!(built.success(), "{cc} failed to build {src}");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let d = Daemon::try_start_env(
        &data,
        &["--stats-interval-ms", "100"],
        &[
            ("TRACKLAB_NVML_LIB", lib.to_str().unwrap()),
            ("FAKE_NVML_PID", &std::process::id().to_string()),
        ],
    )
    .unwrap();
    let mut opts = start_opts("gpu", "e2e");
    opts.start.pid = std::process::id();
    let mut run = Run::start(d.target(), opts).await.unwrap();
    let conn = d.connect().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while points(&conn, "gpu", "system/gpu.1.temp").await.len() < 2 {
        assert!(std::time::Instant::now() < deadline, "no GPU samples");
        run.log(vec![float("x", 1.0)], None, None).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last = |v: Vec<(i64, f64)>| v.last().map(|p| p.1);
    for (key, want) in [
        ("system/gpu.0.gpu", 40.0),
        ("system/gpu.1.gpu", 42.0),
        ("system/gpu.0.memory", 17.0),
        ("system/gpu.0.memoryAllocated", 25.0),
        ("system/gpu.0.memoryAllocatedBytes", (2u64 << 30) as f64),
        ("system/gpu.0.temp", 60.0),
        ("system/gpu.1.temp", 61.0),
        ("system/gpu.0.powerWatts", 150.0),
        ("system/gpu.0.powerPercent", 50.0),
        // This test process (the run's pid) uses GPU 1.
        ("system/gpu.process.1.gpu", 42.0),
        ("system/gpu.process.1.temp", 61.0),
        ("system/gpu.process.1.memoryAllocatedBytes", 123_456_789.0),
    ] {
        assert_eq!(last(points(&conn, "gpu", key).await), Some(want), "{key}");
    }
    // The run's tree uses no process on GPU 0.
    assert!(
        points(&conn, "gpu", "system/gpu.process.0.gpu")
            .await
            .is_empty()
    );
    // GPU 1 has no power reading: that name is absent, the rest are there.
    assert!(
        points(&conn, "gpu", "system/gpu.1.powerWatts")
            .await
            .is_empty()
    );
    run.finish(0).await.unwrap();
}
