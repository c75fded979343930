//! Frames written across syncs and reopenings come back byte-identical, in order, at the offsets `append` returned.

use std::fs;

use tracklab_log::{
    FRAME_HEADER_LEN, HEADER_LEN, LogError, LogWriter, MAX_FRAME_LEN, ScanError, Tail, scan,
};

use crate::common::{payload, payloads_of, read_from, read_log, temp_log};

/// Sizes from one byte to past the writer's 1 MiB write-out threshold.
fn varied_len(i: u64) -> usize {
    match i % 7 {
        0 => 1,
        1 => 17,
        2 => 255,
        3 => 1024,
        4 => 4097,
        5 => 65_536,
        _ => 1_200_000 + (i as usize % 3),
    }
}

#[test]
fn frames_of_varied_sizes_appended_across_several_syncs_read_back_identical_after_reopen() {
    let (_dir, path) = temp_log();
    let mut written = Vec::new();
    let mut writer = LogWriter::create(&path).unwrap();
    assert_eq!(writer.end(), HEADER_LEN);
    for i in 0..120u64 {
        let bytes = payload(i, varied_len(i));
        let pos = writer.append(&bytes).unwrap();
        assert_eq!(
            pos.offset,
            written.last().map_or(HEADER_LEN, |&(_, end, _)| end)
        );
        assert_eq!(pos.end, pos.offset + FRAME_HEADER_LEN + bytes.len() as u64);
        assert_eq!(writer.end(), pos.end);
        written.push((pos.offset, pos.end, bytes));
        if i % 13 == 12 {
            writer.sync().unwrap();
            assert_eq!(writer.durable_end(), writer.end());
        }
    }
    writer.sync().unwrap();
    let end = writer.end();
    drop(writer);
    assert_eq!(fs::metadata(&path).unwrap().len(), end);

    let (mut writer, report) = LogWriter::open(&path).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.frames, 120);
    assert_eq!(report.valid_end, end);
    assert_eq!(writer.end(), end);
    assert_eq!(writer.durable_end(), end);
    for i in 120..140u64 {
        let bytes = payload(i, varied_len(i));
        let pos = writer.append(&bytes).unwrap();
        written.push((pos.offset, pos.end, bytes));
    }
    writer.sync().unwrap();
    drop(writer);

    let (frames, report) = read_log(&path).unwrap();
    assert_eq!(report.tail, Tail::Clean);
    assert!(report.corruptions.is_empty());
    assert_eq!(report.frames, 140);
    assert_eq!(frames.len(), written.len());
    for ((offset, bytes), (w_offset, _, w_bytes)) in frames.iter().zip(&written) {
        assert_eq!(offset, w_offset);
        assert!(bytes == w_bytes, "frame at {offset} differs");
    }
}

#[test]
fn scanning_from_a_returned_frame_boundary_yields_only_the_later_frames() {
    let (_dir, path) = temp_log();
    let mut writer = LogWriter::create(&path).unwrap();
    let positions: Vec<_> = (0..10u64)
        .map(|i| writer.append(&payload(i, 100 + i as usize)).unwrap())
        .collect();
    writer.sync().unwrap();
    let (frames, report) = read_from(&path, positions[6].offset).unwrap();
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[0].0, positions[6].offset);
    assert_eq!(frames[0].1, payload(6, 106));
    assert_eq!(report.frames, 4);
    assert_eq!(report.tail, Tail::Clean);

    let (frames, report) = read_from(&path, positions[9].end).unwrap();
    assert!(frames.is_empty());
    assert_eq!(report.valid_end, positions[9].end);
}

#[test]
fn scanning_from_outside_the_frame_area_is_an_error_naming_the_offset() {
    let (_dir, path) = temp_log();
    crate::common::write_log(&path, &[b"one".to_vec()]);
    for from in [0, HEADER_LEN - 1, 1000] {
        let err = read_from(&path, from).unwrap_err();
        assert!(
            matches!(err, LogError::OffsetOutOfRange { from: f, file_len: 27, .. } if f == from),
            "{err}"
        );
        assert!(err.to_string().contains(&format!("offset {from}")), "{err}");
    }
}

#[test]
fn a_callback_error_stops_the_scan_and_is_returned() {
    let (_dir, path) = temp_log();
    crate::common::write_log(&path, &[b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    let mut seen = Vec::new();
    let result = scan(&path, HEADER_LEN, |frame| {
        seen.push(frame.payload.to_vec());
        if frame.payload == b"b" {
            Err("cannot apply b")
        } else {
            Ok(())
        }
    });
    assert!(matches!(result, Err(ScanError::Callback("cannot apply b"))));
    assert_eq!(seen, vec![b"a".to_vec(), b"b".to_vec()]);
}

#[test]
fn a_frame_of_exactly_the_maximum_length_round_trips() {
    let (_dir, path) = temp_log();
    let mut big = vec![0x5A; MAX_FRAME_LEN as usize];
    big[0] = 1;
    big[MAX_FRAME_LEN as usize - 1] = 2;
    let mut writer = LogWriter::create(&path).unwrap();
    writer.append(&big).unwrap();
    writer.append(b"after").unwrap();
    writer.sync().unwrap();
    drop(writer);
    let payloads = payloads_of(&path);
    assert_eq!(payloads.len(), 2);
    assert!(payloads[0] == big);
    assert_eq!(payloads[1], b"after");
}
