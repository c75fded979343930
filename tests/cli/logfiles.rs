//! `tracklab log verify` and `tracklab log dump` on log files built here
//! byte for byte (fixed records and timestamps), so offsets are stable.

use std::path::Path;

use tracklab_client::v1::{self, Record, record::Payload, value::Kind};
use tracklab_log::{FramePos, LogWriter};
use tracklab_store::codec::encode_records;

use crate::support::{item, redact_dir, tracklab};

const T0: i64 = 1_790_000_000_000_000;

fn rec(seq: u64, payload: Payload) -> Record {
    Record {
        run_id: "run-x".into(),
        writer_id: 0x1111,
        seq,
        timestamp_us: T0 + seq as i64 * 1_000_000,
        payload: Some(payload),
    }
}

/// Writes a five-frame log; returns each frame's position.
fn write_log(path: &Path) -> Vec<FramePos> {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = LogWriter::create(path).unwrap();
    let start = Payload::RunStart(v1::RunStart {
        project: "p".into(),
        name: "x".into(),
        config: vec![item("lr", Kind::Float(0.001))],
        ..Default::default()
    });
    let hist = |s: i64| {
        Payload::History(v1::PartialHistory {
            items: vec![item("loss", Kind::Float(1.0 / (s + 1) as f64))],
            ..Default::default()
        })
    };
    let frames = [
        vec![rec(1, start)],
        vec![rec(2, hist(0)), rec(3, hist(1))],
        vec![rec(4, hist(2)), rec(5, hist(3))],
        vec![rec(6, hist(4))],
        vec![rec(
            7,
            Payload::Exit(v1::RunExit {
                exit_code: 0,
                crashed: false,
            }),
        )],
    ];
    let pos = frames
        .iter()
        .map(|f| w.append(&encode_records(f)).unwrap())
        .collect();
    w.sync().unwrap();
    pos
}

#[test]
fn verify_reports_a_clean_log_a_flipped_byte_and_a_torn_tail_with_offsets() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("logs/run.tlog");
    let pos = write_log(&log);

    let clean = tracklab(tmp.path(), &["log", "verify", log.to_str().unwrap()]);
    assert_eq!(clean.code, 0, "{clean:?}");
    insta::assert_snapshot!("verify_clean", redact_dir(&clean.stdout, tmp.path()));

    // A flipped byte in the payload of the third frame.
    let mut bytes = std::fs::read(&log).unwrap();
    let victim = pos[2].offset as usize + 12;
    bytes[victim] ^= 0x40;
    // And a torn tail: a frame header announcing more than was written.
    let torn_at = bytes.len() as u64;
    bytes.extend_from_slice(&100u32.to_le_bytes());
    bytes.extend_from_slice(&[0xab; 10]);
    std::fs::write(&log, &bytes).unwrap();

    let bad = tracklab(tmp.path(), &["log", "verify", log.to_str().unwrap()]);
    assert_eq!(bad.code, 3, "{bad:?}");
    let text = redact_dir(&bad.stdout, tmp.path());
    assert!(
        text.contains(&format!("damaged frame at offset {}", pos[2].offset)),
        "{text}"
    );
    assert!(
        text.contains(&format!("torn tail at offset {torn_at}")),
        "{text}"
    );
    assert!(text.contains("sequence jumps from 3 to 6"), "{text}");
    insta::assert_snapshot!("verify_damaged", text);

    let js = tracklab(
        tmp.path(),
        &["--json", "log", "verify", log.to_str().unwrap()],
    );
    assert_eq!(js.code, 3);
    let v: serde_json::Value = serde_json::from_str(&js.stdout).unwrap();
    assert_eq!(v[0]["ok"], false);
    assert_eq!(v[0]["problems"].as_array().unwrap().len(), 3, "{v}");
}

#[test]
fn verify_refuses_a_log_from_a_newer_format_and_a_file_that_is_no_log() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("a/run.tlog");
    write_log(&log);
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[8] = 9; // the format version
    std::fs::write(&log, &bytes).unwrap();
    let other = tmp.path().join("b/run.tlog");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    std::fs::write(&other, b"hello, not a log").unwrap();
    let out = tracklab(tmp.path(), &["log", "verify", tmp.path().to_str().unwrap()]);
    assert_eq!(out.code, 3, "{out:?}");
    insta::assert_snapshot!("verify_unreadable", redact_dir(&out.stdout, tmp.path()));
}

#[test]
fn dump_prints_one_line_per_record() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("run.tlog");
    write_log(&log);
    let out = tracklab(tmp.path(), &["log", "dump", log.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    insta::assert_snapshot!("dump", out.stdout);
    let js = tracklab(
        tmp.path(),
        &["--json", "log", "dump", log.to_str().unwrap()],
    );
    let lines: Vec<serde_json::Value> = js
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[1]["kind"], "history");
    assert_eq!(lines[1]["payload"]["items"]["loss"], 1.0);
}
