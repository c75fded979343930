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

/// A run log as another machine's daemon would have written it: a start on
/// `host`, `steps` history records, and an exit if `finished`.
fn foreign_log(path: &Path, host: &str, steps: u64, finished: bool) {
    use tracklab_client::v1::{self, Record, record::Payload};
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(path);
    let mut w = tracklab_log::LogWriter::create(path).unwrap();
    let rec = |seq: u64, payload| Record {
        run_id: "remote-run".into(),
        writer_id: 0xfeed,
        seq,
        timestamp_us: 1_790_000_000_000_000 + seq as i64,
        payload: Some(payload),
    };
    let mut records = vec![rec(
        1,
        Payload::RunStart(v1::RunStart {
            project: "p".into(),
            host: host.into(),
            pid: 4_000_000, // no such process here
            ..Default::default()
        }),
    )];
    for s in 0..steps {
        records.push(rec(
            2 + s,
            Payload::History(v1::PartialHistory {
                items: vec![item("loss", Kind::Float(s as f64))],
                ..Default::default()
            }),
        ));
    }
    if finished {
        records.push(rec(
            2 + steps,
            Payload::Exit(v1::RunExit {
                exit_code: 0,
                crashed: false,
            }),
        ));
    }
    w.append(&tracklab_store::codec::encode_records(&records))
        .unwrap();
    w.sync().unwrap();
}

#[test]
fn a_run_from_another_host_is_not_judged_by_a_local_pid_and_a_later_sync_completes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let _d = Daemon::start(&dir);
    let log = tmp.path().join("copy/run.tlog");
    foreign_log(&log, "some-other-machine", 10, false);
    ok(&dir, &["sync", log.to_str().unwrap()]);
    // The liveness sweep runs every 100 ms in tests: give it many chances.
    std::thread::sleep(std::time::Duration::from_millis(800));
    let r = json(&dir, &["show", "remote-run"]);
    assert_eq!(r["state"], "running", "{r}");
    assert_eq!(r["steps"], 10);
    // The run went on over there; the next copy brings the rest.
    foreign_log(&log, "some-other-machine", 25, true);
    let out = json(&dir, &["sync", log.to_str().unwrap()]);
    assert_eq!(out["new_records"], 16, "{out}");
    let r = json(&dir, &["show", "remote-run"]);
    assert_eq!(r["state"], "finished", "{r}");
    assert_eq!(r["steps"], 25);
}

#[test]
fn an_unfinished_offline_run_of_this_machine_whose_process_is_gone_becomes_crashed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let _d = Daemon::start(&dir);
    let log = tmp.path().join("offline/run.tlog");
    // No host: as local as a run can be.
    foreign_log(&log, "", 5, false);
    ok(&dir, &["sync", log.to_str().unwrap()]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let r = json(&dir, &["show", "remote-run"]);
        if r["state"] == "crashed" {
            assert_eq!(r["steps"], 5);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never marked crashed: {r}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
