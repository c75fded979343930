//! Helpers shared by the log tests: writing logs, reading them back, and deterministic payloads.

use std::convert::Infallible;
use std::fs;
use std::path::{Path, PathBuf};

use tracklab_log::{FramePos, LogError, LogWriter, ScanError, ScanReport, scan};

/// A fresh temporary directory and a log path inside it.
pub fn temp_log() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("run.log");
    (dir, path)
}

/// Creates a log holding `payloads`, synced once at the end.
pub fn write_log(path: &Path, payloads: &[Vec<u8>]) -> Vec<FramePos> {
    let mut writer = LogWriter::create(path).expect("create the log");
    let positions = payloads
        .iter()
        .map(|payload| writer.append(payload).expect("append"))
        .collect();
    writer.sync().expect("sync");
    positions
}

/// Every frame of a scan as `(offset, payload)`, with the scan's report.
pub type Scanned = (Vec<(u64, Vec<u8>)>, ScanReport);

/// Scans the whole log, collecting `(offset, payload)` for every frame.
pub fn read_log(path: &Path) -> Result<Scanned, LogError> {
    read_from(path, tracklab_log::HEADER_LEN)
}

/// Scans from `from`, collecting `(offset, payload)` for every frame.
pub fn read_from(path: &Path, from: u64) -> Result<Scanned, LogError> {
    let mut frames = Vec::new();
    let report = scan(path, from, |frame| {
        assert_eq!(
            frame.end,
            frame.offset + tracklab_log::FRAME_HEADER_LEN + frame.payload.len() as u64
        );
        frames.push((frame.offset, frame.payload.to_vec()));
        Ok::<(), Infallible>(())
    })
    .map_err(|err: ScanError<Infallible>| LogError::from(err))?;
    Ok((frames, report))
}

/// Just the payloads of a whole-log scan.
pub fn payloads_of(path: &Path) -> Vec<Vec<u8>> {
    read_log(path)
        .expect("scan the log")
        .0
        .into_iter()
        .map(|(_, payload)| payload)
        .collect()
}

/// A deterministic payload of `len` bytes that differs for each `seed`.
pub fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Overwrites the file at `path` with `bytes`.
pub fn put(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).expect("write the test file");
}
