//! Reads while the applier writes: a history read sees a consistent prefix
//! of the series (no gap, no repeat), whatever chunk merges run meanwhile.

use std::time::{Duration, Instant};

use tracklab_client::{Run, float};
use tracklab_tests::Daemon;

use crate::support::{series, start_opts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_reads_during_heavy_logging_see_a_gapless_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    let mut run = Run::start(d.target(), start_opts("busy", "rw"))
        .await
        .unwrap();
    let writer = tokio::spawn(async move {
        let until = Instant::now() + Duration::from_secs(8);
        let mut step = 0u64;
        while Instant::now() < until {
            for _ in 0..100 {
                run.log(vec![float("v", step as f64)], None, None).unwrap();
                step += 1;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        run.finish(0).await.unwrap();
        step
    });
    let mut reads = 0;
    while !writer.is_finished() {
        let v = series(&conn, "busy", "v").await;
        for (i, (s, x)) in v.iter().enumerate() {
            assert_eq!(
                (*s, *x),
                (i as i64, i as f64),
                "read {reads}: point {i} of {}",
                v.len()
            );
        }
        reads += 1;
    }
    let steps = writer.await.unwrap();
    assert_eq!(series(&conn, "busy", "v").await.len() as u64, steps);
    eprintln!("{reads} consistent reads during {steps} steps");
}
