//! Payload of a run-log frame: the records of one batch for one run.
//!
//! Frame payload format, version 1. Byte 0 is the payload kind:
//!
//! | kind | rest of the payload |
//! |---|---|
//! | `0x01` | protobuf `tracklab.v1.RecordBatch` |
//! | `0x02` | `raw_len: u32 LE` (≤ [`MAX_RAW_LEN`]), then an LZ4 block (lz4_flex) that decompresses to exactly `raw_len` bytes of protobuf `RecordBatch` |
//!
//! Writers use `0x02` when it is smaller (repeated key names compress
//! well), else `0x01`. Readers refuse unknown kinds with an error naming the
//! kind, and check `raw_len` before allocating.

use crate::v1::{Record, RecordBatch};
use prost::Message;

/// Payload kind byte of a protobuf `RecordBatch`.
pub const PAYLOAD_RECORD_BATCH: u8 = 0x01;
/// Payload kind byte of an LZ4-compressed `RecordBatch`.
pub const PAYLOAD_RECORD_BATCH_LZ4: u8 = 0x02;
/// Largest decompressed batch a reader accepts.
pub const MAX_RAW_LEN: usize = 64 << 20;
/// Batches smaller than this are stored uncompressed.
const COMPRESS_FROM: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("frame payload is empty")]
    Empty,
    #[error(
        "frame payload kind {0:#04x} is unknown to this version of tracklab; upgrade tracklab to read it"
    )]
    UnknownKind(u8),
    #[error("compressed frame payload claims {0} bytes, more than the limit of {MAX_RAW_LEN}")]
    TooLarge(usize),
    #[error("compressed frame payload does not decompress: {0}")]
    Decompress(String),
    #[error("frame payload does not decode as a RecordBatch: {0}")]
    Decode(#[from] prost::DecodeError),
}

/// Encodes records as one frame payload (without copying them into a batch).
pub fn encode_records<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<u8> {
    let mut raw = Vec::with_capacity(256);
    for r in records {
        prost::encoding::message::encode(1, r, &mut raw);
    }
    if raw.len() >= COMPRESS_FROM {
        let packed = lz4_flex::block::compress(&raw);
        if packed.len() + 4 < raw.len() {
            let mut out = Vec::with_capacity(packed.len() + 5);
            out.push(PAYLOAD_RECORD_BATCH_LZ4);
            out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
            out.extend_from_slice(&packed);
            return out;
        }
    }
    let mut out = Vec::with_capacity(raw.len() + 1);
    out.push(PAYLOAD_RECORD_BATCH);
    out.extend_from_slice(&raw);
    out
}

pub fn decode_payload(payload: &[u8]) -> Result<RecordBatch, PayloadError> {
    match payload.first() {
        None => Err(PayloadError::Empty),
        Some(&PAYLOAD_RECORD_BATCH) => Ok(RecordBatch::decode(&payload[1..])?),
        Some(&PAYLOAD_RECORD_BATCH_LZ4) => {
            let len_bytes: [u8; 4] = payload
                .get(1..5)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| PayloadError::Decompress("length is missing".into()))?;
            let raw_len = u32::from_le_bytes(len_bytes) as usize;
            if raw_len > MAX_RAW_LEN {
                return Err(PayloadError::TooLarge(raw_len));
            }
            let mut raw = vec![0u8; raw_len];
            let n = lz4_flex::block::decompress_into(&payload[5..], &mut raw)
                .map_err(|e| PayloadError::Decompress(e.to_string()))?;
            if n != raw_len {
                return Err(PayloadError::Decompress(format!(
                    "decompressed to {n} bytes, expected {raw_len}"
                )));
            }
            Ok(RecordBatch::decode(raw.as_slice())?)
        }
        Some(&k) => Err(PayloadError::UnknownKind(k)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{self, record::Payload};

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| Record {
                run_id: "r".into(),
                writer_id: 7,
                seq: i as u64 + 1,
                timestamp_us: 1_700_000_000_000_000 + i as i64,
                payload: Some(Payload::History(v1::PartialHistory {
                    items: vec![v1::Item {
                        path: vec!["train/loss".into()],
                        value: Some(v1::Value {
                            kind: Some(v1::value::Kind::Float(i as f64)),
                        }),
                    }],
                    step: None,
                    flush: None,
                })),
            })
            .collect()
    }

    #[test]
    fn small_batches_stay_plain_and_large_ones_are_compressed_and_both_decode() {
        for n in [1, 200] {
            let recs = records(n);
            let payload = encode_records(&recs);
            let kind = if n == 1 {
                PAYLOAD_RECORD_BATCH
            } else {
                PAYLOAD_RECORD_BATCH_LZ4
            };
            assert_eq!(payload[0], kind);
            assert_eq!(decode_payload(&payload).unwrap().records, recs);
        }
    }

    #[test]
    fn damaged_or_hostile_payloads_are_errors_not_panics_or_huge_allocations() {
        let good = encode_records(&records(200));
        assert!(matches!(decode_payload(&[]), Err(PayloadError::Empty)));
        assert!(matches!(
            decode_payload(&[0x7f, 1]),
            Err(PayloadError::UnknownKind(0x7f))
        ));
        let mut huge = vec![PAYLOAD_RECORD_BATCH_LZ4];
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            decode_payload(&huge),
            Err(PayloadError::TooLarge(_))
        ));
        for cut in 0..good.len() {
            assert!(decode_payload(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = good.clone();
        flipped[40] ^= 0xff;
        let _ = decode_payload(&flipped);
    }
}
