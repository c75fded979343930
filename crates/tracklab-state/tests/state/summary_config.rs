//! Explicit summary updates and removals, and config updates and removals.
//!
//! Summary cases follow wandb's `tests/system_tests/test_core/test_wandb_run.py`
//! (test_summary_update, test_summary_from_history, test_summary_remove,
//! test_summary_remove_nested) and `core/internal/runsummary/runsummary_test.go`
//! (TestRemove_NestedValue, TestRemove_KeepsMetricConfiguration, TestNoSummary,
//! TestSummaryTypes).

use crate::support::*;

#[test]
fn an_explicit_summary_update_is_kept() {
    // test_summary_update
    let mut run = Run::started();
    run.send(summary(&[("a", i(1))], &[]));
    run.send(exit(0));
    assert_eq!(run.summary()["a"], i(1));
}

#[test]
fn a_later_history_value_overwrites_an_explicit_summary() {
    // test_summary_from_history
    let mut run = Run::started();
    run.send(summary(&[("a", i(1))], &[]));
    run.send(log1(&[("a", i(2))]));
    run.send(exit(0));
    assert_eq!(run.summary()["a"], i(2));
}

#[test]
fn removing_a_logged_key_drops_it_from_the_summary() {
    // test_summary_remove
    let mut run = Run::started();
    run.send(log1(&[("a", i(2))]));
    run.send(summary(&[], &["a"]));
    run.send(exit(0));
    assert!(!run.summary().contains_key("a"));
}

#[test]
fn nested_summary_keys_can_be_added_and_removed() {
    // test_summary_remove_nested
    let mut run = Run::started();
    run.send(log1(&[("a.b", i(2))]));
    run.send(summary(&[("a.c", i(3))], &[]));
    run.send(summary(&[], &["a.b"]));
    run.send(exit(0));
    let got: Vec<_> = run
        .summary()
        .into_iter()
        .filter(|(k, _)| k.starts_with('a'))
        .collect();
    assert_eq!(got, vec![("a.c".to_string(), i(3))]);
}

#[test]
fn removing_a_prefix_removes_the_whole_subtree() {
    // TestRemove_NestedValue
    let mut run = Run::started();
    run.send(log1(&[
        ("nested.x", f(1.5)),
        ("nested.deeper.y", i(2)),
        ("other", i(3)),
    ]));
    run.send(summary(&[], &["nested"]));
    let got: Vec<_> = run
        .summary()
        .into_keys()
        .filter(|k| !k.starts_with('_'))
        .collect();
    assert_eq!(got, vec!["other".to_string()]);
}

#[test]
fn removing_a_leaf_keeps_its_metric_configuration() {
    // TestRemove_KeepsMetricConfiguration
    let mut run = Run::started();
    run.send(tracklab_proto::v1::record::Payload::Metric(metric(
        "x", "last",
    )));
    run.send(log1(&[("x", f(1.5))]));
    run.send(summary(&[], &["x"]));
    assert!(!run.summary().keys().any(|k| k.starts_with('x')));
    run.send(log1(&[("x", f(1.5))]));
    assert_eq!(run.summary()["x.last"], f(1.5));
}

#[test]
fn summary_none_hides_even_an_explicit_value() {
    // TestNoSummary
    let mut run = Run::started();
    run.send(tracklab_proto::v1::record::Payload::Metric(metric(
        "x", "none",
    )));
    run.send(summary(&[("x", i(1))], &[]));
    assert!(!run.summary().contains_key("x"));
}

#[test]
fn all_aggregates_together_mix_ints_and_floats() {
    // TestSummaryTypes
    let mut run = Run::started();
    run.send(tracklab_proto::v1::record::Payload::Metric(metric(
        "x",
        "min,max,mean,last,first",
    )));
    for v in [i(1), f(3.0), f(2.3)] {
        run.send(log1(&[("x", v)]));
    }
    let sm = run.summary();
    assert_eq!(sm["x.min"], f(1.0));
    assert_eq!(sm["x.max"], f(3.0));
    let mean = match sm["x.mean"] {
        tracklab_state::Value::Float(m) => m,
        _ => panic!(),
    };
    assert!((mean - 2.1).abs() < 1e-12);
    assert_eq!(sm["x.last"], f(2.3));
    assert_eq!(sm["x.first"], i(1));
    let keys: Vec<_> = sm.keys().filter(|k| k.starts_with('x')).cloned().collect();
    assert_eq!(keys, ["x.first", "x.last", "x.max", "x.mean", "x.min"]);
}

#[test]
fn an_explicit_set_resets_the_aggregates_to_last_value() {
    // metricSummary.SetExplicit resets the tracked types.
    let mut run = Run::started();
    run.send(tracklab_proto::v1::record::Payload::Metric(metric(
        "x", "min",
    )));
    run.send(log1(&[("x", i(5))]));
    assert_eq!(run.summary()["x.min"], f(5.0));
    run.send(summary(&[("x", s("best"))], &[]));
    assert_eq!(run.summary()["x"], s("best"));
    run.send(log1(&[("x", i(7))]));
    assert_eq!(run.summary()["x"], i(7));
}

#[test]
fn a_summary_update_and_removal_of_the_same_key_in_one_record_removes_it() {
    // runsummary.FromProto: removals drop updates of the same path.
    let mut run = Run::started();
    run.send(summary(&[("a", i(1)), ("b", i(2))], &["a"]));
    assert_eq!(run.summary().get("a"), None);
    assert_eq!(run.summary()["b"], i(2));
}

#[test]
fn summary_items_render_aggregates_as_nested_leaves() {
    let mut run = Run::started();
    run.send(tracklab_proto::v1::record::Payload::Metric(metric(
        "loss", "min",
    )));
    run.send(log1(&[("loss", f(0.5))]));
    let items = run.state.summary_items();
    let loss = items.iter().find(|it| it.path[0] == "loss").unwrap();
    assert_eq!(loss.path, vec!["loss".to_string(), "min".to_string()]);
}

#[test]
fn run_start_config_then_updates_and_removals_build_a_nested_tree() {
    let mut run = Run::new();
    let mut start = match start() {
        tracklab_proto::v1::record::Payload::RunStart(s) => s,
        _ => unreachable!(),
    };
    start.config = items(&[
        ("lr", f(0.1)),
        ("model.layers", i(4)),
        ("model.width", i(64)),
    ]);
    run.send(tracklab_proto::v1::record::Payload::RunStart(start));
    assert_eq!(
        run.config(),
        map(&[
            ("lr", f(0.1)),
            ("model.layers", i(4)),
            ("model.width", i(64))
        ])
    );
    run.send(config(
        &[("lr", f(0.2)), ("opt.name", s("adam"))],
        &["model.width"],
    ));
    assert_eq!(
        run.config(),
        map(&[
            ("lr", f(0.2)),
            ("model.layers", i(4)),
            ("opt.name", s("adam"))
        ])
    );
    // Removing a prefix removes its subtree; setting a leaf over a subtree replaces it.
    run.send(config(&[("opt", s("sgd"))], &["model"]));
    assert_eq!(run.config(), map(&[("lr", f(0.2)), ("opt", s("sgd"))]));
    run.send(config(
        &[("opt.momentum", f(0.9))],
        &["missing", "lr.deeper"],
    ));
    assert_eq!(
        run.config(),
        map(&[("lr", f(0.2)), ("opt.momentum", f(0.9))])
    );
    assert_eq!(run.state.run_info().config, run.state.config_items());
}
