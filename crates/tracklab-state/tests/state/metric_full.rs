//! wandb's `tests/system_tests/test_core/test_metric_full.py`, ported to
//! apply records and read the state instead of a backend spy. Each test names
//! the Python test it follows. `summary="copy"` (deprecated, and absent from
//! tracklab.v1) is ported as "no summary given", which wandb treats the same.
//! Every run ends with an exit record, as `with wandb.init()` does.

use tracklab_proto::v1;
use tracklab_state::{Value, key_name};

use crate::support::*;

fn define(run: &mut Run, def: v1::MetricDefinition) {
    let applied = run.send(v1::record::Payload::Metric(def));
    assert!(applied.warnings.is_empty(), "{:?}", applied.warnings);
}

fn with_step(
    mut def: v1::MetricDefinition,
    step_metric: &str,
    step_sync: Option<bool>,
) -> v1::MetricDefinition {
    def.step_metric = step_metric.into();
    def.step_sync = step_sync;
    def
}

fn metric_info(run: &Run, name: &str) -> v1::MetricInfo {
    run.state
        .run_info()
        .metrics
        .into_iter()
        .find(|m| m.name == name || m.glob_name == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

#[test]
fn summary_defaults_to_the_last_value_even_under_a_glob() {
    // test_default_summary_type_is_last
    let mut run = Run::started();
    define(&mut run, metric("*", ""));
    run.send(log1(&[("mystep", i(1)), ("val", i(2))]));
    run.send(log1(&[("mystep", i(2)), ("val", i(8))]));
    run.send(log1(&[("mystep", i(3)), ("val", i(3))]));
    run.send(log1(&[("val2", i(4))]));
    run.send(log1(&[("val2", i(1))]));
    run.send(exit(0));
    let summary = run.summary();
    assert_eq!(summary["val"], i(3));
    assert_eq!(summary["val2"], i(1));
    assert_eq!(summary["mystep"], i(3));
}

#[test]
fn summary_none_hides_a_metric_that_a_glob_would_match() {
    // test_summary_type_none
    let mut run = Run::started();
    define(&mut run, metric("*", ""));
    define(&mut run, metric("val", "none"));
    for k in 1..=3 {
        run.send(log1(&[("val", i(k)), ("other", i(k))]));
    }
    run.send(exit(0));
    let summary = run.summary();
    assert_eq!(summary["other"], i(3));
    assert!(!summary.contains_key("val"));
}

#[test]
fn a_glob_with_a_step_metric_keeps_last_values() {
    // test_metric_glob
    let mut run = Run::started();
    define(&mut run, with_step(metric("*", ""), "mystep", None));
    run.send(log1(&[("mystep", i(1)), ("val", i(2))]));
    run.send(exit(0));
    assert_eq!(run.summary()["val"], i(2));
    assert_eq!(run.summary()["mystep"], i(1));
    assert_eq!(metric_info(&run, "val").step_metric, "mystep");
    assert!(metric_info(&run, "val").step_sync);
}

#[test]
fn a_defined_metric_without_summary_leaves_others_alone() {
    // test_metric_nosummary and test_metric_sum_none
    let mut run = Run::started();
    define(&mut run, metric("val", ""));
    run.send(log1(&[("mystep", i(1)), ("val", i(2))]));
    run.send(log1(&[("mystep", i(1)), ("val", i(8))]));
    run.send(log1(&[("mystep", i(1)), ("val", i(3))]));
    run.send(log1(&[("val2", i(4))]));
    run.send(log1(&[("val2", i(1))]));
    run.send(exit(0));
    let summary = run.summary();
    assert_eq!(summary["val"], i(3));
    assert_eq!(summary["val2"], i(1));
    assert_eq!(summary["mystep"], i(1));
}

#[test]
fn summary_none_removes_the_metric_from_the_summary() {
    // test_metric_none
    let mut run = Run::started();
    define(&mut run, metric("val2", "none"));
    run.send(log1(&[("val2", i(4))]));
    run.send(log1(&[("val2", i(1))]));
    run.send(exit(0));
    assert!(!run.summary().contains_key("val2"));
    assert!(metric_info(&run, "val2").summary.unwrap().none);
}

#[test]
fn each_summary_op_on_1_8_3_gives_wandbs_value() {
    // test_metric_summary (runs offline in wandb)
    for (op, want) in [
        ("min", f(1.0)),
        ("max", f(8.0)),
        ("last", i(3)),
        ("mean", f(4.0)),
        ("first", i(1)),
    ] {
        let mut run = Run::started();
        define(&mut run, metric("val", op));
        for v in [1, 8, 3] {
            run.send(log1(&[("val", i(v))]));
        }
        let summary = run.summary();
        assert_eq!(summary.get(&format!("val.{op}")), Some(&want), "{op}");
        assert_eq!(summary.keys().filter(|k| k.starts_with("val")).count(), 1);
    }
}

#[test]
fn strings_do_not_feed_min_max_or_mean() {
    // test_metric_summary_string_type (runs offline in wandb)
    for (op, want) in [
        ("min", f(1.0)),
        ("max", f(3.0)),
        ("mean", f(2.0)),
        ("first", i(1)),
    ] {
        let mut run = Run::started();
        define(&mut run, metric("val", op));
        run.send(log1(&[("val", i(1))]));
        run.send(log1(&[("val", s("oops a string"))]));
        run.send(log1(&[("val", i(3))]));
        assert_eq!(run.summary()[&format!("val.{op}")], want, "{op}");
    }
}

fn gen_metric_sync_step(run: &mut Run) {
    run.send(log1(&[("val", i(2)), ("val2", i(5)), ("mystep", i(1))]));
    run.send(log1(&[("mystep", i(3))]));
    run.send(log1(&[("val", i(8))]));
    run.send(log1(&[("val2", i(8))]));
    run.send(log1(&[("val", i(3)), ("mystep", i(5))]));
    run.send(exit(0));
}

#[test]
fn without_step_sync_rows_keep_only_what_was_logged() {
    // test_metric_no_sync_step
    let mut run = Run::started();
    define(
        &mut run,
        with_step(metric("val", "min"), "mystep", Some(false)),
    );
    gen_metric_sync_step(&mut run);
    let summary = run.summary();
    assert_eq!(summary["val.min"], f(2.0));
    assert!(!summary.contains_key("val"));
    assert_eq!(summary["val2"], i(8));
    assert_eq!(summary["mystep"], i(5));
    assert_eq!(
        run.user_rows(),
        vec![
            (0, map(&[("val", i(2)), ("val2", i(5)), ("mystep", i(1))])),
            (1, map(&[("mystep", i(3))])),
            (2, map(&[("val", i(8))])),
            (3, map(&[("val2", i(8))])),
            (4, map(&[("val", i(3)), ("mystep", i(5))])),
        ]
    );
    assert!(!metric_info(&run, "val").step_sync);
}

#[test]
fn with_step_sync_row_2_gets_mystep_3() {
    // test_metric_sync_step
    let mut run = Run::started();
    define(
        &mut run,
        with_step(metric("val", "min"), "mystep", Some(true)),
    );
    gen_metric_sync_step(&mut run);
    let summary = run.summary();
    assert_eq!(summary["val.min"], f(2.0));
    assert_eq!(summary["val2"], i(8));
    assert_eq!(summary["mystep"], i(5));
    // wandb inserts the synced step value as a float.
    assert_eq!(
        run.user_rows(),
        vec![
            (0, map(&[("val", i(2)), ("val2", i(5)), ("mystep", i(1))])),
            (1, map(&[("mystep", i(3))])),
            (2, map(&[("val", i(8)), ("mystep", f(3.0))])),
            (3, map(&[("val2", i(8))])),
            (4, map(&[("val", i(3)), ("mystep", i(5))])),
        ]
    );
}

#[test]
fn step_sync_defaults_to_on_when_a_step_metric_is_given() {
    // wandb_metric.Metric.__init__: step_sync defaults to step_metric is not None.
    let mut run = Run::started();
    define(&mut run, with_step(metric("val", ""), "mystep", None));
    run.send(log1(&[("val", i(1))]));
    assert_eq!(
        run.user_rows(),
        vec![(0, map(&[("val", i(1)), ("mystep", f(0.0))]))]
    );
}

#[test]
fn glob_expansion_defines_each_matching_key_once() {
    // test_metric_mult and test_metric_goal
    let mut run = Run::started();
    let mut hidden = metric("mystep", "");
    hidden.hidden = Some(true);
    define(&mut run, hidden);
    let mut glob = with_step(metric("*", ""), "mystep", None);
    glob.goal = v1::Goal::Maximize as i32;
    define(&mut run, glob);
    gen_metric_sync_step(&mut run);
    let info = run.state.run_info();
    let names: Vec<_> = info
        .metrics
        .iter()
        .map(|m| (m.name.as_str(), m.glob_name.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![("mystep", ""), ("val", ""), ("val2", ""), ("", "*")]
    );
    assert!(info.metrics[0].hidden);
    assert_eq!(info.metrics[0].step_metric, "");
    for m in &info.metrics[1..] {
        assert_eq!(m.step_metric, "mystep");
        assert_eq!(m.goal, v1::Goal::Maximize as i32);
    }
    // val2 is expanded with step sync, so row 3 gets mystep too.
    assert_eq!(
        run.user_rows()[3].1,
        map(&[("val2", i(8)), ("mystep", f(3.0))])
    );
}

#[test]
fn nan_propagates_into_mean() {
    // test_metric_nan_mean
    let mut run = Run::started();
    define(&mut run, metric("val", "mean"));
    for v in [f(2.0), f(f64::NAN), f(4.0)] {
        run.send(log1(&[("mystep", i(1)), ("val", v)]));
    }
    run.send(exit(0));
    let Value::Float(mean) = run.summary()["val.mean"] else {
        panic!()
    };
    assert!(mean.is_nan());
}

#[test]
fn nan_propagates_into_min() {
    // test_metric_nan_min_norm and test_metric_nan_min_more
    for values in [
        vec![f(f64::NAN)],
        vec![f(f64::NAN), f(4.0)],
        vec![f(4.0), f(f64::NAN), f(1.0)],
    ] {
        let mut run = Run::started();
        define(&mut run, metric("val", "min"));
        for v in values {
            run.send(log1(&[("mystep", i(1)), ("val", v)]));
        }
        run.send(exit(0));
        assert_eq!(run.summary()["val.min"], f(f64::NAN));
    }
}

#[test]
fn nested_values_summarise_per_leaf() {
    // test_metric_nested_default, _copy, _min, _mult
    for (summary, want) in [
        ("", vec![("this.that", i(4))]),
        ("min", vec![("this.that.min", f(2.0))]),
        (
            "min,max",
            vec![("this.that.max", f(4.0)), ("this.that.min", f(2.0))],
        ),
    ] {
        let mut run = Run::started();
        if !summary.is_empty() {
            define(&mut run, metric("this.that", summary));
        }
        for v in [3, 2, 4] {
            run.send(log1(&[("this.that", i(v))]));
        }
        run.send(exit(0));
        let got: Vec<_> = run
            .summary()
            .into_iter()
            .filter(|(k, _)| k.starts_with("this"))
            .collect();
        let want: Vec<_> = want.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(got, want, "summary={summary}");
    }
}

#[test]
fn an_escaped_dot_names_a_flat_key_with_a_dot() {
    // test_metric_dotted
    let mut run = Run::started();
    define(&mut run, metric("test\\this\\.that", "min"));
    let flat = vec!["test\\this.that".to_string()];
    for v in [3, 2, 4] {
        run.send(v1::record::Payload::History(v1::PartialHistory {
            items: vec![v1::Item {
                path: flat.clone(),
                value: Some(i(v).to_proto()),
            }],
            step: None,
            flush: None,
        }));
    }
    run.send(exit(0));
    let mut min_path = flat.clone();
    min_path.push("min".into());
    assert_eq!(run.summary()[&key_name(&min_path)], f(2.0));
    assert_eq!(
        run.summary()
            .keys()
            .filter(|k| k.starts_with("test"))
            .count(),
        1
    );
    let info = run.state.run_info();
    assert_eq!(info.metrics.len(), 1);
    assert_eq!(info.metrics[0].name, "test\\this\\.that");
    assert!(info.metrics[0].summary.unwrap().min);
}

#[test]
fn a_glob_matches_nested_keys() {
    // test_metric_nested_glob
    let mut run = Run::started();
    define(&mut run, metric("*", "min,max"));
    for v in [3, 2, 4] {
        run.send(log1(&[("this.that", i(v))]));
    }
    run.send(exit(0));
    let summary = run.summary();
    assert_eq!(summary["this.that.min"], f(2.0));
    assert_eq!(summary["this.that.max"], f(4.0));
    assert!(
        !summary.contains_key("_runtime.min"),
        "internal keys never match globs"
    );
    assert!(metric_info(&run, "this.that").summary.unwrap().max);
}

#[test]
fn redefining_without_overwrite_merges_summary_ops() {
    // test_metric_overwrite_false
    for name in ["m", "*"] {
        let mut run = Run::started();
        define(&mut run, metric(name, "min"));
        let mut second = metric(name, "max");
        second.overwrite = false;
        define(&mut run, second);
        run.send(log1(&[("m", i(1))]));
        let m = metric_info(&run, "m").summary.unwrap();
        assert!(m.min && m.max, "{name}");
        assert_eq!(run.summary()["m.min"], f(1.0));
        assert_eq!(run.summary()["m.max"], f(1.0));
    }
}

#[test]
fn redefining_with_overwrite_replaces_the_definition() {
    // test_metric_overwrite_true
    for name in ["m", "*"] {
        let mut run = Run::started();
        define(&mut run, metric(name, "min"));
        let mut second = metric(name, "max");
        second.overwrite = true;
        define(&mut run, second);
        run.send(log1(&[("m", i(1))]));
        let m = metric_info(&run, "m").summary.unwrap();
        assert!(!m.min && m.max, "{name}");
        assert_eq!(run.summary()["m.max"], f(1.0));
        assert!(!run.summary().contains_key("m.min"));
    }
}

#[test]
fn a_glob_expands_on_the_first_matching_key() {
    // test_metric_expand_glob (client-side expansion)
    let mut run = Run::started();
    define(&mut run, metric("*", "min"));
    assert_eq!(run.state.run_info().metrics.len(), 1);
    run.send(log1(&[("m", i(1))]));
    let info = run.state.run_info();
    assert_eq!(info.metrics.len(), 2);
    assert_eq!(info.metrics[0].name, "m");
    assert!(info.metrics[0].summary.unwrap().min);
    assert_eq!(run.summary()["m.min"], f(1.0));
}

#[test]
fn the_longest_matching_glob_wins() {
    let mut run = Run::started();
    define(&mut run, metric("*", "min"));
    define(&mut run, metric("train/*", "max"));
    run.send(log1(&[("train/loss", i(1)), ("eval/loss", i(2))]));
    let summary = run.summary();
    assert_eq!(summary["train/loss.max"], f(1.0));
    assert_eq!(summary["eval/loss.min"], f(2.0));
}
