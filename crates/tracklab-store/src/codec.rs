//! Payload of a run-log frame: the records of one batch for one run.
//!
//! Frame payload version 1: byte 0 is the payload kind, `0x01` =
//! protobuf `tracklab.v1.RecordBatch`; the rest is that message. Readers
//! refuse unknown kinds with an error naming the kind.

use prost::Message;
use tracklab_proto::v1::{Record, RecordBatch};

/// Payload kind byte of a protobuf `RecordBatch`.
pub const PAYLOAD_RECORD_BATCH: u8 = 0x01;

#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("frame payload is empty")]
    Empty,
    #[error(
        "frame payload kind {0:#04x} is unknown to this version of tracklab; upgrade tracklab to read it"
    )]
    UnknownKind(u8),
    #[error("frame payload does not decode as a RecordBatch: {0}")]
    Decode(#[from] prost::DecodeError),
}

/// Encodes records as one frame payload (without copying them into a batch).
pub fn encode_records<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    buf.push(PAYLOAD_RECORD_BATCH);
    for r in records {
        prost::encoding::message::encode(1, r, &mut buf);
    }
    buf
}

pub fn decode_payload(payload: &[u8]) -> Result<RecordBatch, PayloadError> {
    match payload.first() {
        None => Err(PayloadError::Empty),
        Some(&PAYLOAD_RECORD_BATCH) => Ok(RecordBatch::decode(&payload[1..])?),
        Some(&k) => Err(PayloadError::UnknownKind(k)),
    }
}
