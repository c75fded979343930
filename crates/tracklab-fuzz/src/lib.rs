//! The properties the fuzz targets check, as plain functions: the cargo-fuzz
//! project in `tests/fuzz` calls them under libFuzzer (`bash tests/fuzz.sh`),
//! and `tests/corpus.rs` replays the committed corpus
//! (`tests/fuzz/corpus/<target>/`) and every crash input found so far
//! (`tests/fuzz/regressions/<target>/`) through them in the default suite.
//!
//! Each takes arbitrary bytes and must return without panicking; where
//! the input decodes, the result must be self-consistent.

use std::io::Write;

use prost::Message;
use tracklab_log::{HEADER_LEN, LogWriter, Tail};
use tracklab_proto::codec::{decode_payload, encode_records};
use tracklab_proto::v1;
use tracklab_state::{RunState, apply, validate};

/// `frame_payload`: a run-log frame's payload (kind byte, then protobuf or
/// LZ4). Decoding never panics; what decodes re-encodes to a payload that
/// decodes to the same records.
pub fn frame_payload(data: &[u8]) {
    if let Ok(batch) = decode_payload(data) {
        let again = encode_records(&batch.records);
        let back = decode_payload(&again).expect("a re-encoded batch decodes");
        assert_eq!(back.records, batch.records);
    }
}

/// `log_file`: bytes after a valid header, as a run log on disk. Scanning
/// and opening for append never panic; frames the scan reports lie inside
/// the file; after `LogWriter::open` cuts a bad tail, the file scans with a
/// clean tail and the same frames before it.
pub fn log_file(data: &[u8]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("run.tlog");
    drop(LogWriter::create(&path).expect("create"));
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("append fuzz bytes");
    let mut before = Vec::new();
    let report = match tracklab_log::scan(&path, HEADER_LEN, |f| {
        assert!(f.offset >= HEADER_LEN && f.end <= HEADER_LEN + data.len() as u64);
        before.push((f.offset, f.payload.to_vec()));
        Ok::<(), std::convert::Infallible>(())
    }) {
        Ok(r) => r,
        Err(_) => return,
    };
    assert!(report.valid_end <= report.file_len);
    let Ok((writer, _)) = LogWriter::open(&path) else {
        return;
    };
    drop(writer);
    let mut after = Vec::new();
    let again = tracklab_log::scan(&path, HEADER_LEN, |f| {
        after.push((f.offset, f.payload.to_vec()));
        Ok::<(), std::convert::Infallible>(())
    })
    .expect("an opened log scans");
    assert!(matches!(again.tail, Tail::Clean), "{again:?}");
    assert_eq!(after, before, "opening keeps every frame the scan found");
}

/// `apply`: bytes as a protobuf `RecordBatch`. Validation never panics;
/// every valid record applies to a run without panicking, and applying the
/// same records again changes nothing (idempotent by writer sequence).
pub fn apply_batch(data: &[u8]) {
    let Ok(batch) = v1::RecordBatch::decode(data) else {
        return;
    };
    let valid: Vec<&v1::Record> = batch
        .records
        .iter()
        .filter(|r| validate::validate_record(r).is_ok())
        .collect();
    let run_id = valid.first().map_or("fuzz", |r| r.run_id.as_str());
    let mut state = RunState::new(run_id);
    for r in valid.iter().filter(|r| r.run_id == run_id) {
        apply(&mut state, r);
    }
    let once = format!("{:?}", state.run_info());
    for r in valid.iter().filter(|r| r.run_id == run_id) {
        apply(&mut state, r);
    }
    assert_eq!(
        format!("{:?}", state.run_info()),
        once,
        "re-applying changed the run"
    );
}
