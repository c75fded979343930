//! `tracklab sync PATH…`: importing logs from another data dir ("a second
//! machine"), idempotently.

use std::path::Path;

use tracklab_client::v1::value::Kind;
use tracklab_tests::Daemon;

use crate::support::{Spec, curve, item, json, log_run, ok, rt, tracklab};

/// Everything the CLI shows about the runs of a data dir: listing, each
/// run's page, each run's full history.
pub fn snapshot_state(dir: &Path) -> (serde_json::Value, Vec<serde_json::Value>, Vec<String>) {
    let listing = json(dir, &["ls", "--all", "--sort", "id"]);
    let ids = crate::support::ids(&listing);
    let shows = ids.iter().map(|id| json(dir, &["show", id])).collect();
    let exports = ids.iter().map(|id| ok(dir, &["export", id])).collect();
    (listing, shows, exports)
}

/// A finished run, and a run logged in two segments (resumed).
pub fn make_runs(rt: &tokio::runtime::Runtime, d: &Daemon) {
    rt.block_on(async {
        let mut base = Spec::new("run-base", "proj");
        base.config = vec![item("lr", Kind::Float(0.01))];
        base.steps = curve(300, 0.1);
        log_run(d.target(), &base).await;
        let mut seg1 = Spec::new("run-resumed", "proj");
        seg1.steps = curve(40, 0.2);
        log_run(d.target(), &seg1).await;
        let mut seg2 = Spec::new("run-resumed", "proj");
        seg2.resume = true;
        seg2.steps = curve(25, 0.3);
        log_run(d.target(), &seg2).await;
    });
}

#[test]
fn a_copied_data_dir_imports_once_and_a_second_sync_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("machine-a"), tmp.path().join("machine-b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let rt = rt();
    let da = Daemon::start(&a);
    make_runs(&rt, &da);
    let expected = snapshot_state(&a);
    da.terminate();

    // A partial copy first (cut in its last frame, as an interrupted copy
    // would be): what it holds imports, the cut is reported (exit 3).
    let full = a.join("runs/run-base/run.tlog");
    let bytes = std::fs::read(&full).unwrap();
    let partial = tmp.path().join("partial/run.tlog");
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, &bytes[..bytes.len() - 20]).unwrap();

    let _db = Daemon::start(&b);
    let out = tracklab(&b, &["sync", partial.to_str().unwrap()]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stdout.contains("torn tail at offset"), "{}", out.stdout);

    // Then the whole copy: what overlaps is skipped, the rest imported.
    let out = ok(&b, &["sync", a.join("runs").to_str().unwrap()]);
    assert!(out.starts_with("synced 2 runs from 2 files"), "{out}");
    assert_eq!(
        snapshot_state(&b),
        expected,
        "imported state differs from the source"
    );

    // Again: nothing new.
    let out = json(&b, &["sync", a.join("runs").to_str().unwrap()]);
    assert_eq!(out["new_records"], 0, "{out}");
    assert_eq!(out["duplicates"], out["records"], "{out}");
    assert_eq!(
        snapshot_state(&b),
        expected,
        "a second sync changed the state"
    );

    // The resumed run kept its steps across both segments.
    let export = ok(&b, &["export", "run-resumed", "--keys", "train/loss"]);
    let steps: Vec<i64> = export
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(steps, (0..65).collect::<Vec<_>>());
}

#[test]
fn sync_without_paths_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tracklab(tmp.path(), &["sync"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("give run log files"), "{}", out.stderr);
}
