//! A downsampled history read (counted from chunk headers, then decoded
//! once through the streaming downsampler) gives exactly what reading every
//! point of the range and downsampling it in memory gives, over many
//! chunks, ranges that cut chunks, gaps in steps and mixed value kinds.

use tracklab_proto::v1::{self, Record, record::Payload, value::Kind};
use tracklab_store::history::{HistoryQuery, downsample};
use tracklab_store::{Applier, Namespace, Store};

fn rec(seq: u64, payload: Payload) -> Record {
    Record {
        run_id: "r".into(),
        writer_id: 1,
        seq,
        timestamp_us: 1_700_000_000_000_000 + seq as i64,
        payload: Some(payload),
    }
}

#[test]
fn downsampled_reads_equal_full_reads_downsampled() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("store"), 8 << 20).unwrap();
    // Small chunks, so that a few thousand points span many of them.
    let mut applier = Applier::new(store.clone()).unwrap().with_chunk_limit(37);
    let start = Payload::RunStart(v1::RunStart {
        project: "p".into(),
        ..Default::default()
    });
    applier.apply_frame("r", 1, &[rec(1, start)]).unwrap();
    for i in 0..3000i64 {
        let seq = 2 + i as u64;
        let kind = match i % 97 {
            0 => Kind::Str(format!("s{i}")),
            1 => Kind::Float(f64::NAN),
            2 => Kind::Int(i),
            _ => Kind::Float(((i as f64) / 50.0).sin() * (i % 13) as f64),
        };
        let row = Payload::History(v1::PartialHistory {
            items: vec![v1::Item {
                path: vec!["m".into()],
                value: Some(v1::Value { kind: Some(kind) }),
            }],
            // Gaps: steps jump by 1 or 3.
            step: Some(i * 2 + i % 2),
            flush: Some(true),
        });
        applier.apply_frame("r", seq, &[rec(seq, row)]).unwrap();
        if i % 500 == 499 {
            applier.commit().unwrap();
        }
    }
    // Leave part of the series in the open chunk.
    applier.commit().unwrap();

    let keys = vec!["m".to_string()];
    let read = |min_step, max_step, max_points| {
        let q = HistoryQuery {
            run_id: "r",
            keys: &keys,
            min_step,
            max_step,
            max_points,
        };
        store
            .history(Namespace::History, &q)
            .unwrap()
            .pop()
            .unwrap()
    };
    let ranges = [
        (None, None),
        (Some(100), None),
        (None, Some(4321)),
        (Some(75), Some(76)),
        (Some(1001), Some(5003)),
        (Some(-10), Some(3)),
        (Some(6500), None),
    ];
    let mut compared = 0;
    for (lo, hi) in ranges {
        let full = read(lo, hi, 0);
        for max_points in [1, 2, 3, 4, 5, 10, 101, 2000, 5000] {
            let got = read(lo, hi, max_points);
            let mut want = full.clone();
            downsample(&mut want, max_points);
            assert_eq!(
                got.steps, want.steps,
                "range {lo:?}..={hi:?}, max {max_points}"
            );
            assert_eq!(
                format!("{:?}", got.values),
                format!("{:?}", want.values),
                "range {lo:?}..={hi:?}, max {max_points}"
            );
            assert_eq!(got.total_points, full.steps.len() as u64);
            compared += 1;
        }
    }
    assert_eq!(compared, ranges.len() * 9);
    let all = read(None, None, 0).steps;
    let want: Vec<i64> = (0..3000).map(|i| i * 2 + i % 2).collect();
    let missing: Vec<&i64> = want.iter().filter(|s| !all.contains(s)).collect();
    assert!(missing.is_empty(), "missing steps {missing:?}");
}
