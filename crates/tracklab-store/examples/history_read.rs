//! The cost of reading one long series back: applies N rows of one metric
//! through the applier, then times a downsampled read (≤ 2 000 points, what
//! a chart asks) and a full read, 15 times each, and prints the medians.
//!
//! Usage: cargo run --release -p tracklab-store --example history_read -- [ROWS]

use std::time::Instant;

use tracklab_proto::v1::{self, Record, record::Payload};
use tracklab_store::history::HistoryQuery;
use tracklab_store::{Applier, Namespace, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir()?;
    let store = Store::open(&tmp.path().join("store"), 64 << 20)?;
    let mut applier = Applier::new(store.clone())?;
    let rec = |seq: u64, payload| Record {
        run_id: "r".into(),
        writer_id: 1,
        seq,
        timestamp_us: 1_700_000_000_000_000 + seq as i64 * 1000,
        payload: Some(payload),
    };
    let start = Payload::RunStart(v1::RunStart {
        project: "p".into(),
        ..Default::default()
    });
    applier.apply_frame("r", 1, &[rec(1, start)])?;
    for i in 0..rows {
        let item = v1::Item {
            path: vec!["loss".into()],
            value: Some(v1::Value {
                kind: Some(v1::value::Kind::Float((i as f64 / 1000.0).sin())),
            }),
        };
        let row = Payload::History(v1::PartialHistory {
            items: vec![item],
            step: None,
            flush: None,
        });
        applier.apply_frame("r", 2 + i, &[rec(2 + i, row)])?;
        if i % 4096 == 4095 {
            applier.commit()?;
        }
    }
    applier.commit()?;
    let keys = vec!["loss".to_string()];
    let time = |max_points: usize| -> Result<(f64, usize), Box<dyn std::error::Error>> {
        let mut ms = Vec::new();
        let mut got = 0;
        for _ in 0..15 {
            let t = Instant::now();
            let q = HistoryQuery {
                run_id: "r",
                keys: &keys,
                max_points,
                ..Default::default()
            };
            let s = store.history(Namespace::History, &q)?;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            got = s[0].steps.len();
        }
        ms.sort_by(f64::total_cmp);
        Ok((ms[ms.len() / 2], got))
    };
    let (ds, n) = time(2000)?;
    println!("{rows} points -> {n} (max_points 2000): median {ds:.2} ms");
    let (full, n) = time(0)?;
    println!("{rows} points, full read ({n}): median {full:.2} ms");
    Ok(())
}
