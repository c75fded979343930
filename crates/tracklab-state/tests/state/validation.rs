//! One test per validation rule: each breaks one rule in an otherwise valid
//! record and checks that the error names the offending field.

use tracklab_proto::v1;
use tracklab_state::Value;
use tracklab_state::validate::{
    InvalidRecord, MAX_CONSOLE_LINE_BYTES, MAX_ITEMS_PER_RECORD, MAX_NOTES_BYTES, MAX_PATH_DEPTH,
    MAX_VALUE_BYTES, validate_client_record, validate_record,
};
use v1::record::Payload;

use crate::support::*;

fn rec(payload: Payload) -> v1::Record {
    v1::Record {
        run_id: "run-1".into(),
        writer_id: 7,
        seq: 1,
        timestamp_us: T0_US,
        payload: Some(payload),
    }
}

fn run_start(edit: impl FnOnce(&mut v1::RunStart)) -> v1::Record {
    let Payload::RunStart(mut s) = start() else {
        unreachable!()
    };
    edit(&mut s);
    rec(Payload::RunStart(s))
}

fn history(items: Vec<v1::Item>) -> v1::Record {
    rec(Payload::History(v1::PartialHistory {
        items,
        step: None,
        flush: None,
    }))
}

fn raw(path: &[&str], value: Option<v1::Value>) -> v1::Item {
    v1::Item {
        path: path.iter().map(|s| s.to_string()).collect(),
        value,
    }
}

fn metric_rec(edit: impl FnOnce(&mut v1::MetricDefinition)) -> v1::Record {
    let mut def = metric("loss", "min");
    edit(&mut def);
    rec(Payload::Metric(def))
}

#[track_caller]
fn rejects(rec: v1::Record, field: &str) -> InvalidRecord {
    let err = validate_record(&rec).expect_err("record should be invalid");
    assert_eq!(err.field, field, "{err}");
    assert_eq!(err.to_string(), format!("field `{field}`: {}", err.reason));
    err
}

#[test]
fn valid_records_of_every_kind_pass() {
    let records = [
        rec(start()),
        rec(Payload::RunUpdate(v1::RunUpdate {
            name: Some("n".into()),
            set_tags: true,
            tags: vec!["t".into()],
            ..Default::default()
        })),
        rec(config(&[("model.layers", i(4))], &["lr"])),
        history(items(&[
            ("a.b", f(f64::NAN)),
            ("_step", i(3)),
            ("_runtime", i(1)),
            ("_timestamp", f(1.5)),
        ])),
        rec(summary(&[("a", s("x"))], &["b.c"])),
        rec(Payload::Metric(metric("train/*", "min"))),
        rec(Payload::Metric(metric("a\\.b.c", "max"))),
        rec(Payload::Output(v1::ConsoleOutput {
            stream: 1,
            lines: vec!["\x1b[1mbold\x1b[0m".into()],
        })),
        rec(Payload::Files(v1::Files {
            files: vec![v1::FileEntry {
                path: "media/images/a.png".into(),
                policy: 2,
                ..Default::default()
            }],
        })),
        rec(Payload::Stats(v1::SystemStats {
            items: items(&[("cpu", f(1.0))]),
        })),
        rec(Payload::Alert(v1::Alert {
            title: "t".into(),
            text: "x\ny".into(),
            level: 2,
        })),
        rec(exit(1)),
    ];
    for r in &records {
        validate_client_record(r).unwrap_or_else(|e| panic!("{e} in {r:?}"));
    }
}

#[test]
fn an_empty_run_id_is_rejected() {
    let mut r = rec(exit(0));
    r.run_id = String::new();
    rejects(r, "run_id");
}

#[test]
fn a_run_id_longer_than_64_characters_is_rejected() {
    let mut r = rec(exit(0));
    r.run_id = "a".repeat(65);
    rejects(r, "run_id");
    r = rec(exit(0));
    r.run_id = "a".repeat(64);
    assert!(validate_record(&r).is_ok());
}

#[test]
fn a_run_id_with_a_slash_or_other_characters_is_rejected() {
    for id in ["a/b", "..\\x", "a b", "é"] {
        let mut r = rec(exit(0));
        r.run_id = id.into();
        rejects(r, "run_id");
    }
}

#[test]
fn a_run_id_starting_with_a_dot_is_rejected() {
    for id in [".", "..", ".hidden"] {
        let mut r = rec(exit(0));
        r.run_id = id.into();
        rejects(r, "run_id");
    }
}

#[test]
fn sequence_number_zero_is_rejected() {
    let mut r = rec(exit(0));
    r.seq = 0;
    rejects(r, "seq");
}

#[test]
fn a_record_without_payload_is_rejected() {
    let mut r = rec(exit(0));
    r.payload = None;
    rejects(r, "payload");
}

#[test]
fn writer_zero_is_reserved_for_the_daemon() {
    let mut r = rec(exit(0));
    r.writer_id = 0;
    assert!(
        validate_record(&r).is_ok(),
        "the daemon's own records are valid"
    );
    assert_eq!(validate_client_record(&r).unwrap_err().field, "writer_id");
}

#[test]
fn only_the_daemon_may_mark_a_run_crashed() {
    let mut r = rec(Payload::Exit(v1::RunExit {
        exit_code: 1,
        crashed: true,
    }));
    assert_eq!(
        validate_client_record(&r).unwrap_err().field,
        "payload.exit.crashed"
    );
    r.writer_id = 0;
    assert!(validate_record(&r).is_ok());
}

#[test]
fn a_project_must_be_a_safe_directory_name() {
    for project in ["", ".", "..", "a/b", "a\\b", "a\nb", &"p".repeat(129)] {
        rejects(
            run_start(|s| s.project = project.into()),
            "payload.run_start.project",
        );
    }
    assert!(validate_record(&run_start(|s| s.project = "p".repeat(128))).is_ok());
}

#[test]
fn name_group_and_job_type_are_short_single_lines() {
    rejects(
        run_start(|s| s.name = "n".repeat(257)),
        "payload.run_start.name",
    );
    rejects(
        run_start(|s| s.group = "g\u{7}".into()),
        "payload.run_start.group",
    );
    rejects(
        run_start(|s| s.job_type = "j\r".into()),
        "payload.run_start.job_type",
    );
    let r = rec(Payload::RunUpdate(v1::RunUpdate {
        name: Some("x\ty".into()),
        ..Default::default()
    }));
    rejects(r, "payload.run_update.name");
}

#[test]
fn more_than_100_tags_are_rejected() {
    rejects(
        run_start(|s| s.tags = (0..101).map(|k| k.to_string()).collect()),
        "payload.run_start.tags",
    );
}

#[test]
fn each_tag_is_1_to_256_characters_without_control_characters() {
    rejects(
        run_start(|s| s.tags = vec!["a".into(), String::new()]),
        "payload.run_start.tags[1]",
    );
    rejects(
        run_start(|s| s.tags = vec!["t".repeat(257)]),
        "payload.run_start.tags[0]",
    );
    let r = rec(Payload::RunUpdate(v1::RunUpdate {
        set_tags: true,
        tags: vec!["ok".into(), "bad\n".into()],
        ..Default::default()
    }));
    rejects(r, "payload.run_update.tags[1]");
}

#[test]
fn notes_are_at_most_64_kib() {
    rejects(
        run_start(|s| s.notes = "n".repeat(MAX_NOTES_BYTES + 1)),
        "payload.run_start.notes",
    );
    assert!(validate_record(&run_start(|s| s.notes = "line\n".repeat(100))).is_ok());
}

#[test]
fn an_empty_path_segment_is_rejected() {
    let r = history(vec![
        item("a", i(1)),
        item("b", i(1)),
        raw(&["", "x"], Some(i(1).to_proto())),
    ]);
    rejects(r, "payload.history.items[2].path[0]");
}

#[test]
fn a_path_segment_longer_than_256_bytes_is_rejected() {
    let long = "é".repeat(129); // 258 bytes
    rejects(
        history(vec![raw(&["ok", &long], Some(i(1).to_proto()))]),
        "payload.history.items[0].path[1]",
    );
}

#[test]
fn a_path_segment_with_a_control_character_is_rejected() {
    rejects(
        history(vec![raw(&["a\u{0}b"], Some(i(1).to_proto()))]),
        "payload.history.items[0].path[0]",
    );
}

#[test]
fn paths_deeper_than_16_or_empty_are_rejected() {
    let deep: Vec<String> = (0..=MAX_PATH_DEPTH).map(|k| k.to_string()).collect();
    let deep: Vec<&str> = deep.iter().map(String::as_str).collect();
    rejects(
        history(vec![raw(&deep, Some(i(1).to_proto()))]),
        "payload.history.items[0].path",
    );
    rejects(
        history(vec![raw(&[], Some(i(1).to_proto()))]),
        "payload.history.items[0].path",
    );
    let r = rec(Payload::Config(v1::ConfigUpdate {
        update: vec![],
        remove: vec![v1::Path { path: vec![] }],
    }));
    rejects(r, "payload.config.remove[0].path");
}

#[test]
fn more_than_100000_items_per_record_are_rejected() {
    let many = vec![item("a", i(1)); MAX_ITEMS_PER_RECORD + 1];
    rejects(history(many), "payload.history.items");
    let r = rec(Payload::Summary(v1::SummaryUpdate {
        update: vec![item("a", i(1)); MAX_ITEMS_PER_RECORD],
        remove: vec![path("b")],
    }));
    rejects(r, "payload.summary");
}

#[test]
fn string_values_larger_than_1_mib_are_rejected() {
    let big = Value::Str("x".repeat(MAX_VALUE_BYTES + 1));
    rejects(
        history(vec![item("a", big)]),
        "payload.history.items[0].value",
    );
    let big = Value::Json("1".repeat(MAX_VALUE_BYTES + 1));
    rejects(
        rec(config(&[("a", big)], &[])),
        "payload.config.update[0].value",
    );
}

#[test]
fn step_must_be_an_int() {
    let err = rejects(
        history(items(&[("x", i(1)), ("_step", f(1.0))])),
        "payload.history.items[1].value",
    );
    assert!(err.reason.contains("_step"), "{err}");
}

#[test]
fn runtime_and_timestamp_must_be_finite_numbers() {
    rejects(
        history(items(&[("_runtime", f(f64::NAN))])),
        "payload.history.items[0].value",
    );
    rejects(
        history(items(&[("_timestamp", f(f64::INFINITY))])),
        "payload.history.items[0].value",
    );
    rejects(
        rec(summary(&[("_timestamp", s("now"))], &[])),
        "payload.summary.update[0].value",
    );
    // Only the top-level reserved keys are reserved.
    assert!(validate_record(&history(items(&[("a._step", f(f64::NAN))]))).is_ok());
}

#[test]
fn a_value_with_no_kind_or_no_value_is_rejected() {
    let r = rec(Payload::Summary(v1::SummaryUpdate {
        update: vec![raw(&["a"], Some(v1::Value { kind: None }))],
        remove: vec![],
    }));
    let err = rejects(r, "payload.summary.update[0].value");
    assert!(err.reason.contains("no kind"), "{err}");
    rejects(
        history(vec![raw(&["a"], None)]),
        "payload.history.items[0].value",
    );
    let r = rec(Payload::Stats(v1::SystemStats {
        items: vec![raw(&["cpu"], Some(v1::Value { kind: None }))],
    }));
    rejects(r, "payload.stats.items[0].value");
}

#[test]
fn a_metric_needs_exactly_one_of_name_and_glob_name() {
    rejects(metric_rec(|d| d.name.clear()), "payload.metric.name");
    rejects(
        metric_rec(|d| d.glob_name = "x*".into()),
        "payload.metric.glob_name",
    );
}

#[test]
fn a_metric_glob_may_only_have_a_star_at_the_end() {
    for glob in ["a*b", "*a*", "abc", "**"] {
        rejects(
            metric_rec(|d| {
                d.name.clear();
                d.glob_name = glob.into();
            }),
            "payload.metric.glob_name",
        );
    }
}

#[test]
fn a_metric_name_has_no_star_and_no_empty_segment() {
    for name in ["a*", "a..b", ".a", "a."] {
        rejects(metric_rec(|d| d.name = name.into()), "payload.metric.name");
    }
    rejects(
        metric_rec(|d| d.step_metric = "s*".into()),
        "payload.metric.step_metric",
    );
}

#[test]
fn an_unknown_enum_value_is_rejected() {
    rejects(run_start(|s| s.resume = 9), "payload.run_start.resume");
    rejects(metric_rec(|d| d.goal = 3), "payload.metric.goal");
    let r = rec(Payload::Alert(v1::Alert {
        title: "t".into(),
        text: String::new(),
        level: -1,
    }));
    rejects(r, "payload.alert.level");
}

#[test]
fn console_lines_are_at_most_64_kib_each() {
    let r = rec(Payload::Output(v1::ConsoleOutput {
        stream: 0,
        lines: vec!["ok".into(), "x".repeat(MAX_CONSOLE_LINE_BYTES + 1)],
    }));
    rejects(r, "payload.output.lines[1]");
}

#[test]
fn file_paths_stay_inside_the_run_directory() {
    for p in [
        "",
        "../x",
        "a/../../b",
        "/etc/passwd",
        "\\x",
        "C:\\x",
        "a\nb",
    ] {
        let r = rec(Payload::Files(v1::Files {
            files: vec![v1::FileEntry {
                path: p.into(),
                policy: 0,
                ..Default::default()
            }],
        }));
        rejects(r, "payload.files.files[0].path");
    }
}

#[test]
fn a_fork_names_a_valid_run() {
    rejects(
        run_start(|s| {
            s.fork_from = Some(v1::ForkFrom {
                run_id: "../x".into(),
                step: 1,
            })
        }),
        "payload.run_start.fork_from.run_id",
    );
}

#[test]
fn the_error_message_names_the_field() {
    let mut r = rec(exit(0));
    r.run_id = String::new();
    let err = validate_record(&r).unwrap_err();
    assert_eq!(err.to_string(), "field `run_id`: run id is empty");
}
