//! Property tests: any truncation yields exactly a prefix of what was written; any overwritten range never yields a frame that was not written there.

use std::collections::HashMap;
use std::fs;

use proptest::prelude::*;
use proptest::sample::Index;
use tracklab_log::{HEADER_LEN, Tail};

use crate::common::{put, read_log, temp_log, write_log};

fn payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 0..16)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_log_truncated_anywhere_scans_as_exactly_a_prefix_of_its_payloads(
        payloads in payloads(),
        cut in any::<Index>(),
    ) {
        let (_dir, path) = temp_log();
        let positions = write_log(&path, &payloads);
        let full = fs::read(&path).unwrap();
        let cut = HEADER_LEN as usize + cut.index(full.len() - HEADER_LEN as usize + 1);
        put(&path, &full[..cut]);

        let kept = positions.iter().take_while(|pos| pos.end <= cut as u64).count();
        let boundary = positions[..kept].last().map_or(HEADER_LEN, |pos| pos.end);
        let (frames, report) = read_log(&path).unwrap();
        let read: Vec<Vec<u8>> = frames.into_iter().map(|(_, p)| p).collect();
        prop_assert_eq!(&read[..], &payloads[..kept]);
        prop_assert_eq!(report.valid_end, boundary);
        prop_assert!(report.corruptions.is_empty());
        if boundary == cut as u64 {
            prop_assert_eq!(report.tail, Tail::Clean);
        } else {
            prop_assert!(
                matches!(report.tail, Tail::Torn { offset, .. } if offset == boundary),
                "{:?}", report.tail
            );
        }
    }

    #[test]
    fn random_bytes_over_any_range_never_yield_a_frame_that_was_not_written_there(
        payloads in payloads(),
        start in any::<Index>(),
        garbage in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let (_dir, path) = temp_log();
        let positions = write_log(&path, &payloads);
        let mut bytes = fs::read(&path).unwrap();
        let frames_len = bytes.len() - HEADER_LEN as usize;
        prop_assume!(frames_len > 0);
        let start = HEADER_LEN as usize + start.index(frames_len);
        let end = (start + garbage.len()).min(bytes.len());
        bytes[start..end].copy_from_slice(&garbage[..end - start]);
        put(&path, &bytes);

        let written: HashMap<u64, &Vec<u8>> =
            positions.iter().map(|pos| pos.offset).zip(&payloads).collect();
        let (frames, report) = read_log(&path).unwrap();
        for (offset, payload) in &frames {
            prop_assert_eq!(Some(&payload), written.get(offset));
        }
        if frames.len() < payloads.len() {
            prop_assert!(!report.is_clean());
        }
        // Every frame the damage did not touch is still read, before and after it.
        let intact = positions
            .iter()
            .filter(|pos| pos.end as usize <= start || pos.offset as usize >= end)
            .count();
        prop_assert!(frames.len() >= intact, "{} < {}: {}", frames.len(), intact, report);
    }
}
