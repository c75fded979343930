//! `tracklab runs …` edits and `tracklab gc`.

use tracklab_tests::Daemon;

use crate::support::{Spec, curve, ids, json, log_run, ok, rt, tracklab};

#[test]
fn edits_are_kept_and_gc_removes_deleted_runs_for_good() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    let d = Daemon::start(&dir);
    rt.block_on(async {
        for id in ["keep", "drop"] {
            let mut s = Spec::new(id, "p");
            s.steps = curve(20, 0.1);
            log_run(d.target(), &s).await;
        }
    });
    ok(
        &dir,
        &["runs", "tag", "keep", "--add", "paper", "--add", "v2"],
    );
    ok(&dir, &["runs", "tag", "keep", "--remove", "v2"]);
    ok(&dir, &["runs", "rename", "keep", "final model"]);
    ok(&dir, &["runs", "set-state", "keep", "crashed"]);
    let r = json(&dir, &["show", "final model"]);
    assert_eq!(r["tags"], serde_json::json!(["paper"]));
    assert_eq!(r["state"], "crashed");
    ok(&dir, &["runs", "set-state", "keep", "finished"]);
    assert_eq!(json(&dir, &["show", "keep"])["state"], "finished");

    ok(&dir, &["runs", "delete", "drop"]);
    assert_eq!(ids(&json(&dir, &["ls"])), ["keep"]);
    assert_eq!(
        ids(&json(&dir, &["ls", "--all", "--sort", "id"])),
        ["drop", "keep"]
    );
    ok(&dir, &["runs", "restore", "drop"]);
    assert_eq!(ids(&json(&dir, &["ls", "--sort", "id"])), ["drop", "keep"]);
    ok(&dir, &["runs", "delete", "drop"]);

    let dry = json(&dir, &["gc", "--dry-run"]);
    assert_eq!(dry["removed_runs"], serde_json::json!(["drop"]));
    assert!(dir.join("runs/drop").exists());
    let done = json(&dir, &["gc"]);
    assert_eq!(done["removed_runs"], serde_json::json!(["drop"]));
    assert!(done["log_bytes_freed"].as_u64().unwrap() > 0);
    assert!(!dir.join("runs/drop").exists());
    assert_eq!(ids(&json(&dir, &["ls", "--all"])), ["keep"]);
    let gone = tracklab(&dir, &["show", "drop"]);
    assert_eq!(gone.code, 1);

    // After a restart and a rebuild the edits stay and the run stays gone.
    d.terminate();
    let _d = Daemon::start(&dir);
    ok(&dir, &["sync", "--rebuild"]);
    let all = json(&dir, &["ls", "--all"]);
    assert_eq!(ids(&all), ["keep"]);
    assert_eq!(all[0]["name"], "final model");
    assert_eq!(all[0]["state"], "finished");
    assert!(
        !dir.join("trash").exists() || std::fs::read_dir(dir.join("trash")).unwrap().count() == 0
    );
}

#[test]
fn a_store_entry_without_its_log_is_dropped_at_start() {
    // What a crash in the middle of gc leaves: the log moved to the trash,
    // the store entry still there.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    let d = Daemon::start(&dir);
    rt.block_on(async {
        for id in ["a", "b"] {
            let mut s = Spec::new(id, "p");
            s.steps = curve(5, 0.1);
            log_run(d.target(), &s).await;
        }
    });
    d.terminate();
    std::fs::create_dir_all(dir.join("trash")).unwrap();
    std::fs::rename(dir.join("runs/b"), dir.join("trash/b.1")).unwrap();
    let _d = Daemon::start(&dir);
    assert_eq!(ids(&json(&dir, &["ls", "--all"])), ["a"]);
    assert!(!dir.join("trash").exists());
}

#[test]
fn ending_a_run_that_is_still_logging_needs_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    let d = Daemon::start(&dir);
    let mut run = rt.block_on(async {
        let mut run = tracklab_client::Run::start(
            d.target(),
            tracklab_client::RunOptions {
                run_id: "live".into(),
                start: tracklab_client::v1::RunStart {
                    project: "p".into(),
                    ..Default::default()
                },
                reconnect_timeout: None,
            },
        )
        .await
        .unwrap();
        run.log(vec![tracklab_client::float("x", 1.0)], None, None)
            .unwrap();
        run.flush().await.unwrap();
        run
    });
    let refused = tracklab(&dir, &["runs", "set-state", "live", "finished"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("still being logged") && refused.stderr.contains("--force"),
        "{}",
        refused.stderr
    );
    assert_eq!(json(&dir, &["show", "live"])["state"], "running");
    ok(&dir, &["runs", "set-state", "live", "failed", "--force"]);
    assert_eq!(json(&dir, &["show", "live"])["state"], "failed");
    rt.block_on(async {
        run.log(vec![tracklab_client::float("x", 2.0)], None, None)
            .unwrap();
        run.flush().await.unwrap();
    });
}
