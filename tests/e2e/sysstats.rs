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
