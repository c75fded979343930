//! Where the store's bytes go: applies N rows of K metrics through the
//! applier (committing every C rows) and prints the apply rate, sled's size
//! on disk per point, and the size of the encoded run state (written at
//! every commit).
//!
//! Usage: cargo run --release -p tracklab-store --example space -- [ROWS] [METRICS] [COMMIT_EVERY]

use tracklab_proto::v1::{self, Record, record::Payload};
use tracklab_store::{Applier, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rows = *args.first().unwrap_or(&200_000);
    let metrics = *args.get(1).unwrap_or(&10);
    let every = *args.get(2).unwrap_or(&100);
    let tmp = tempfile::tempdir()?;
    let store = Store::open(&tmp.path().join("store"), 16 << 20)?;
    let mut applier = Applier::new(store.clone())?;
    let rec = |seq: u64, payload| Record {
        run_id: "r".into(),
        writer_id: 1,
        seq,
        timestamp_us: 1_700_000_000_000_000 + seq as i64 * 1000,
        payload: Some(payload),
    };
    applier.apply_frame(
        "r",
        1,
        &[rec(
            1,
            Payload::RunStart(v1::RunStart {
                project: "p".into(),
                ..Default::default()
            }),
        )],
    )?;
    let names: Vec<String> = (0..metrics).map(|k| format!("metric_{k}")).collect();
    let t = std::time::Instant::now();
    for i in 0..rows {
        let items = names
            .iter()
            .map(|n| v1::Item {
                path: vec![n.clone()],
                value: Some(v1::Value {
                    kind: Some(v1::value::Kind::Float(i as f64 * 1e-3)),
                }),
            })
            .collect();
        applier.apply_frame(
            "r",
            2 + i,
            &[rec(
                2 + i,
                Payload::History(v1::PartialHistory {
                    items,
                    step: None,
                    flush: None,
                }),
            )],
        )?;
        if i % every == every - 1 {
            applier.commit()?;
        }
    }
    applier.commit()?;
    let secs = t.elapsed().as_secs_f64();
    store.flush()?;
    let points = (rows * (metrics + 2)) as f64;
    let disk = store.size_on_disk();
    println!(
        "{rows} rows x {metrics} metrics (+ _step/_runtime/_timestamp) in {secs:.2} s = {:.0} points/s applied",
        points / secs
    );
    println!(
        "sled size_on_disk: {disk} B = {:.1} B/point",
        disk as f64 / points
    );
    let run = store.load_run("r")?.ok_or("run missing")?;
    println!(
        "run state: {} B encoded",
        postcard::to_allocvec(&run)?.len()
    );
    Ok(())
}
