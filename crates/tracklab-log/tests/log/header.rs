//! File header errors: unknown versions, foreign files and damaged headers are refused with errors that name the file and the problem.

use std::fs;

use tracklab_log::{LogError, LogWriter, Tail};

use crate::common::{put, read_log, temp_log, write_log};

/// A header with the given version and a correct checksum, as a future
/// writer of that version might produce.
fn header_with_version(version: u32) -> Vec<u8> {
    let mut header = b"TRACKLAB".to_vec();
    header.extend_from_slice(&version.to_le_bytes());
    let crc = crc32fast::hash(&header);
    header.extend_from_slice(&crc.to_le_bytes());
    header
}

#[test]
fn a_version_2_header_is_rejected_naming_version_2() {
    let (_dir, path) = temp_log();
    let mut bytes = header_with_version(2);
    bytes.extend_from_slice(b"frames of a future format");
    put(&path, &bytes);

    let err = read_log(&path).unwrap_err();
    assert!(
        matches!(
            err,
            LogError::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("version 2"), "{message}");
    assert!(message.contains("upgrade tracklab"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");

    let err = LogWriter::open(&path).unwrap_err();
    assert!(
        matches!(err, LogError::UnsupportedVersion { found: 2, .. }),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), bytes, "open must not touch it");
}

#[test]
fn a_file_without_the_magic_is_rejected_as_not_a_run_log() {
    let (_dir, path) = temp_log();
    let bytes = b"PK\x03\x04 this is a zip file, not a log".to_vec();
    put(&path, &bytes);
    let err = read_log(&path).unwrap_err();
    assert!(matches!(err, LogError::BadMagic { .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()));
    let err = LogWriter::open(&path).unwrap_err();
    assert!(matches!(err, LogError::BadMagic { .. }), "{err}");
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_header_whose_checksum_does_not_match_is_rejected() {
    let (_dir, path) = temp_log();
    write_log(&path, &[b"payload".to_vec()]);
    let mut bytes = fs::read(&path).unwrap();
    bytes[13] ^= 0x01;
    put(&path, &bytes);
    let err = read_log(&path).unwrap_err();
    assert!(matches!(err, LogError::HeaderChecksum { .. }), "{err}");
    let err = LogWriter::open(&path).unwrap_err();
    assert!(matches!(err, LogError::HeaderChecksum { .. }), "{err}");
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_header_only_log_is_clean_with_no_frames() {
    let (_dir, path) = temp_log();
    drop(LogWriter::create(&path).unwrap());
    let (frames, report) = read_log(&path).unwrap();
    assert!(frames.is_empty());
    assert_eq!(report.frames, 0);
    assert_eq!(report.valid_end, 16);
    assert_eq!(report.tail, Tail::Clean);
    let (writer, report) = LogWriter::open(&path).unwrap();
    assert!(report.is_clean());
    assert_eq!(writer.end(), 16);
}

#[test]
fn a_file_shorter_than_the_header_is_refused_by_scan() {
    let (_dir, path) = temp_log();
    put(&path, b"TRACK");
    let err = read_log(&path).unwrap_err();
    assert!(matches!(err, LogError::ShortHeader { len: 5, .. }), "{err}");
}
