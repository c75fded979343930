//! wandb's `TestHandlePartialHistory` (core/internal/stream/handler_test.go,
//! the 16 cases of the table at lines 189-719), ported as data.
//!
//! As in the Go test, every case ends with a flush record (no items, no step,
//! flush = true; `makeFlushRecord`). Unlike it, we assert the rows exactly,
//! including `_step`, `_runtime` and `_timestamp`, and the next step: our
//! apply is pure, so the timing values are deterministic. Record 0 is the
//! run start at T0 and record k is k seconds later, so a row's `_runtime` is
//! the index of the record that flushed it and its `_timestamp` is T0 plus
//! the index of the last record that brought items to it.

use std::collections::BTreeMap;

use tracklab_state::{Value, warning_kind};

use crate::support::*;

/// One `PartialHistory`: items, step (None = not set), flush (None = not set).
type In = (&'static [(&'static str, i64)], Option<i64>, Option<bool>);

struct Row {
    step: i64,
    items: &'static [(&'static str, i64)],
    /// Record whose timestamp becomes `_timestamp`.
    stamped_by: i64,
    /// Record that flushed the row (its time gives `_runtime`).
    flushed_by: i64,
}

struct Case {
    name: &'static str,
    input: &'static [In],
    rows: &'static [Row],
    next_step: i64,
    dropped: u64,
}

const K12: &[(&str, i64)] = &[("key1", 1), ("key2", 2)];
const K2_3: &[(&str, i64)] = &[("key2", 3)];
const K1_1: &[(&str, i64)] = &[("key1", 1)];
const K1_2: &[(&str, i64)] = &[("key1", 2)];
const NONE: &[(&str, i64)] = &[];

const fn row(
    step: i64,
    items: &'static [(&'static str, i64)],
    stamped_by: i64,
    flushed_by: i64,
) -> Row {
    Row {
        step,
        items,
        stamped_by,
        flushed_by,
    }
}

const CASES: &[Case] = &[
    Case {
        name: "NoFlushIncreaseStepFlush",
        input: &[(K12, Some(0), Some(false)), (K2_3, Some(1), Some(true))],
        rows: &[row(0, K12, 1, 2), row(1, K2_3, 2, 2)],
        next_step: 3,
        dropped: 0,
    },
    Case {
        name: "NoFlushNoIncreaseStepFlush",
        input: &[(K12, Some(0), Some(false)), (K2_3, Some(0), Some(true))],
        rows: &[row(0, &[("key1", 1), ("key2", 3)], 2, 2)],
        next_step: 2,
        dropped: 0,
    },
    Case {
        name: "FlushIncreaseStepFlush",
        input: &[(K12, Some(0), Some(true)), (K2_3, Some(1), Some(true))],
        rows: &[row(0, K12, 1, 1), row(1, K2_3, 2, 2)],
        next_step: 3,
        dropped: 0,
    },
    Case {
        name: "FlushNoIncreaseStepFlush",
        input: &[(K12, Some(0), Some(true)), (K2_3, Some(0), Some(true))],
        rows: &[row(0, K12, 1, 1)],
        next_step: 2,
        dropped: 1,
    },
    Case {
        name: "FlushIncreaseStepNoFlush",
        input: &[
            (K12, Some(0), Some(true)),
            (K2_3, Some(1), Some(false)),
            (NONE, Some(1), Some(true)),
        ],
        rows: &[row(0, K12, 1, 1), row(1, K2_3, 2, 3)],
        next_step: 3,
        dropped: 0,
    },
    Case {
        name: "FlushNoIncreaseStepNoFlush",
        input: &[
            (K12, Some(0), Some(true)),
            (K2_3, Some(0), Some(false)),
            (NONE, Some(0), Some(true)),
        ],
        rows: &[row(0, K12, 1, 1)],
        next_step: 2,
        dropped: 2,
    },
    Case {
        name: "NoFlushIncreaseStepNoFlush",
        input: &[
            (K12, Some(0), Some(false)),
            (K2_3, Some(1), Some(false)),
            (NONE, Some(1), Some(true)),
        ],
        rows: &[row(0, K12, 1, 2), row(1, K2_3, 2, 3)],
        next_step: 3,
        dropped: 0,
    },
    Case {
        name: "NoFlushNoIncreaseStepNoFlush",
        input: &[
            (K12, Some(0), Some(false)),
            (K2_3, Some(0), Some(false)),
            (NONE, Some(0), Some(true)),
        ],
        rows: &[row(0, &[("key1", 1), ("key2", 3)], 2, 3)],
        next_step: 2,
        dropped: 0,
    },
    Case {
        name: "NilStepNilFlushNilStepNilFlush",
        input: &[(K12, None, None), (K2_3, None, None)],
        rows: &[row(0, K12, 1, 1), row(1, K2_3, 2, 2)],
        next_step: 3,
        dropped: 0,
    },
    Case {
        name: "NilStepNilFlushNilStepNoFlush",
        input: &[
            (K12, None, None),
            (&[("key1", 2), ("key2", 3)], None, Some(false)),
            (NONE, None, Some(true)),
        ],
        rows: &[row(0, K12, 1, 1), row(1, &[("key1", 2), ("key2", 3)], 2, 3)],
        next_step: 3,
        dropped: 0,
    },
    Case {
        name: "NilStepNilFlushNilStepFlush",
        input: &[(K1_1, None, None), (K1_2, None, Some(true))],
        rows: &[row(0, K1_1, 1, 1), row(1, K1_2, 2, 2)],
        next_step: 3,
        dropped: 0,
    },
    Case {
        name: "StepNoFlushNilStepNilFlush",
        input: &[(K1_1, Some(1), Some(false)), (K1_2, None, None)],
        rows: &[row(1, K1_2, 2, 2)],
        next_step: 3,
        dropped: 0,
    },
    Case {
        name: "StepFlushNilStepNilFlush",
        input: &[(K1_1, Some(1), Some(true)), (K1_2, None, None)],
        rows: &[row(1, K1_1, 1, 1), row(2, K1_2, 2, 2)],
        next_step: 4,
        dropped: 0,
    },
    Case {
        name: "StepNilFlushNilStepNilFlush",
        input: &[(K1_1, Some(1), None), (K1_2, None, None)],
        rows: &[row(1, K1_2, 2, 2)],
        next_step: 3,
        dropped: 0,
    },
    Case {
        name: "NilStepFlushNilStepNilFlush",
        input: &[(K1_1, None, Some(true)), (K1_2, None, None)],
        rows: &[row(0, K1_1, 1, 1), row(1, K1_2, 2, 2)],
        next_step: 3,
        dropped: 0,
    },
    Case {
        name: "NilStepNoFlushNilStepNilFlush",
        input: &[(K1_1, None, Some(false)), (K1_2, None, None)],
        rows: &[row(0, K1_2, 2, 2)],
        next_step: 2,
        dropped: 0,
    },
];

fn expected_row(r: &Row) -> (i64, BTreeMap<String, Value>) {
    let mut items: BTreeMap<String, Value> = r
        .items
        .iter()
        .map(|(k, v)| (k.to_string(), i(*v)))
        .collect();
    items.insert("_step".into(), i(r.step));
    items.insert("_runtime".into(), f(r.flushed_by as f64));
    items.insert("_timestamp".into(), f(T0_S + r.stamped_by as f64));
    (r.step, items)
}

#[test]
fn wandb_partial_history_table_gives_the_same_rows_and_next_step() {
    assert_eq!(CASES.len(), 16, "all of wandb's cases are here");
    for case in CASES {
        let mut run = Run::started();
        for (pairs, step, flush) in case.input {
            let pairs: Vec<(&str, Value)> = pairs.iter().map(|(k, v)| (*k, i(*v))).collect();
            run.send(log(&pairs, *step, *flush));
        }
        run.send(log(&[], None, Some(true)));

        let got: Vec<_> = run.rows.iter().map(|r| (r.step, r.items.clone())).collect();
        let want: Vec<_> = case.rows.iter().map(expected_row).collect();
        assert_eq!(got, want, "rows of case {}", case.name);
        assert_eq!(
            run.state.next_step(),
            case.next_step,
            "next step of case {}",
            case.name
        );
        let info = run.state.run_info();
        assert_eq!(info.next_step, case.next_step, "{}", case.name);
        assert_eq!(info.history_rows, case.rows.len() as u64, "{}", case.name);
        assert_eq!(info.dropped_steps, case.dropped, "{}", case.name);
        let dropped: Vec<_> = run
            .warnings
            .iter()
            .filter(|w| w.kind == warning_kind::STEP_DROPPED)
            .collect();
        assert_eq!(dropped.len() as u64, case.dropped, "{}", case.name);
    }
}

#[test]
fn a_smaller_step_is_dropped_whole_with_wandbs_message() {
    let mut run = Run::started();
    run.send(log(&[("a", i(1))], Some(5), None));
    let applied = run.send(log(&[("a", i(2)), ("b", i(3))], Some(4), Some(true)));
    assert!(applied.rows.is_empty());
    assert_eq!(applied.warnings.len(), 1);
    let w = &applied.warnings[0];
    assert_eq!(w.kind, "step_dropped");
    assert_eq!((w.writer_id, w.seq), (run.writer_id, run.seq));
    assert_eq!(
        w.message,
        "Tried to log to step 4 that is less than the current step 5. Steps must be \
         monotonically increasing, so this data will be ignored. See \
         https://wandb.me/define-metric to log data out of order."
    );
    assert_eq!(run.state.run_info().warnings, vec![w.message.clone()]);
    run.send(exit(0));
    assert_eq!(run.user_rows(), vec![(5, map(&[("a", i(1))]))]);
}

#[test]
fn the_run_keeps_only_the_newest_twenty_warnings() {
    let mut run = Run::started();
    run.send(log(&[("a", i(1))], Some(100), None));
    for step in 0..25 {
        run.send(log(&[("a", i(1))], Some(step), None));
    }
    let info = run.state.run_info();
    assert_eq!(info.dropped_steps, 25);
    assert_eq!(info.warnings.len(), tracklab_state::MAX_KEPT_WARNINGS);
    assert!(info.warnings[0].contains("step 5 "), "{}", info.warnings[0]);
    assert!(info.warnings[19].contains("step 24 "));
}

#[test]
fn a_client_timestamp_wins_and_runtime_and_step_are_overwritten() {
    let mut run = Run::started();
    run.send(log1(&[
        ("_timestamp", f(12.5)),
        ("_runtime", f(99.0)),
        ("_step", i(40)),
        ("x", i(1)),
    ]));
    assert_eq!(
        run.rows[0].items,
        map(&[
            ("_runtime", f(1.0)),
            ("_step", i(0)),
            ("_timestamp", f(12.5)),
            ("x", i(1))
        ])
    );
}

#[test]
fn nested_items_replace_conflicting_leaves_in_the_row() {
    let mut run = Run::started();
    run.send(log(&[("a", i(1)), ("b.c", i(2))], None, Some(false)));
    run.send(log(&[("a.x", i(3)), ("b", i(4))], None, None));
    assert_eq!(
        run.user_rows(),
        vec![(0, map(&[("a.x", i(3)), ("b", i(4))]))]
    );
    assert_eq!(run.summary().get("a.x"), Some(&i(3)));
}

#[test]
fn an_empty_flush_advances_the_step_without_a_row() {
    let mut run = Run::started();
    run.send(log(&[], None, None));
    run.send(log(&[], None, Some(true)));
    assert!(run.rows.is_empty());
    assert_eq!(run.state.next_step(), 2);
    run.send(log1(&[("a", i(1))]));
    assert_eq!(run.user_rows(), vec![(2, map(&[("a", i(1))]))]);
}

#[test]
fn exit_flushes_the_pending_row() {
    let mut run = Run::started();
    run.send(log(&[("a", i(1))], Some(3), None));
    assert!(run.rows.is_empty());
    let applied = run.send(exit(0));
    assert_eq!(applied.rows.len(), 1);
    assert_eq!(run.user_rows(), vec![(3, map(&[("a", i(1))]))]);
    assert_eq!(run.rows[0].items["_runtime"], f(2.0));
    assert_eq!(run.rows[0].items["_timestamp"], f(T0_S + 1.0));
    assert_eq!(run.state.next_step(), 4);
}
