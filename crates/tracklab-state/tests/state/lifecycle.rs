//! Run lifecycle: start, resume, exit, crash, idempotence, ignored records,
//! and the bookkeeping records (update, console, stats, files, alerts).
//!
//! Resume follows wandb's `core/internal/runbranch/resume.go` (starting step
//! one past the last `_step`, run time continued, tags replaced only when
//! given) and `tests/system_tests/test_core/test_resume.py`.

use tracklab_proto::v1;
use tracklab_state::{RunState, apply, warning_kind};
use v1::record::Payload;

use crate::support::*;

#[test]
fn a_fresh_start_sets_metadata_and_running() {
    let mut run = Run::new();
    assert!(!run.state.started());
    assert_eq!(run.state.status(), v1::RunState::Unspecified);
    run.send(start());
    assert!(run.state.started());
    assert_eq!(run.state.status(), v1::RunState::Running);
    assert_eq!(run.state.pid(), 100);
    assert_eq!(run.state.project(), "proj");
    assert_eq!(run.state.last_seq(run.writer_id), 1);
    assert_eq!(run.state.last_seq(12345), 0);
    let info = run.state.run_info();
    assert_eq!(info.run_id, RUN_ID);
    assert_eq!(info.name, "first");
    assert_eq!(info.tags, vec!["a".to_string()]);
    assert_eq!(info.host, "host-1");
    assert_eq!(info.created_us, T0_US);
    assert_eq!(info.updated_us, T0_US);
    assert_eq!(info.state, v1::RunState::Running as i32);
    assert!(!info.resumed);
    assert_eq!((info.next_step, info.starting_step), (0, 0));
}

#[test]
fn exit_code_zero_finishes_and_nonzero_fails() {
    for (code, want) in [(0, v1::RunState::Finished), (3, v1::RunState::Failed)] {
        let mut run = Run::started();
        run.send(exit(code));
        assert_eq!(run.state.status(), want);
        assert_eq!(run.state.run_info().exit_code, code);
        assert_eq!(run.summary()["_runtime"], f(1.0));
    }
}

#[test]
fn a_crash_record_from_the_daemon_marks_the_run_crashed_and_keeps_its_row() {
    let mut run = Run::started();
    run.send(log(&[("a", i(1))], Some(5), None));
    run.new_writer(0);
    let applied = run.send(Payload::Exit(v1::RunExit {
        exit_code: -9,
        crashed: true,
    }));
    assert_eq!(applied.rows.len(), 1);
    assert_eq!(run.state.status(), v1::RunState::Crashed);
    assert_eq!(run.state.run_info().exit_code, -9);
    assert_eq!(run.user_rows(), vec![(5, map(&[("a", i(1))]))]);
}

#[test]
fn resume_restarts_one_past_the_last_row_and_continues_the_runtime() {
    let mut run = Run::started();
    run.send(log1(&[("a", i(1))]));
    run.send(log1(&[("a", i(2))]));
    run.send(log(&[], Some(10), None)); // jumps, but no row at 10
    run.send(exit(0)); // at 4 s: runtime 4
    assert_eq!(run.summary()["_runtime"], f(4.0));

    run.index = 100; // the script is restarted much later
    run.new_writer(8);
    run.send(resume(v1::ResumeMode::ResumeAllow, 200));
    let info = run.state.run_info();
    assert_eq!(info.state, v1::RunState::Running as i32);
    assert!(info.resumed);
    assert_eq!((info.starting_step, info.next_step), (2, 2));
    assert_eq!(info.pid, 200);
    assert_eq!(info.host, "host-2");
    assert_eq!(
        info.tags,
        vec!["a".to_string()],
        "tags are kept when none are given"
    );
    assert_eq!(info.name, "first");
    assert_eq!(info.created_us, T0_US);
    assert_eq!(info.exit_code, 0);

    run.send(log1(&[("b", i(1))])); // at 101 s: 1 s into the new segment
    let last = run.rows.last().unwrap();
    assert_eq!(last.step, 2);
    assert_eq!(last.items["_runtime"], f(5.0));
    run.send(exit(1));
    assert_eq!(run.state.status(), v1::RunState::Failed);
    assert_eq!(run.summary()["_runtime"], f(6.0));
    assert_eq!(run.state.run_info().updated_us, T0_US + 102_000_000);
}

#[test]
fn resume_replaces_tags_and_merges_config_when_given() {
    let mut run = Run::new();
    let Payload::RunStart(mut first) = start() else {
        unreachable!()
    };
    first.config = items(&[("lr", f(0.1)), ("bs", i(32))]);
    run.send(Payload::RunStart(first));
    run.send(exit(0));
    run.new_writer(8);
    let Payload::RunStart(mut again) = resume(v1::ResumeMode::ResumeMust, 7) else {
        unreachable!()
    };
    again.tags = vec!["b".into(), "c".into()];
    again.config = items(&[("lr", f(0.2)), ("epochs", i(3))]);
    again.notes = "second try".into();
    run.send(Payload::RunStart(again));
    let info = run.state.run_info();
    assert_eq!(info.tags, vec!["b".to_string(), "c".to_string()]);
    assert_eq!(info.notes, "second try");
    assert_eq!(
        run.config(),
        map(&[("bs", i(32)), ("epochs", i(3)), ("lr", f(0.2))])
    );
}

#[test]
fn resume_of_a_run_that_vanished_keeps_its_unflushed_row() {
    let mut run = Run::started();
    run.send(log(&[("a", i(1))], Some(3), None)); // at 1 s, never flushed
    run.index = 10;
    run.new_writer(8);
    let applied = run.send(resume(v1::ResumeMode::ResumeAllow, 5));
    assert_eq!(applied.rows.len(), 1);
    assert_eq!(applied.rows[0].step, 3);
    assert_eq!(
        applied.rows[0].items["_runtime"],
        f(1.0),
        "timed at the old segment's last record"
    );
    assert_eq!(run.state.next_step(), 4);
    run.send(log1(&[("a", i(2))])); // at 11 s
    assert_eq!(run.rows[1].step, 4);
    assert_eq!(run.rows[1].items["_runtime"], f(2.0));
}

#[test]
fn resume_never_on_an_existing_run_is_ignored_with_a_warning() {
    let mut run = Run::started();
    run.send(exit(0));
    run.new_writer(8);
    let applied = run.send(resume(v1::ResumeMode::ResumeNever, 5));
    assert_eq!(applied.warnings[0].kind, warning_kind::RESUME_NEVER);
    assert_eq!(run.state.status(), v1::RunState::Finished);
    assert_eq!(run.state.pid(), 100);
}

#[test]
fn a_fork_starts_one_past_the_fork_step() {
    let mut run = Run::new();
    let Payload::RunStart(mut s) = start() else {
        unreachable!()
    };
    s.fork_from = Some(v1::ForkFrom {
        run_id: "parent".into(),
        step: 10,
    });
    run.send(Payload::RunStart(s));
    run.send(log1(&[("a", i(1))]));
    assert_eq!(run.rows[0].step, 11);
    let info = run.state.run_info();
    assert_eq!(info.starting_step, 11);
    assert_eq!(info.fork_from.unwrap().run_id, "parent");
}

#[test]
fn applying_the_same_record_twice_changes_nothing_the_second_time() {
    let mut run = Run::started();
    let rec = run.record(log1(&[("a", i(1))]));
    let first = run.apply(&rec);
    assert!(!first.duplicate);
    assert_eq!(first.rows.len(), 1);
    let before = run.state.clone();
    let second = run.apply(&rec);
    assert!(second.duplicate);
    assert!(second.rows.is_empty() && second.warnings.is_empty());
    assert_eq!(run.state, before);
    // An older record of the same writer is a duplicate too.
    let mut old = rec.clone();
    old.seq = 1;
    assert!(apply(&mut run.state, &old).duplicate);
    assert_eq!(run.state, before);
}

#[test]
fn records_before_the_start_are_ignored_with_a_warning() {
    let mut run = Run::new();
    let applied = run.send(log1(&[("a", i(1))]));
    assert!(applied.rows.is_empty());
    assert_eq!(applied.warnings[0].kind, warning_kind::NOT_STARTED);
    assert_eq!(
        applied.warnings[0].message,
        "record for a run that was never started; ignored"
    );
    assert!(!run.state.started());
    run.send(start());
    run.send(log1(&[("b", i(1))]));
    assert_eq!(run.user_rows(), vec![(0, map(&[("b", i(1))]))]);
    assert!(!run.summary().contains_key("a"));
}

#[test]
fn records_after_exit_are_ignored_with_a_warning() {
    let mut run = Run::started();
    run.send(exit(0));
    let before_rows = run.state.history_rows();
    let applied = run.send(log1(&[("a", i(1))]));
    assert_eq!(applied.warnings[0].kind, warning_kind::AFTER_EXIT);
    assert!(applied.rows.is_empty());
    assert_eq!(run.state.history_rows(), before_rows);
    assert_eq!(run.state.run_info().updated_us, T0_US + 1_000_000);
}

#[test]
fn after_a_sequence_gap_the_writers_history_is_not_applied_but_its_exit_is() {
    let mut run = Run::started();
    run.send(log1(&[("a", i(1))]));
    run.seq += 3;
    let applied = run.send(log1(&[("a", i(2))]));
    assert!(applied.rows.is_empty(), "{:?}", applied.rows);
    assert_eq!(applied.warnings[0].kind, warning_kind::SEQ_GAP);
    assert_eq!(run.state.last_seq(run.writer_id), 6);
    // Later history of the same writer would be misnumbered: skipped.
    assert!(run.send(log1(&[("a", i(3))])).rows.is_empty());
    assert_eq!(run.state.history_rows(), 1);
    // Everything else still applies.
    run.send(Payload::Exit(v1::RunExit {
        exit_code: 0,
        crashed: false,
    }));
    assert_eq!(run.state.status(), v1::RunState::Finished);
}

#[test]
fn a_record_for_another_run_changes_nothing() {
    let mut run = Run::started();
    let mut rec = run.record(log1(&[("a", i(1))]));
    rec.run_id = "other".into();
    let before = run.state.clone();
    let applied = apply(&mut run.state, &rec);
    assert_eq!(applied.warnings[0].kind, warning_kind::WRONG_RUN);
    assert_eq!(run.state, before);
}

#[test]
fn a_record_without_payload_or_with_broken_items_does_not_panic() {
    let mut run = Run::started();
    let mut rec = run.record(log1(&[]));
    rec.payload = None;
    let applied = run.apply(&rec);
    assert_eq!(applied.warnings[0].kind, warning_kind::INVALID);
    let applied = run.send(Payload::History(v1::PartialHistory {
        items: vec![
            v1::Item {
                path: vec![],
                value: Some(i(1).to_proto()),
            },
            v1::Item {
                path: vec!["x".into()],
                value: Some(v1::Value { kind: None }),
            },
            v1::Item {
                path: vec!["y".into()],
                value: None,
            },
            item("ok", i(1)),
        ],
        step: Some(i64::MAX),
        flush: Some(true),
    }));
    assert_eq!(applied.warnings.len(), 3);
    assert_eq!(applied.rows.len(), 1);
    assert_eq!(applied.rows[0].step, i64::MAX);
    assert_eq!(run.state.next_step(), i64::MAX);
    run.send(log1(&[("z", i(1))]));
    run.send(Payload::Metric(v1::MetricDefinition::default()));
    run.send(exit(0));
}

#[test]
fn run_update_replaces_only_the_fields_it_sets() {
    let mut run = Run::started();
    run.send(Payload::RunUpdate(v1::RunUpdate {
        name: Some("renamed".into()),
        notes: Some("n".into()),
        ..Default::default()
    }));
    let info = run.state.run_info();
    assert_eq!((info.name.as_str(), info.notes.as_str()), ("renamed", "n"));
    assert_eq!(info.tags, vec!["a".to_string()]);
    run.send(Payload::RunUpdate(v1::RunUpdate {
        set_tags: true,
        tags: vec![],
        ..Default::default()
    }));
    assert!(run.state.run_info().tags.is_empty());
    assert_eq!(run.state.run_info().name, "renamed");
}

#[test]
fn console_stats_files_and_alerts_are_recorded() {
    let mut run = Run::started();
    let applied = run.send(Payload::Output(v1::ConsoleOutput {
        stream: v1::OutputStream::Stderr as i32,
        lines: vec!["one".into(), "two".into()],
    }));
    assert_eq!(applied.console.len(), 2);
    assert_eq!(applied.console[1].line, "two");
    assert_eq!(applied.console[1].stream, 1);
    assert_eq!(applied.console[1].timestamp_us, T0_US + 1_000_000);

    let applied = run.send(Payload::Stats(v1::SystemStats {
        items: items(&[("cpu", f(12.5)), ("gpu.0.mem", f(3.0))]),
    }));
    assert_eq!(applied.stats.len(), 1);
    assert_eq!(applied.stats[0].timestamp_us, T0_US + 2_000_000);
    assert_eq!(
        applied.stats[0].items,
        map(&[("cpu", f(12.5)), ("gpu.0.mem", f(3.0))])
    );

    for policy in [v1::FilePolicy::Now, v1::FilePolicy::End] {
        run.send(Payload::Files(v1::Files {
            files: vec![
                v1::FileEntry {
                    path: "model.pt".into(),
                    policy: policy as i32,
                    ..Default::default()
                },
                v1::FileEntry {
                    path: "a.txt".into(),
                    policy: 0,
                    ..Default::default()
                },
            ],
        }));
    }
    for k in 0..105 {
        run.send(Payload::Alert(v1::Alert {
            title: format!("alert {k}"),
            text: "t".into(),
            level: v1::AlertLevel::AlertWarn as i32,
        }));
    }
    let info = run.state.run_info();
    assert_eq!(info.console_lines, 2);
    let files: Vec<_> = info
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.policy))
        .collect();
    assert_eq!(
        files,
        vec![("a.txt", 0), ("model.pt", v1::FilePolicy::End as i32)]
    );
    assert_eq!(info.alerts.len(), tracklab_state::MAX_KEPT_ALERTS);
    assert_eq!(info.alerts[0].title, "alert 5");
    assert_eq!(info.alerts[99].title, "alert 104");
}

#[test]
fn a_new_state_is_not_started_and_reports_unspecified() {
    let state = RunState::new("x");
    assert!(!state.started());
    assert_eq!(state.run_info().state, v1::RunState::Unspecified as i32);
    assert_eq!(state.run_info().run_id, "x");
}

#[test]
fn metadata_edits_apply_after_exit_without_counting_as_activity() {
    let mut run = Run::started();
    run.send(exit(0));
    let updated = run.state.run_info().updated_us;
    let applied = run.send(Payload::RunUpdate(v1::RunUpdate {
        name: Some("renamed".into()),
        set_tags: true,
        tags: vec!["best".into()],
        deleted: Some(true),
        ..Default::default()
    }));
    assert!(applied.warnings.is_empty(), "{:?}", applied.warnings);
    let info = run.state.run_info();
    assert_eq!(info.name, "renamed");
    assert_eq!(info.tags, ["best"]);
    assert!(info.deleted && run.state.deleted());
    assert_eq!(info.updated_us, updated);
    assert_eq!(info.state, v1::RunState::Finished as i32);
}

#[test]
fn only_the_daemon_can_end_an_exited_run_again() {
    let mut run = Run::started();
    run.send(exit(0));
    // A client's second exit is ignored.
    let applied = run.send(exit(3));
    assert_eq!(applied.warnings[0].kind, warning_kind::AFTER_EXIT);
    assert_eq!(run.state.status(), v1::RunState::Finished);
    // The daemon's (writer 0: `tracklab runs set-state`) is applied.
    run.new_writer(0);
    run.send(Payload::Exit(v1::RunExit {
        exit_code: -1,
        crashed: true,
    }));
    assert_eq!(run.state.status(), v1::RunState::Crashed);
    assert_eq!(run.state.run_info().exit_code, -1);
}

#[test]
fn a_resume_restores_a_deleted_run() {
    let mut run = Run::started();
    run.send(Payload::RunUpdate(v1::RunUpdate {
        deleted: Some(true),
        ..Default::default()
    }));
    assert!(run.state.deleted());
    run.send(exit(0));
    run.new_writer(9);
    run.send(resume(v1::ResumeMode::ResumeAllow, 1));
    assert!(!run.state.deleted());
}

#[test]
fn records_that_continue_a_writer_after_a_crash_mark_reopen_the_run() {
    // The daemon marked the run crashed while its client's tail was still
    // unacknowledged (daemon down); `tracklab sync` brings the tail later.
    let mut run = Run::started();
    run.send(log1(&[("a", i(1))]));
    let client = run.writer_id;
    let client_seq = run.seq;
    run.new_writer(0);
    run.send(Payload::Exit(v1::RunExit {
        exit_code: -1,
        crashed: true,
    }));
    assert_eq!(run.state.status(), v1::RunState::Crashed);
    run.writer_id = client;
    run.seq = client_seq;
    let applied = run.send(log1(&[("a", i(2))]));
    assert!(applied.warnings.is_empty(), "{:?}", applied.warnings);
    assert_eq!(run.state.status(), v1::RunState::Running);
    run.send(exit(0));
    assert_eq!(run.state.status(), v1::RunState::Finished);
    assert_eq!(
        run.user_rows(),
        vec![(0, map(&[("a", i(1))])), (1, map(&[("a", i(2))]))]
    );
    // A writer the run never had does not reopen it.
    let mut other = Run::started();
    other.new_writer(0);
    other.send(Payload::Exit(v1::RunExit {
        exit_code: -1,
        crashed: true,
    }));
    other.new_writer(99);
    let applied = other.send(log1(&[("a", i(1))]));
    assert_eq!(applied.warnings[0].kind, warning_kind::AFTER_EXIT);
    assert_eq!(other.state.status(), v1::RunState::Crashed);
}
