//! Property: any record stream applied incrementally — frame by frame, with
//! restarts and lost (uncommitted) store writes at random points, and with
//! re-sent duplicate frames — gives the same store as a rebuild from the log
//! from scratch. Compared through query results (runs, series), not bytes.

use proptest::prelude::*;
use tracklab_log::LogWriter;
use tracklab_proto::v1::{self, Record, record::Payload};
use tracklab_store::codec::encode_records;
use tracklab_store::history::HistoryQuery;
use tracklab_store::replay::{catch_up, rebuild};
use tracklab_store::{Applier, DataDir, Namespace, Store, StoredRun};

const RUN: &str = "prop-run";

fn fval(x: f64) -> Option<v1::Value> {
    Some(v1::Value {
        kind: Some(v1::value::Kind::Float(x)),
    })
}

fn item(key: &str, x: f64) -> v1::Item {
    v1::Item {
        path: key.split('.').map(str::to_string).collect(),
        value: fval(x),
    }
}

#[derive(Debug, Clone)]
enum Op {
    Log {
        keys: Vec<(u8, f64)>,
        step: Option<i64>,
        flush: Option<bool>,
    },
    Summary(u8, f64),
    Config(u8, f64),
    Metric {
        key: u8,
        min: bool,
        step_metric: bool,
    },
    Exit(i32),
    Resume,
    Console(u8),
    Stats(f64),
}

fn key(k: u8) -> String {
    match k % 5 {
        0 => "loss".into(),
        1 => "acc".into(),
        2 => "train.lr".into(),
        3 => "epoch".into(),
        _ => format!("m{k}"),
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (
            prop::collection::vec((0u8..8, prop_oneof![any::<f64>(), -10.0..10.0f64]), 1..4),
            prop::option::of(0i64..40),
            prop::option::of(any::<bool>())
        )
            .prop_map(|(keys, step, flush)| Op::Log { keys, step, flush }),
        1 => (0u8..8, -5.0..5.0f64).prop_map(|(k, x)| Op::Summary(k, x)),
        1 => (0u8..8, -5.0..5.0f64).prop_map(|(k, x)| Op::Config(k, x)),
        1 => (0u8..8, any::<bool>(), any::<bool>()).prop_map(|(key, min, step_metric)| Op::Metric { key, min, step_metric }),
        1 => (0i32..3).prop_map(Op::Exit),
        1 => Just(Op::Resume),
        1 => (0u8..4).prop_map(Op::Console),
        1 => (0.0..100.0f64).prop_map(Op::Stats),
    ]
}

/// Turns ops into records from writers that change on every resume.
fn records(ops: &[Op]) -> Vec<Record> {
    let mut out = Vec::new();
    let mut writer = 1u64;
    let mut seq = 0u64;
    let mut ts = 1_700_000_000_000_000i64;
    let mut push = |writer: u64, seq: &mut u64, payload: Payload| {
        *seq += 1;
        ts += 1_000;
        out.push(Record {
            run_id: RUN.into(),
            writer_id: writer,
            seq: *seq,
            timestamp_us: ts,
            payload: Some(payload),
        });
    };
    push(
        writer,
        &mut seq,
        Payload::RunStart(v1::RunStart {
            project: "p".into(),
            pid: 1,
            ..Default::default()
        }),
    );
    for op in ops {
        let payload = match op {
            Op::Log { keys, step, flush } => Payload::History(v1::PartialHistory {
                items: keys.iter().map(|(k, x)| item(&key(*k), *x)).collect(),
                step: *step,
                flush: *flush,
            }),
            Op::Summary(k, x) => Payload::Summary(v1::SummaryUpdate {
                update: vec![item(&key(*k), *x)],
                remove: vec![],
            }),
            Op::Config(k, x) => Payload::Config(v1::ConfigUpdate {
                update: vec![item(&key(*k), *x)],
                remove: vec![],
            }),
            Op::Metric {
                key: k,
                min,
                step_metric,
            } => Payload::Metric(v1::MetricDefinition {
                name: key(*k),
                step_metric: if *step_metric {
                    "epoch".into()
                } else {
                    String::new()
                },
                summary: Some(v1::MetricSummary {
                    min: *min,
                    last: true,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            Op::Exit(code) => Payload::Exit(v1::RunExit {
                exit_code: *code,
                crashed: false,
            }),
            Op::Resume => {
                writer += 1;
                seq = 0;
                Payload::RunStart(v1::RunStart {
                    project: "p".into(),
                    pid: 1,
                    resume: v1::ResumeMode::ResumeAllow as i32,
                    ..Default::default()
                })
            }
            Op::Console(n) => Payload::Output(v1::ConsoleOutput {
                stream: 0,
                lines: (0..*n).map(|i| format!("line {i}")).collect(),
            }),
            Op::Stats(x) => Payload::Stats(v1::SystemStats {
                items: vec![item("cpu", *x)],
            }),
        };
        push(writer, &mut seq, payload);
    }
    out
}

/// Everything a query can see of the store.
type Snapshot = (
    Vec<StoredRun>,
    Vec<(Namespace, String, Vec<i64>, Vec<String>)>,
    usize,
);

fn snapshot(store: &Store) -> Snapshot {
    let runs = store.load_runs().unwrap();
    let mut series = Vec::new();
    // Whole series, a step range that cuts through chunks, and a
    // downsampled read.
    let queries = [(None, None, 0), (Some(5), Some(17), 0), (Some(-3), None, 4)];
    for (ns, (min_step, max_step, max_points)) in [Namespace::History, Namespace::Stats]
        .into_iter()
        .flat_map(|ns| queries.map(|q| (ns, q)))
    {
        for s in store
            .history(
                ns,
                &HistoryQuery {
                    run_id: RUN,
                    min_step,
                    max_step,
                    max_points,
                    ..Default::default()
                },
            )
            .unwrap()
        {
            // Debug formatting compares NaN by bits-free text: NaN == NaN.
            let vals = s.values.iter().map(|v| format!("{v:?}")).collect();
            series.push((ns, s.key, s.steps, vals));
        }
    }
    let console = store.console(RUN, 0, usize::MAX).unwrap().len();
    (runs, series, console)
}

#[derive(Debug, Clone)]
struct Schedule {
    /// Records per frame.
    frame_sizes: Vec<usize>,
    /// After frame i: 0 = continue, 1 = commit and restart, 2 = crash
    /// (restart without committing), 3 = append a duplicate of the frame.
    events: Vec<u8>,
    /// Points per history chunk: small limits close chunks often, large
    /// ones make the open chunk's pieces merge.
    chunk_limit: u32,
    /// Commit after every this many frames (besides the events).
    commit_every: usize,
}

fn schedule() -> impl Strategy<Value = Schedule> {
    (
        prop::collection::vec(1usize..6, 1..40),
        prop::collection::vec(
            prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)],
            40,
        ),
        prop_oneof![Just(3u32), Just(7), Just(100), Just(4096)],
    )
        .prop_map(|(frame_sizes, events, chunk_limit)| Schedule {
            frame_sizes,
            events,
            chunk_limit,
            commit_every: 3,
        })
}

/// A fresh applier over the store, as after a daemon restart: everything in
/// memory is gone, only what was committed to sled remains. (The sled handle
/// itself is kept: sled releases its file lock asynchronously on drop.)
/// With small chunk limits, closing chunks and reloading open ones after a
/// restart happen often; with large ones, the open chunk's pieces merge.
fn open(store: &Store, chunk_limit: u32) -> Applier {
    Applier::new(store.clone())
        .unwrap()
        .with_chunk_limit(chunk_limit)
}

fn check(ops: Vec<Op>, sched: Schedule) {
    let recs = records(&ops);
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::new(tmp.path());
    std::fs::create_dir_all(data.run_dir(RUN)).unwrap();
    let mut log = LogWriter::create(&data.run_log(RUN)).unwrap();
    let store = Store::open(&tmp.path().join("store"), 1 << 20).unwrap();
    let mut applier = open(&store, sched.chunk_limit);
    let mut at = 0;
    let mut f = 0;
    while at < recs.len() {
        let n = sched.frame_sizes[f % sched.frame_sizes.len()].min(recs.len() - at);
        let frame = &recs[at..at + n];
        let pos = log.append(&encode_records(frame)).unwrap();
        log.sync().unwrap();
        applier.apply_frame(RUN, pos.end, frame).unwrap();
        match sched.events[f % sched.events.len()] {
            1 => {
                // Commit, check against a rebuild of the log so far (so a
                // damaged open chunk cannot be repaired by a later close
                // before it is seen), then restart.
                applier.commit().unwrap();
                assert_eq!(snapshot(applier.store()), rebuilt_snapshot(&data));
                drop(applier);
                applier = open(&store, sched.chunk_limit);
                catch_up(&mut applier, &data).unwrap();
            }
            2 => {
                // Crash: the uncommitted store writes are lost; recovery
                // replays them from the log.
                drop(applier);
                applier = open(&store, sched.chunk_limit);
                catch_up(&mut applier, &data).unwrap();
            }
            3 => {
                // A re-sent frame: same records again, later in the log.
                let pos = log.append(&encode_records(frame)).unwrap();
                log.sync().unwrap();
                let o = applier.apply_frame(RUN, pos.end, frame).unwrap();
                assert_eq!(o.duplicates, o.records);
            }
            _ => {
                if f % sched.commit_every == 0 {
                    applier.commit().unwrap();
                }
            }
        }
        at += n;
        f += 1;
    }
    applier.commit().unwrap();
    let incremental = snapshot(applier.store());
    drop(applier);

    // Applied positions are the same log offsets; everything must agree.
    assert_eq!(incremental, rebuilt_snapshot(&data));
}

/// What a store rebuilt from scratch from the data dir's logs answers.
fn rebuilt_snapshot(data: &DataDir) -> Snapshot {
    let fresh = tempfile::tempdir().unwrap();
    let mut rebuilt =
        Applier::new(Store::open(&fresh.path().join("store"), 1 << 20).unwrap()).unwrap();
    let report = rebuild(&mut rebuilt, data).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    snapshot(rebuilt.store())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn incremental_apply_with_restarts_equals_a_rebuild_from_scratch(
        ops in prop::collection::vec(op(), 0..60),
        sched in schedule(),
    ) {
        check(ops, sched);
    }
}

fn long_stream() -> Vec<Op> {
    (0..2000)
        .map(|i| match i % 11 {
            // Exit now and then, and resume a little later.
            _ if i % 700 == 699 => Op::Exit(1),
            _ if i % 700 == 20 && i > 700 => Op::Resume,
            0 => Op::Summary((i % 7) as u8, i as f64),
            1 => Op::Metric {
                key: (i % 5) as u8,
                min: i % 2 == 0,
                step_metric: i % 3 == 0,
            },
            2 => Op::Log {
                keys: vec![(0, i as f64)],
                step: Some(i / 3),
                flush: None,
            },
            3 => Op::Console(2),
            4 => Op::Stats(i as f64),
            5 if i % 500 == 250 => Op::Resume,
            _ => Op::Log {
                keys: vec![((i % 8) as u8, i as f64 * 0.5), (3, (i / 10) as f64)],
                step: None,
                flush: None,
            },
        })
        .collect()
}

#[test]
fn a_long_stream_with_every_kind_of_event_equals_a_rebuild() {
    check(
        long_stream(),
        Schedule {
            frame_sizes: vec![1, 7, 64, 3],
            events: vec![0, 0, 1, 0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            chunk_limit: 300,
            commit_every: 3,
        },
    );
}

#[test]
fn a_long_stream_committed_often_without_restarts_merges_pieces_and_equals_a_rebuild() {
    // Many commits between rare restarts: the open chunk's pieces go
    // through both merge levels before it closes.
    let mut events = vec![0u8; 150];
    events[149] = 1;
    check(
        long_stream(),
        Schedule {
            frame_sizes: vec![2, 1, 3],
            events,
            chunk_limit: 4096,
            commit_every: 1,
        },
    );
}
