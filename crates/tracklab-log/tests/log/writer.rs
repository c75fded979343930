//! The writer refuses bad payloads and never overwrites an existing file; end and durable_end follow appends and syncs.

use std::fs;

use tracklab_log::{HEADER_LEN, LogError, LogWriter, MAX_FRAME_LEN};

use crate::common::{payloads_of, put, temp_log};

#[test]
fn an_empty_payload_is_refused_and_the_writer_keeps_working() {
    let (_dir, path) = temp_log();
    let mut writer = LogWriter::create(&path).unwrap();
    let err = writer.append(b"").unwrap_err();
    assert!(matches!(err, LogError::EmptyFrame), "{err}");
    assert_eq!(writer.end(), HEADER_LEN);
    assert!(!writer.is_poisoned());
    writer.append(b"fine").unwrap();
    writer.sync().unwrap();
    assert_eq!(payloads_of(&path), vec![b"fine".to_vec()]);
}

#[test]
fn a_payload_one_byte_over_the_limit_is_refused() {
    let (_dir, path) = temp_log();
    let mut writer = LogWriter::create(&path).unwrap();
    let too_big = vec![1u8; MAX_FRAME_LEN as usize + 1];
    let err = writer.append(&too_big).unwrap_err();
    assert!(
        matches!(err, LogError::FrameTooLarge { len } if len == too_big.len()),
        "{err}"
    );
    assert!(err.to_string().contains("split it"), "{err}");
    assert_eq!(writer.end(), HEADER_LEN);
    writer.sync().unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), HEADER_LEN);
}

#[test]
fn create_refuses_an_existing_file_and_leaves_it_untouched() {
    let (_dir, path) = temp_log();
    put(&path, b"someone else's precious data");
    let err = LogWriter::create(&path).unwrap_err();
    assert!(matches!(err, LogError::AlreadyExists { .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()));
    assert_eq!(fs::read(&path).unwrap(), b"someone else's precious data");
}

#[test]
fn create_in_a_missing_directory_is_an_io_error_naming_the_path() {
    let (dir, _) = temp_log();
    let path = dir.path().join("no-such-dir").join("run.log");
    let err = LogWriter::create(&path).unwrap_err();
    assert!(matches!(err, LogError::Io { op: "create", .. }), "{err}");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn end_moves_on_append_and_durable_end_only_on_sync() {
    let (_dir, path) = temp_log();
    let mut writer = LogWriter::create(&path).unwrap();
    assert_eq!(writer.path(), path);
    assert_eq!((writer.end(), writer.durable_end()), (16, 16));
    let first = writer.append(b"abc").unwrap();
    assert_eq!((first.offset, first.end), (16, 27));
    assert_eq!((writer.end(), writer.durable_end()), (27, 16));
    writer.sync().unwrap();
    assert_eq!((writer.end(), writer.durable_end()), (27, 27));
    assert_eq!(fs::metadata(&path).unwrap().len(), 27);
    // A sync with nothing new is a no-op.
    writer.sync().unwrap();
    assert_eq!(writer.durable_end(), 27);
}

#[test]
fn frames_never_synced_may_be_lost_but_synced_ones_survive_a_dropped_writer() {
    let (_dir, path) = temp_log();
    let mut writer = LogWriter::create(&path).unwrap();
    writer.append(b"synced").unwrap();
    writer.sync().unwrap();
    writer.append(b"buffered only").unwrap();
    drop(writer);
    let (writer, report) = LogWriter::open(&path).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(payloads_of(&path), vec![b"synced".to_vec()]);
    assert_eq!(writer.end(), 16 + 8 + 6);
}
