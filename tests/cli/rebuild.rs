//! `tracklab sync --rebuild`: the rebuilt store answers every query exactly
//! as the incrementally built one, with the daemon running or stopped.

use tracklab_tests::Daemon;

use crate::support::{json, ok, rt, tracklab};
use crate::sync::{make_runs, snapshot_state};

#[test]
fn rebuild_online_and_offline_equals_incremental() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    let d = Daemon::start(&dir);
    make_runs(&rt, &d);
    // Edits are records too: a rebuild keeps them.
    ok(&dir, &["runs", "tag", "run-base", "--add", "keep"]);
    ok(&dir, &["runs", "delete", "run-resumed"]);
    let expected = snapshot_state(&dir);

    let out = json(&dir, &["sync", "--rebuild"]);
    assert_eq!(out["via_daemon"], true, "{out}");
    assert_eq!(out["runs"], 2, "{out}");
    assert!(out["history_points"].as_u64().unwrap() > 0, "{out}");
    assert_eq!(
        snapshot_state(&dir),
        expected,
        "online rebuild changed answers"
    );

    d.terminate();
    let out = tracklab(&dir, &["sync", "--rebuild"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with("rebuilt 2 runs from their logs"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("points/s"), "{}", out.stdout);
    let _d = Daemon::start(&dir);
    assert_eq!(
        snapshot_state(&dir),
        expected,
        "offline rebuild changed answers"
    );
}
