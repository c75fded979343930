//! Pins format v1 byte for byte, so the format cannot drift from its documentation silently.

use std::fs;

use tracklab_log::{FORMAT_VERSION, FRAME_HEADER_LEN, HEADER_LEN, MAGIC, MAX_FRAME_LEN, Tail};

use crate::common::{put, read_log, temp_log, write_log};

/// A log holding the payloads `b"hello"` and `[0x00, 0x01, 0x02, 0xFF]`.
/// Checksums computed independently with zlib's crc32 (CRC-32/IEEE).
const GOLDEN: [u8; 41] = [
    // header: magic "TRACKLAB"
    0x54, 0x52, 0x41, 0x43, 0x4B, 0x4C, 0x41, 0x42, //
    // version 1, header_crc = crc32(bytes 0..12) = 0x5BCAE496
    0x01, 0x00, 0x00, 0x00, 0x96, 0xE4, 0xCA, 0x5B, //
    // frame at 16: len 5, crc32(05 00 00 00 "hello") = 0x5CAC007A, "hello"
    0x05, 0x00, 0x00, 0x00, 0x7A, 0x00, 0xAC, 0x5C, //
    0x68, 0x65, 0x6C, 0x6C, 0x6F, //
    // frame at 29: len 4, crc32(04 00 00 00 00 01 02 FF) = 0xFF9E36AB, payload
    0x04, 0x00, 0x00, 0x00, 0xAB, 0x36, 0x9E, 0xFF, //
    0x00, 0x01, 0x02, 0xFF,
];

#[test]
fn a_log_with_two_known_frames_is_exactly_the_golden_bytes() {
    let (_dir, path) = temp_log();
    let positions = write_log(&path, &[b"hello".to_vec(), vec![0x00, 0x01, 0x02, 0xFF]]);
    assert_eq!(fs::read(&path).unwrap(), GOLDEN);
    assert_eq!(positions[0].offset, 16);
    assert_eq!(positions[0].end, 29);
    assert_eq!(positions[1].offset, 29);
    assert_eq!(positions[1].end, 41);
}

#[test]
fn the_golden_bytes_scan_back_as_the_two_frames() {
    let (_dir, path) = temp_log();
    put(&path, &GOLDEN);
    let (frames, report) = read_log(&path).unwrap();
    assert_eq!(
        frames,
        vec![(16, b"hello".to_vec()), (29, vec![0x00, 0x01, 0x02, 0xFF])]
    );
    assert_eq!(report.frames, 2);
    assert_eq!(report.valid_end, 41);
    assert_eq!(report.file_len, 41);
    assert_eq!(report.tail, Tail::Clean);
    assert!(report.is_clean());
}

#[test]
fn the_format_constants_are_the_documented_ones() {
    assert_eq!(&MAGIC, b"TRACKLAB");
    assert_eq!(FORMAT_VERSION, 1);
    assert_eq!(HEADER_LEN, 16);
    assert_eq!(FRAME_HEADER_LEN, 8);
    assert_eq!(MAX_FRAME_LEN, 33_554_432);
    assert_eq!(tracklab_log::format::encode_header(), GOLDEN[..16]);
}
