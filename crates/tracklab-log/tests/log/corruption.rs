//! Damage is never silent and never yields wrong bytes: bit flips, zeroed pages and damaged tails are reported with their offsets.

use std::collections::HashMap;
use std::fs;

use tracklab_log::{CorruptionKind, LogError, LogWriter, Tail};

use crate::common::{payload, put, read_log, temp_log, write_log};

#[test]
fn every_single_bit_flip_is_detected_and_never_yields_wrong_data() {
    let (dir, path) = temp_log();
    let payloads = vec![
        b"alpha".to_vec(),
        b"b".to_vec(),
        b"a somewhat longer third payload".to_vec(),
        vec![0u8; 3],
    ];
    let positions = write_log(&path, &payloads);
    let original = fs::read(&path).unwrap();
    let written: HashMap<u64, &Vec<u8>> = positions
        .iter()
        .map(|pos| pos.offset)
        .zip(&payloads)
        .collect();
    let copy = dir.path().join("copy.log");

    for bit in 0..original.len() * 8 {
        let mut bytes = original.clone();
        bytes[bit / 8] ^= 1 << (bit % 8);
        put(&path, &bytes);

        match read_log(&path) {
            Err(err) => {
                assert!(
                    bit < 16 * 8,
                    "bit {bit}: frame damage must not be an error: {err}"
                );
                assert!(
                    matches!(
                        err,
                        LogError::BadMagic { .. }
                            | LogError::UnsupportedVersion { .. }
                            | LogError::HeaderChecksum { .. }
                    ),
                    "bit {bit}: {err}"
                );
                assert!(LogWriter::open(&path).is_err(), "bit {bit}");
            }
            Ok((frames, report)) => {
                assert!(bit >= 16 * 8, "bit {bit}: header damage went unnoticed");
                assert!(!report.is_clean(), "bit {bit}: damage went unnoticed");
                assert!(frames.len() < payloads.len(), "bit {bit}");
                for (offset, bytes) in &frames {
                    assert_eq!(
                        Some(&bytes),
                        written.get(offset),
                        "bit {bit}: wrong data at offset {offset}"
                    );
                }

                // Recovery keeps every frame the scan found and leaves a
                // log that ends cleanly.
                put(&copy, &bytes);
                let (mut writer, _) = LogWriter::open(&copy).unwrap();
                writer.append(b"appended after recovery").unwrap();
                writer.sync().unwrap();
                drop(writer);
                let (after, report) = read_log(&copy).unwrap();
                assert_eq!(report.tail, Tail::Clean, "bit {bit}: {report}");
                assert_eq!(after[..frames.len()], frames[..], "bit {bit}");
                assert_eq!(after.len(), frames.len() + 1, "bit {bit}");
                for side in fs::read_dir(dir.path()).unwrap() {
                    let side = side.unwrap().path();
                    if side != path && side != copy {
                        fs::remove_file(side).unwrap();
                    }
                }
            }
        }
    }
}

#[test]
fn a_zeroed_page_in_the_middle_is_reported_at_its_offset_and_the_later_frames_are_still_read() {
    let (_dir, path) = temp_log();
    let payloads: Vec<Vec<u8>> = (0..200).map(|i| payload(i, 1000)).collect();
    let positions = write_log(&path, &payloads);
    let mut bytes = fs::read(&path).unwrap();
    let page = 40_960..40_960 + 4096;
    bytes[page.clone()].fill(0);
    put(&path, &bytes);

    let hit = |i: &usize| {
        let pos = positions[*i];
        pos.offset < page.end as u64 && pos.end > page.start as u64
    };
    let first_hit = (0..positions.len()).find(hit).unwrap();
    let resumed = (0..positions.len())
        .find(|i| positions[*i].offset >= page.end as u64)
        .unwrap();

    let (frames, report) = read_log(&path).unwrap();
    assert_eq!(report.tail, Tail::Clean, "{report}");
    assert_eq!(report.corruptions.len(), 1, "{report}");
    let corruption = report.corruptions[0];
    assert_eq!(corruption.offset, positions[first_hit].offset);
    assert_eq!(corruption.resumed_at, Some(positions[resumed].offset));
    assert!(matches!(
        corruption.kind,
        CorruptionKind::ChecksumMismatch { .. } | CorruptionKind::LengthOutOfBounds { len: 0 }
    ));
    assert!(
        report
            .to_string()
            .contains(&format!("offset {}", corruption.offset))
    );

    let expected: Vec<(u64, Vec<u8>)> = (0..payloads.len())
        .filter(|i| !hit(i))
        .map(|i| (positions[i].offset, payloads[i].clone()))
        .collect();
    assert_eq!(frames, expected);
    assert_eq!(frames.last().unwrap().0, positions[199].offset);

    // open leaves damage in the middle in place and appends after the end.
    let (writer, report) = LogWriter::open(&path).unwrap();
    assert_eq!(report.corruptions.len(), 1);
    assert_eq!(writer.end(), positions[199].end);
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_damaged_last_frame_is_cut_by_open_and_its_bytes_are_kept_in_a_side_file() {
    let (dir, path) = temp_log();
    let payloads: Vec<Vec<u8>> = (0..5).map(|i| payload(i, 300)).collect();
    let positions = write_log(&path, &payloads);
    let last = positions[4];
    let mut bytes = fs::read(&path).unwrap();
    bytes[last.offset as usize + 8 + 100] ^= 0x20;

    for attempt in 0..2 {
        put(&path, &bytes);
        let (frames, report) = read_log(&path).unwrap();
        assert_eq!(frames.len(), 4);
        assert!(matches!(
            report.tail,
            Tail::Damaged {
                offset,
                kind: CorruptionKind::ChecksumMismatch { .. }
            } if offset == last.offset
        ));

        let (mut writer, report) = LogWriter::open(&path).unwrap();
        let side_name = match attempt {
            0 => format!("run.log.damaged-{}", last.offset),
            _ => format!("run.log.damaged-{}.1", last.offset),
        };
        let side = dir.path().join(side_name);
        assert_eq!(report.damaged_copy.as_deref(), Some(side.as_path()));
        assert_eq!(fs::read(&side).unwrap(), bytes[last.offset as usize..]);
        assert_eq!(fs::metadata(&path).unwrap().len(), last.offset);
        assert!(report.to_string().contains(&side.display().to_string()));

        writer.append(b"resent").unwrap();
        writer.sync().unwrap();
        drop(writer);
        let (frames, report) = read_log(&path).unwrap();
        assert!(report.is_clean());
        assert_eq!(frames[4], (last.offset, b"resent".to_vec()));
    }
}

#[test]
fn garbage_after_the_last_frame_is_a_damaged_tail_not_a_torn_one() {
    let (dir, path) = temp_log();
    let positions = write_log(&path, &[b"kept".to_vec()]);
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0xFF; 64]);
    put(&path, &bytes);
    let (_, report) = read_log(&path).unwrap();
    assert_eq!(
        report.tail,
        Tail::Damaged {
            offset: positions[0].end,
            kind: CorruptionKind::LengthOutOfBounds { len: u32::MAX }
        }
    );
    let (_writer, report) = LogWriter::open(&path).unwrap();
    let side = dir
        .path()
        .join(format!("run.log.damaged-{}", positions[0].end));
    assert_eq!(report.damaged_copy, Some(side.clone()));
    assert_eq!(fs::read(side).unwrap(), vec![0xFF; 64]);
}
