//! A history read that runs while the applier commits sees whole commits:
//! the points of a series read as a gapless, repeat-free prefix, however
//! the open chunk's pieces are merged meanwhile. (Found by the daemon crash
//! loop: sled's iterators can see part of a batch, so a read across a
//! merge once returned a gap of 512 points.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tracklab_proto::v1::{self, Record, record::Payload};
use tracklab_store::history::HistoryQuery;
use tracklab_store::{Applier, Namespace, Store};

fn record(seq: u64, payload: Payload) -> Record {
    Record {
        run_id: "r".into(),
        writer_id: 1,
        seq,
        timestamp_us: seq as i64,
        payload: Some(payload),
    }
}

fn row(seq: u64) -> Record {
    record(
        seq,
        Payload::History(v1::PartialHistory {
            items: vec![v1::Item {
                path: vec!["v".into()],
                value: Some(v1::Value {
                    kind: Some(v1::value::Kind::Float(seq as f64)),
                }),
            }],
            step: None,
            flush: None,
        }),
    )
}

#[test]
fn reads_see_a_gapless_prefix_while_pieces_merge() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store"), 1 << 20).unwrap();
    let mut applier = Applier::new(store.clone()).unwrap().with_chunk_limit(512);
    let start = record(
        1,
        Payload::RunStart(v1::RunStart {
            project: "p".into(),
            ..Default::default()
        }),
    );
    applier.apply_frame("r", 1, &[start]).unwrap();
    applier.commit().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let store = store.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let keys = ["v".to_string()];
            let mut reads = 0u64;
            while !done.load(Ordering::Relaxed) {
                let q = HistoryQuery {
                    run_id: "r",
                    keys: &keys,
                    ..Default::default()
                };
                let s = &store.history(Namespace::History, &q).unwrap()[0];
                for (i, step) in s.steps.iter().enumerate() {
                    assert_eq!(
                        *step, i as i64,
                        "read {reads}: a gap or repeat at point {i}"
                    );
                }
                reads += 1;
            }
            reads
        })
    };
    // Small commits: a merge of pieces every few commits, a full chunk
    // every 512 points.
    let mut seq = 2;
    for frame in 0..2000u64 {
        let records: Vec<Record> = (0..7)
            .map(|_| {
                seq += 1;
                row(seq - 1)
            })
            .collect();
        applier.apply_frame("r", 2 + frame, &records).unwrap();
        applier.commit().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("every read was a gapless prefix");
    eprintln!("{reads} reads during 2000 commits");
    assert!(reads > 10, "the reader ran ({reads} reads)");
}
