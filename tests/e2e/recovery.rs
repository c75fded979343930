//! Recovery from damage on disk: the store is derived and rebuilt when lost
//! or broken; torn and damaged logs are reported with file and offset and
//! never turn into wrong data; an unreadable log keeps only its own run
//! offline.

use std::io::Write;

use tracklab_client::v1::{self, FlushRequest, StatusRequest};
use tracklab_client::{Connection, Run, float};
use tracklab_tests::Daemon;

use crate::support::{get_run, series, start, start_opts};

/// Logs `n` points of `v` to a finished run and stops the daemon cleanly.
async fn logged_run(
    dir: &std::path::Path,
    run_id: &str,
    n: usize,
) -> (v1::RunInfo, Vec<(i64, f64)>) {
    let d = Daemon::start(dir);
    let mut run = start(d.target(), run_id).await;
    for i in 0..n {
        run.log(vec![float("v", i as f64)], None, None).unwrap();
    }
    run.finish(0).await.unwrap();
    let conn = d.connect().await;
    let info = get_run(&conn, run_id).await;
    let v = series(&conn, run_id, "v").await;
    assert!(d.terminate().success());
    (info, v)
}

async fn status(conn: &Connection) -> v1::StatusResponse {
    conn.admin()
        .status(StatusRequest {})
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_store_is_rebuilt_from_the_logs_with_the_same_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let (info, v) = logged_run(tmp.path(), "keep", 3000).await;
    std::fs::remove_dir_all(tmp.path().join("store")).unwrap();
    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    assert_eq!(get_run(&conn, "keep").await, info);
    assert_eq!(series(&conn, "keep", "v").await, v);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_be_opened_is_moved_aside_and_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let (info, v) = logged_run(tmp.path(), "keep", 500).await;
    // Replace the store with something sled cannot open.
    let store = tmp.path().join("store");
    std::fs::remove_dir_all(&store).unwrap();
    std::fs::write(&store, b"not a database").unwrap();
    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    assert_eq!(get_run(&conn, "keep").await, info);
    assert_eq!(series(&conn, "keep", "v").await, v);
    let aside: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("store.broken-"))
        .collect();
    assert_eq!(
        aside.len(),
        1,
        "the broken store is kept aside for inspection"
    );
    assert!(
        d.log().contains("rebuilding it from the run logs"),
        "the daemon says so"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_tail_is_cut_and_reported_and_the_run_resumes_after_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, v) = logged_run(tmp.path(), "torn", 200).await;
    let log = tmp.path().join("runs/torn/run.tlog");
    let len = std::fs::metadata(&log).unwrap().len();
    // Half a frame header, as a power cut during a write would leave.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&[0x40, 0x00, 0x00])
        .unwrap();
    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    let st = status(&conn).await;
    assert!(
        st.problems
            .iter()
            .any(|p| p.contains("torn tail") && p.contains(&len.to_string())),
        "{:?}",
        st.problems
    );
    assert_eq!(
        std::fs::metadata(&log).unwrap().len(),
        len,
        "the torn bytes are cut"
    );
    assert_eq!(series(&conn, "torn", "v").await, v);
    // The run can be resumed and logged to after the cut.
    let mut opts = start_opts("torn", "e2e");
    opts.start.resume = v1::ResumeMode::ResumeMust as i32;
    let mut run = Run::start(d.target(), opts).await.unwrap();
    run.log(vec![float("v", -1.0)], None, None).unwrap();
    run.finish(0).await.unwrap();
    let after = series(&conn, "torn", "v").await;
    assert_eq!(after.len(), v.len() + 1);
    assert_eq!(after.last(), Some(&(v.len() as i64, -1.0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_in_the_middle_of_a_log_is_reported_with_file_and_offset_and_never_becomes_wrong_data()
 {
    let tmp = tempfile::tempdir().unwrap();
    // Many small frames: one batch per flush.
    let d = Daemon::start(tmp.path());
    let mut run = start(d.target(), "hurt").await;
    for i in 0..40 {
        run.log(vec![float("v", i as f64)], None, None).unwrap();
        run.flush().await.unwrap();
    }
    run.finish(0).await.unwrap();
    let conn = d.connect().await;
    conn.admin().flush(FlushRequest {}).await.unwrap();
    assert!(d.terminate().success());

    let log = tmp.path().join("runs/hurt/run.tlog");
    let mut bytes = std::fs::read(&log).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&log, &bytes).unwrap();
    // The store is rebuilt from the damaged log.
    std::fs::remove_dir_all(tmp.path().join("store")).unwrap();

    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    let st = status(&conn).await;
    assert!(
        st.problems
            .iter()
            .any(|p| p.contains("run.tlog") && p.contains("offset")),
        "{:?}",
        st.problems
    );
    // What is there is exactly what was logged, at the right steps: the
    // points before the damaged frame. Later history of that writer would
    // have shifted steps, so it is not applied, and the run says why.
    let v = series(&conn, "hurt", "v").await;
    assert!(!v.is_empty() && v.len() < 40, "{v:?}");
    assert!(
        v.iter()
            .enumerate()
            .all(|(i, (s, x))| *s == i as i64 && *x == i as f64),
        "{v:?}"
    );
    let info = get_run(&conn, "hurt").await;
    assert!(
        info.warnings.iter().any(|w| w.contains("missing")),
        "{:?}",
        info.warnings
    );
    assert_eq!(info.state, v1::RunState::Finished as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_from_a_newer_format_keeps_only_its_run_offline_and_names_the_version() {
    let tmp = tempfile::tempdir().unwrap();
    logged_run(tmp.path(), "fine", 10).await;
    let newer = tmp.path().join("runs/future");
    std::fs::create_dir_all(&newer).unwrap();
    let mut header = b"TRACKLAB".to_vec();
    header.extend_from_slice(&7u32.to_le_bytes());
    header.extend_from_slice(&[0; 4]);
    std::fs::write(newer.join("run.tlog"), &header).unwrap();

    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    let st = status(&conn).await;
    assert!(
        st.problems
            .iter()
            .any(|p| p.contains("future") && p.contains('7')),
        "{:?}",
        st.problems
    );
    assert_eq!(series(&conn, "fine", "v").await.len(), 10);
    // The newer file is left untouched.
    assert_eq!(std::fs::read(newer.join("run.tlog")).unwrap(), header);
}
