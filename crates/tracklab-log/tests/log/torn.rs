//! Torn tails (a write cut off by a crash) are reported at the last valid frame, cut by `open`, and appending resumes cleanly.

use std::fs;

use tracklab_log::{HEADER_LEN, LogError, LogWriter, Tail, TornReason, format::encode_header};

use crate::common::{payload, payloads_of, put, read_log, temp_log, write_log};

#[test]
fn a_log_cut_at_every_byte_inside_its_last_frame_is_torn_there_and_open_resumes_after_it() {
    let (_dir, path) = temp_log();
    let payloads: Vec<Vec<u8>> = (0..4).map(|i| payload(i, 10 + 7 * i as usize)).collect();
    let positions = write_log(&path, &payloads);
    let full = fs::read(&path).unwrap();
    let last = positions[3];

    for cut in last.offset + 1..last.end {
        put(&path, &full[..cut as usize]);
        let (frames, report) = read_log(&path).unwrap();
        let expected_reason = if cut - last.offset < 8 {
            TornReason::IncompleteFrameHeader {
                available: cut - last.offset,
            }
        } else {
            TornReason::IncompleteFrame {
                len: payloads[3].len() as u32,
                available: cut - last.offset,
            }
        };
        assert_eq!(
            report.tail,
            Tail::Torn {
                offset: last.offset,
                reason: expected_reason
            },
            "cut at {cut}"
        );
        assert!(report.corruptions.is_empty(), "cut at {cut}: {report}");
        assert_eq!(report.valid_end, last.offset);
        assert_eq!(report.file_len, cut);
        let read: Vec<_> = frames.into_iter().map(|(_, p)| p).collect();
        assert_eq!(read, payloads[..3], "cut at {cut}");

        let (mut writer, report) = LogWriter::open(&path).unwrap();
        assert!(matches!(report.tail, Tail::Torn { offset, .. } if offset == last.offset));
        assert_eq!(report.damaged_copy, None);
        assert_eq!(fs::metadata(&path).unwrap().len(), last.offset);
        assert_eq!(writer.end(), last.offset);
        let pos = writer.append(b"after the tear").unwrap();
        assert_eq!(pos.offset, last.offset);
        writer.sync().unwrap();
        drop(writer);

        let (frames, report) = read_log(&path).unwrap();
        assert!(report.is_clean(), "cut at {cut}: {report}");
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[3], (last.offset, b"after the tear".to_vec()));
    }
    // Cutting exactly at a frame boundary is a clean log.
    put(&path, &full[..last.offset as usize]);
    assert_eq!(read_log(&path).unwrap().1.tail, Tail::Clean);
}

#[test]
fn a_zero_filled_tail_is_torn_and_cut_without_keeping_a_copy() {
    let (dir, path) = temp_log();
    let positions = write_log(&path, &[b"one".to_vec(), b"two".to_vec()]);
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0u8; 4096]);
    put(&path, &bytes);

    let (frames, report) = read_log(&path).unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(
        report.tail,
        Tail::Torn {
            offset: positions[1].end,
            reason: TornReason::ZeroFilled { len: 4096 }
        }
    );
    let (_writer, report) = LogWriter::open(&path).unwrap();
    assert_eq!(report.damaged_copy, None);
    assert_eq!(fs::metadata(&path).unwrap().len(), positions[1].end);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no side file");
}

#[test]
fn a_file_shorter_than_the_header_is_reinitialised_by_open() {
    let (_dir, path) = temp_log();
    let header = encode_header();
    let mut prefixes: Vec<Vec<u8>> = (0..HEADER_LEN as usize)
        .map(|len| header[..len].to_vec())
        .collect();
    prefixes.push(vec![0u8; 9]);
    for prefix in prefixes {
        put(&path, &prefix);
        let (mut writer, report) = LogWriter::open(&path).unwrap();
        assert_eq!(
            report.tail,
            Tail::Torn {
                offset: 0,
                reason: TornReason::IncompleteFileHeader {
                    len: prefix.len() as u64
                }
            }
        );
        assert_eq!(report.frames, 0);
        assert_eq!(fs::read(&path).unwrap(), header);
        writer.append(b"first").unwrap();
        writer.sync().unwrap();
        drop(writer);
        assert_eq!(payloads_of(&path), vec![b"first".to_vec()]);
        fs::remove_file(&path).unwrap();
    }
}

#[test]
fn a_short_file_that_is_not_a_partial_header_is_not_overwritten() {
    let (_dir, path) = temp_log();
    put(&path, b"hello");
    let err = LogWriter::open(&path).unwrap_err();
    assert!(matches!(err, LogError::BadMagic { .. }), "{err}");
    assert_eq!(fs::read(&path).unwrap(), b"hello");

    let mut odd = encode_header()[..10].to_vec();
    odd[8] = 9; // magic, then a version that is not ours
    put(&path, &odd);
    let err = LogWriter::open(&path).unwrap_err();
    assert!(
        matches!(err, LogError::ShortHeader { len: 10, .. }),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), odd);
}
