//! Replays the committed fuzz corpus and every crash input found so far
//! through the fuzz checks, plus seeds built here from real encodings (so
//! the valid paths run even without a corpus). `cargo test -p tracklab-fuzz
//! -- --ignored write_seeds` writes the seeds into the corpus directories.

use std::path::{Path, PathBuf};

use tracklab_log::LogWriter;
use tracklab_proto::codec::encode_records;
use tracklab_proto::v1::{self, record::Payload};

type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 3] = [
    ("frame_payload", tracklab_fuzz::frame_payload),
    ("log_file", tracklab_fuzz::log_file),
    ("apply", tracklab_fuzz::apply_batch),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz")
}

fn record(seq: u64, payload: Payload) -> v1::Record {
    v1::Record {
        run_id: "seed".into(),
        writer_id: 7,
        seq,
        timestamp_us: 1_000 + seq as i64,
        payload: Some(payload),
    }
}

fn item(key: &str, kind: v1::value::Kind) -> v1::Item {
    v1::Item {
        path: vec![key.into()],
        value: Some(v1::Value { kind: Some(kind) }),
    }
}

fn seed_records() -> Vec<v1::Record> {
    use v1::value::Kind;
    let mut recs = vec![record(
        1,
        Payload::RunStart(v1::RunStart {
            project: "p".into(),
            config: vec![item("lr", Kind::Float(0.1))],
            ..Default::default()
        }),
    )];
    for s in 0..20u64 {
        recs.push(record(
            s + 2,
            Payload::History(v1::PartialHistory {
                items: vec![
                    item("loss", Kind::Float(1.0 / (s + 1) as f64)),
                    item("n", Kind::Int(s as i64)),
                ],
                step: (s % 3 == 0).then_some(s as i64),
                flush: None,
            }),
        ));
    }
    recs.push(record(
        22,
        Payload::Exit(v1::RunExit {
            exit_code: 0,
            crashed: false,
        }),
    ));
    recs
}

/// (target, name, bytes) seeds from real encodings.
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let recs = seed_records();
    let payload = encode_records(&recs);
    let small = encode_records(&recs[..3]);
    let batch = prost::Message::encode_to_vec(&v1::RecordBatch {
        records: recs.clone(),
    });
    // A log's frames (without its header): two frames, then a torn third.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.tlog");
    let mut w = LogWriter::create(&path).unwrap();
    w.append(&small).unwrap();
    w.append(&payload).unwrap();
    w.sync().unwrap();
    drop(w);
    let file = std::fs::read(&path).unwrap();
    let frames = file[tracklab_log::HEADER_LEN as usize..].to_vec();
    let mut torn = frames.clone();
    torn.extend_from_slice(&frames[..frames.len() / 3]);
    vec![
        ("frame_payload", "seed-batch".into(), payload.clone()),
        ("frame_payload", "seed-small".into(), small),
        ("log_file", "seed-frames".into(), frames),
        ("log_file", "seed-torn".into(), torn),
        ("apply", "seed-run".into(), batch),
    ]
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn seeds_pass_every_check() {
    for (target, _, bytes) in seeds() {
        let check = TARGETS.iter().find(|(t, _)| *t == target).unwrap().1;
        check(&bytes);
        // Every prefix too: truncations are the commonest damage.
        for cut in (0..bytes.len()).step_by(7) {
            check(&bytes[..cut]);
        }
    }
}

#[test]
fn the_committed_corpus_and_crash_inputs_pass_every_check() {
    let mut n = 0;
    for (target, check) in TARGETS {
        for kind in ["corpus", "regressions"] {
            for f in files(&fuzz_dir().join(kind).join(target)) {
                let bytes = std::fs::read(&f).unwrap();
                check(&bytes);
                n += 1;
            }
        }
    }
    eprintln!("{n} committed fuzz inputs replayed");
}

#[test]
#[ignore = "writes the seeds into tests/fuzz/corpus"]
fn write_seeds() {
    for (target, name, bytes) in seeds() {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
