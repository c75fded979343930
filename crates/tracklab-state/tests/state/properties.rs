//! Property tests over random record streams: apply is idempotent, and a
//! state persisted and reloaded at any point (what the daemon's restart does)
//! continues exactly like one that never left memory.

use proptest::prelude::*;
use tracklab_proto::v1;
use tracklab_state::{Applied, RunState, Value, apply};
use v1::record::Payload;

use crate::support::{RUN_ID, T0_US};

const KEYS: &[&str] = &[
    "a",
    "b",
    "a.b",
    "c.d.e",
    "x\\.y",
    "train/loss",
    "_priv",
    "_step",
    "_timestamp",
    "_runtime",
];

fn key() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        10 => prop::sample::select(KEYS).prop_map(tracklab_state::split_key_name),
        1 => Just(Vec::new()),
    ]
}

fn value() -> impl Strategy<Value = Option<v1::Value>> {
    let v = prop_oneof![
        (-5i64..20).prop_map(Value::Int),
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-0.0),
            -10.0f64..10.0
        ]
        .prop_map(Value::Float),
        any::<bool>().prop_map(Value::Bool),
        "[a-z]{0,3}".prop_map(Value::Str),
        Just(Value::Json("[1,2]".into())),
        Just(Value::Bytes(vec![0, 1])),
    ];
    prop_oneof![
        20 => v.prop_map(|v| Some(v.to_proto())),
        1 => Just(Some(v1::Value { kind: None })),
        1 => Just(None),
    ]
}

fn items(max: usize) -> impl Strategy<Value = Vec<v1::Item>> {
    prop::collection::vec(
        (key(), value()).prop_map(|(path, value)| v1::Item { path, value }),
        0..max,
    )
}

fn paths() -> impl Strategy<Value = Vec<v1::Path>> {
    prop::collection::vec(key().prop_map(|path| v1::Path { path }), 0..3)
}

fn metric() -> impl Strategy<Value = v1::MetricDefinition> {
    (
        prop::sample::select(&["a", "b", "a.b", "x\\.y", "*", "a*", "train/*", "", "c.d.e"][..]),
        any::<bool>(),
        prop::sample::select(&["", "b", "a.b", "_step"][..]),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<[bool; 6]>()),
        0i32..3,
        any::<bool>(),
    )
        .prop_map(
            |(name, both, step, sync, hidden, summary, goal, overwrite)| {
                let mut def = v1::MetricDefinition {
                    step_metric: step.into(),
                    step_sync: sync,
                    hidden,
                    summary: summary.map(|s| v1::MetricSummary {
                        min: s[0],
                        max: s[1],
                        mean: s[2],
                        first: s[3],
                        last: s[4],
                        none: s[5],
                    }),
                    goal,
                    overwrite,
                    ..Default::default()
                };
                if name.ends_with('*') {
                    def.glob_name = name.into();
                } else {
                    def.name = name.into();
                }
                if both {
                    def.glob_name = "z*".into();
                }
                def
            },
        )
}

/// One step of a random stream.
#[derive(Clone, Debug)]
enum Op {
    /// A record from the current writer, `dt` seconds after the previous one.
    Send(Box<Payload>, i64),
    /// A resume from a new writer.
    Resume(i32, i64),
    /// The daemon marks the run crashed (writer 0).
    Crash,
}

/// Mostly small steps, sometimes extreme ones (apply must not overflow).
fn step() -> impl Strategy<Value = i64> {
    prop_oneof![
        30 => 0i64..12,
        1 => Just(-1i64),
        1 => Just(i64::MAX),
        1 => Just(i64::MIN),
    ]
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        24 => (items(4), prop::option::of(step()), prop::option::of(any::<bool>()))
            .prop_map(|(items, step, flush)| Payload::History(v1::PartialHistory { items, step, flush })),
        4 => (items(3), paths()).prop_map(|(update, remove)| Payload::Summary(v1::SummaryUpdate { update, remove })),
        3 => (items(3), paths()).prop_map(|(update, remove)| Payload::Config(v1::ConfigUpdate { update, remove })),
        4 => metric().prop_map(Payload::Metric),
        1 => (-1i32..3, Just(false)).prop_map(|(exit_code, crashed)| Payload::Exit(v1::RunExit { exit_code, crashed })),
        1 => prop::collection::vec("[a-z ]{0,5}", 0..3)
            .prop_map(|lines| Payload::Output(v1::ConsoleOutput { stream: 0, lines })),
        1 => items(3).prop_map(|items| Payload::Stats(v1::SystemStats { items })),
        1 => "[a-z./]{0,6}".prop_map(|path| Payload::Files(v1::Files {
            files: vec![v1::FileEntry {
                path,
                policy: 1,
                ..Default::default()
            }],
        })),
        1 => "[a-z]{0,4}".prop_map(|title| Payload::Alert(v1::Alert { title, text: String::new(), level: 0 })),
        1 => (prop::option::of("[a-z]{0,4}"), any::<bool>()).prop_map(|(name, set_tags)| {
            Payload::RunUpdate(v1::RunUpdate { name, set_tags, tags: vec!["t".into()], ..Default::default() })
        }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        40 => (payload(), prop_oneof![30 => -1i64..4, 1 => Just(-1_000_000_000i64)])
            .prop_map(|(p, dt)| Op::Send(Box::new(p), dt)),
        4 => (0i32..3, 0i64..50).prop_map(|(mode, dt)| Op::Resume(mode, dt)),
        1 => Just(Op::Crash),
    ]
}

fn start(resume: i32) -> Payload {
    Payload::RunStart(v1::RunStart {
        project: "p".into(),
        pid: 1,
        resume,
        config: vec![v1::Item {
            path: vec!["lr".into()],
            value: Some(Value::Float(0.1).to_proto()),
        }],
        ..Default::default()
    })
}

/// Turns ops into records with per-writer sequence numbers and timestamps.
fn records(begin_with_start: bool, ops: &[Op]) -> Vec<v1::Record> {
    let mut out = Vec::new();
    let mut writer = 1u64;
    let mut seqs = std::collections::BTreeMap::<u64, u64>::new();
    let mut t = T0_US;
    let mut push = |writer: u64, dt: i64, payload: Payload, out: &mut Vec<v1::Record>| {
        let seq = seqs.entry(writer).or_insert(0);
        *seq += 1;
        t += dt * 1_000_000;
        out.push(v1::Record {
            run_id: RUN_ID.into(),
            writer_id: writer,
            seq: *seq,
            timestamp_us: t,
            payload: Some(payload),
        });
    };
    if begin_with_start {
        push(writer, 0, start(0), &mut out);
    }
    for op in ops {
        match op {
            Op::Send(p, dt) => push(writer, *dt, (**p).clone(), &mut out),
            Op::Resume(mode, dt) => {
                writer += 1;
                push(writer, *dt, start(*mode), &mut out);
            }
            Op::Crash => push(
                0,
                1,
                Payload::Exit(v1::RunExit {
                    exit_code: -9,
                    crashed: true,
                }),
                &mut out,
            ),
        }
    }
    out
}

fn apply_all(recs: &[v1::Record]) -> (RunState, Vec<Applied>) {
    let mut state = RunState::new(RUN_ID);
    let applied = recs.iter().map(|r| apply(&mut state, r)).collect();
    (state, applied)
}

fn reload(state: &RunState) -> RunState {
    let bytes = postcard::to_allocvec(state).expect("serialise");
    postcard::from_bytes(&bytes).expect("deserialise")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn applying_every_record_twice_equals_applying_it_once(
        begin in prop::bool::weighted(0.9),
        ops in prop::collection::vec(op(), 0..60),
    ) {
        let recs = records(begin, &ops);
        let (once, expected) = apply_all(&recs);

        let mut twice = RunState::new(RUN_ID);
        for (rec, want) in recs.iter().zip(&expected) {
            let first = apply(&mut twice, rec);
            prop_assert_eq!(&first, want);
            let second = apply(&mut twice, rec);
            prop_assert!(second.duplicate);
            prop_assert_eq!(second, Applied { duplicate: true, ..Applied::default() });
        }
        prop_assert_eq!(&twice, &once);

        // Re-sending the whole stream (a client re-send, a second sync) is a no-op.
        for rec in &recs {
            prop_assert!(apply(&mut twice, rec).duplicate);
        }
        prop_assert_eq!(&twice, &once);
        // RunInfo's derived PartialEq has NaN != NaN; compare its rendering.
        prop_assert_eq!(format!("{:?}", twice.run_info()), format!("{:?}", once.run_info()));
    }

    #[test]
    fn reloading_the_state_at_random_points_changes_nothing(
        begin in prop::bool::weighted(0.9),
        ops in prop::collection::vec(op(), 0..60),
        reload_at in prop::collection::vec(any::<bool>(), 61),
    ) {
        let recs = records(begin, &ops);
        let (once, expected) = apply_all(&recs);

        let mut state = RunState::new(RUN_ID);
        for (k, (rec, want)) in recs.iter().zip(&expected).enumerate() {
            if reload_at[k % reload_at.len()] {
                state = reload(&state);
            }
            let got = apply(&mut state, rec);
            prop_assert_eq!(&got, want);
        }
        let state = reload(&state);
        prop_assert_eq!(&state, &once);
        prop_assert_eq!(format!("{:?}", state.run_info()), format!("{:?}", once.run_info()));
    }
}
