//! Reading wandb's offline run files (`run-<id>.wandb`): the LevelDB log
//! format with wandb's 7-byte header (`:W&B`, magic 0xBEE1 LE, version 0),
//! 32 KiB blocks, chunks of `CRC-32/IEEE(type ‖ payload) u32 LE | length
//! u16 LE | type u8` (FULL 1, FIRST 2, MIDDLE 3, LAST 4) that never cross a
//! block, fewer than 7 bytes at a block's end zero-padded
//! (wandb `core/pkg/leveldb/record.go`, `wandb/sdk/internal/datastore.py`).
//! Each record is a `wandb_internal.proto` `Record`; the messages below are
//! the subset the import reads, with wandb's field numbers (fields not
//! listed are skipped by the decoder).
//!
//! A chunk whose checksum does not match, or a record cut short, is
//! reported with its offset and skipped (the rest of its block is
//! unreadable); the records around it are kept.

use prost::Message;

const BLOCK: usize = 32 * 1024;
const CHUNK_HEADER: usize = 7;
pub const HEADER: [u8; 7] = [b':', b'W', b'&', b'B', 0xE1, 0xBE, 0];

#[derive(Clone, PartialEq, Message)]
pub struct Record {
    #[prost(int64, tag = "1")]
    pub num: i64,
    #[prost(message, optional, tag = "2")]
    pub history: Option<HistoryRecord>,
    #[prost(message, optional, tag = "3")]
    pub summary: Option<ItemsRecord>,
    #[prost(message, optional, tag = "4")]
    pub output: Option<OutputRecord>,
    #[prost(message, optional, tag = "5")]
    pub config: Option<ItemsRecord>,
    #[prost(message, optional, tag = "7")]
    pub stats: Option<StatsRecord>,
    #[prost(message, optional, tag = "12")]
    pub metric: Option<MetricRecord>,
    #[prost(message, optional, tag = "13")]
    pub output_raw: Option<OutputRecord>,
    #[prost(message, optional, tag = "17")]
    pub run: Option<RunRecord>,
    #[prost(message, optional, tag = "18")]
    pub exit: Option<RunExitRecord>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    pub fn micros(&self) -> i64 {
        self.seconds * 1_000_000 + i64::from(self.nanos) / 1000
    }
}

/// HistoryItem, ConfigItem, SummaryItem and StatsItem share this shape.
#[derive(Clone, PartialEq, Message)]
pub struct Item {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, repeated, tag = "2")]
    pub nested_key: Vec<String>,
    #[prost(string, tag = "16")]
    pub value_json: String,
}

impl Item {
    pub fn path(&self) -> Vec<String> {
        if self.nested_key.is_empty() {
            vec![self.key.clone()]
        } else {
            self.nested_key.clone()
        }
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct HistoryStep {
    #[prost(int64, tag = "1")]
    pub num: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct HistoryRecord {
    #[prost(message, repeated, tag = "1")]
    pub item: Vec<Item>,
    #[prost(message, optional, tag = "2")]
    pub step: Option<HistoryStep>,
}

/// ConfigRecord and SummaryRecord.
#[derive(Clone, PartialEq, Message)]
pub struct ItemsRecord {
    #[prost(message, repeated, tag = "1")]
    pub update: Vec<Item>,
    #[prost(message, repeated, tag = "2")]
    pub remove: Vec<Item>,
}

/// OutputRecord and OutputRawRecord (`output_type`: STDERR 0, STDOUT 1).
#[derive(Clone, PartialEq, Message)]
pub struct OutputRecord {
    #[prost(int32, tag = "1")]
    pub output_type: i32,
    #[prost(message, optional, tag = "2")]
    pub timestamp: Option<Timestamp>,
    #[prost(string, tag = "3")]
    pub line: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct StatsRecord {
    #[prost(int32, tag = "1")]
    pub stats_type: i32,
    #[prost(message, optional, tag = "2")]
    pub timestamp: Option<Timestamp>,
    #[prost(message, repeated, tag = "3")]
    pub item: Vec<Item>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MetricOptions {
    #[prost(bool, tag = "1")]
    pub step_sync: bool,
    #[prost(bool, tag = "2")]
    pub hidden: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct MetricSummary {
    #[prost(bool, tag = "1")]
    pub min: bool,
    #[prost(bool, tag = "2")]
    pub max: bool,
    #[prost(bool, tag = "3")]
    pub mean: bool,
    #[prost(bool, tag = "4")]
    pub best: bool,
    #[prost(bool, tag = "5")]
    pub last: bool,
    #[prost(bool, tag = "6")]
    pub none: bool,
    #[prost(bool, tag = "8")]
    pub first: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct MetricRecord {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub glob_name: String,
    #[prost(string, tag = "4")]
    pub step_metric: String,
    #[prost(message, optional, tag = "6")]
    pub options: Option<MetricOptions>,
    #[prost(message, optional, tag = "7")]
    pub summary: Option<MetricSummary>,
    /// GOAL_UNSET 0, GOAL_MINIMIZE 1, GOAL_MAXIMIZE 2.
    #[prost(int32, tag = "8")]
    pub goal: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct RunRecord {
    #[prost(string, tag = "1")]
    pub run_id: String,
    #[prost(string, tag = "3")]
    pub project: String,
    #[prost(message, optional, tag = "4")]
    pub config: Option<ItemsRecord>,
    #[prost(message, optional, tag = "5")]
    pub summary: Option<ItemsRecord>,
    #[prost(string, tag = "6")]
    pub run_group: String,
    #[prost(string, tag = "7")]
    pub job_type: String,
    #[prost(string, tag = "8")]
    pub display_name: String,
    #[prost(string, tag = "9")]
    pub notes: String,
    #[prost(string, repeated, tag = "10")]
    pub tags: Vec<String>,
    #[prost(string, tag = "12")]
    pub sweep_id: String,
    #[prost(string, tag = "13")]
    pub host: String,
    #[prost(message, optional, tag = "17")]
    pub start_time: Option<Timestamp>,
}

#[derive(Clone, PartialEq, Message)]
pub struct RunExitRecord {
    #[prost(int32, tag = "1")]
    pub exit_code: i32,
}

/// What reading a file gave: its records and the problems met.
#[derive(Default, Debug)]
pub struct Read {
    pub records: Vec<Record>,
    pub problems: Vec<String>,
}

fn crc(kind: u8, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[kind]);
    h.update(payload);
    h.finalize()
}

/// Parses a whole `.wandb` file; `name` is used in problem reports.
pub fn read(bytes: &[u8], name: &str) -> Result<Read, String> {
    if bytes.len() < HEADER.len() || bytes[..4] != HEADER[..4] {
        return Err(format!(
            "{name} is not a wandb run file (it does not start with \":W&B\")"
        ));
    }
    if bytes[4..6] != HEADER[4..6] || bytes[6] != 0 {
        return Err(format!(
            "{name} has wandb's header but magic {:02x}{:02x} version {}; only version 0 is known",
            bytes[5], bytes[4], bytes[6]
        ));
    }
    let mut out = Read::default();
    let mut pos = HEADER.len();
    let mut pending: Option<(usize, Vec<u8>)> = None;
    while pos < bytes.len() {
        let left_in_block = BLOCK - pos % BLOCK;
        if left_in_block < CHUNK_HEADER {
            pos += left_in_block;
            continue;
        }
        if pos + CHUNK_HEADER > bytes.len() {
            out.problems.push(format!(
                "{name}: torn chunk header at offset {pos} (the file ends)"
            ));
            break;
        }
        let h = &bytes[pos..pos + CHUNK_HEADER];
        let sum = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let len = usize::from(u16::from_le_bytes([h[4], h[5]]));
        let kind = h[6];
        if sum == 0 && len == 0 && kind == 0 {
            // Zero padding: the rest of this block is empty.
            pos += left_in_block;
            continue;
        }
        let start = pos + CHUNK_HEADER;
        if len > left_in_block - CHUNK_HEADER || start + len > bytes.len() {
            out.problems.push(format!(
                "{name}: chunk at offset {pos} runs past its block or the file (torn write); the rest is skipped"
            ));
            break;
        }
        let payload = &bytes[start..start + len];
        if crc(kind, payload) != sum {
            out.problems.push(format!(
                "{name}: checksum mismatch in the chunk at offset {pos}; the rest of its block is skipped"
            ));
            pending = None;
            pos += left_in_block;
            continue;
        }
        pos = start + len;
        let whole = match (kind, pending.take()) {
            (1, prev) => {
                if let Some((at, _)) = prev {
                    out.problems
                        .push(format!("{name}: record at offset {at} never ended"));
                }
                Some((start - CHUNK_HEADER, payload.to_vec()))
            }
            (2, prev) => {
                if let Some((at, _)) = prev {
                    out.problems
                        .push(format!("{name}: record at offset {at} never ended"));
                }
                pending = Some((start - CHUNK_HEADER, payload.to_vec()));
                None
            }
            (3, Some((at, mut buf))) => {
                buf.extend_from_slice(payload);
                pending = Some((at, buf));
                None
            }
            (4, Some((at, mut buf))) => {
                buf.extend_from_slice(payload);
                Some((at, buf))
            }
            (3 | 4, None) => {
                out.problems.push(format!(
                    "{name}: chunk at offset {} continues a record whose start is missing; skipped",
                    start - CHUNK_HEADER
                ));
                None
            }
            (k, _) => {
                out.problems.push(format!(
                    "{name}: unknown chunk type {k} at offset {}; skipped",
                    start - CHUNK_HEADER
                ));
                None
            }
        };
        if let Some((at, data)) = whole {
            match Record::decode(data.as_slice()) {
                Ok(r) => out.records.push(r),
                Err(e) => out.problems.push(format!(
                    "{name}: record at offset {at} is not a wandb Record: {e}"
                )),
            }
        }
    }
    if let Some((at, _)) = pending {
        out.problems.push(format!(
            "{name}: the record at offset {at} is cut short (torn write)"
        ));
    }
    Ok(out)
}

/// Frames records as wandb writes them (for tests of the reader).
#[cfg(test)]
pub fn write(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = HEADER.to_vec();
    for rec in records {
        let mut rest: &[u8] = rec;
        let mut first = true;
        loop {
            let left = BLOCK - out.len() % BLOCK;
            if left < CHUNK_HEADER {
                out.resize(out.len() + left, 0);
                continue;
            }
            let room = left - CHUNK_HEADER;
            let take = rest.len().min(room);
            let last = take == rest.len();
            let kind = match (first, last) {
                (true, true) => 1,
                (true, false) => 2,
                (false, false) => 3,
                (false, true) => 4,
            };
            let (now, later) = rest.split_at(take);
            out.extend_from_slice(&crc(kind, now).to_le_bytes());
            out.extend_from_slice(&(now.len() as u16).to_le_bytes());
            out.push(kind);
            out.extend_from_slice(now);
            rest = later;
            first = false;
            if last {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(num: i64, pad: usize) -> Vec<u8> {
        Record {
            num,
            history: Some(HistoryRecord {
                item: vec![Item {
                    key: "x".repeat(pad),
                    nested_key: vec![],
                    value_json: num.to_string(),
                }],
                step: Some(HistoryStep { num }),
            }),
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn records_across_blocks_come_back_in_order() {
        let recs: Vec<Vec<u8>> = (1..=40)
            .map(|i| rec(i, (i as usize * 977) % 50_000))
            .collect();
        let bytes = write(&recs);
        let got = read(&bytes, "t.wandb").unwrap();
        assert!(got.problems.is_empty(), "{:?}", got.problems);
        assert_eq!(
            got.records.iter().map(|r| r.num).collect::<Vec<_>>(),
            (1..=40).collect::<Vec<_>>()
        );
    }

    #[test]
    fn damage_is_reported_and_skipped_not_misread() {
        let recs: Vec<Vec<u8>> = (1..=200).map(|i| rec(i, 300)).collect();
        let mut bytes = write(&recs);
        bytes[40_000] ^= 0xff; // inside the second block
        let got = read(&bytes, "t.wandb").unwrap();
        assert!(
            got.problems.iter().any(|p| p.contains("checksum")),
            "{:?}",
            got.problems
        );
        let nums: Vec<i64> = got.records.iter().map(|r| r.num).collect();
        assert!(nums.len() < 200 && nums.len() > 100, "{}", nums.len());
        assert!(nums.windows(2).all(|w| w[0] < w[1]));
        // A torn tail.
        let whole = write(&recs);
        let got = read(&whole[..whole.len() - 10], "t.wandb").unwrap();
        assert_eq!(got.records.len(), 199);
        assert!(!got.problems.is_empty());
        assert!(read(b"hello world", "x").is_err());
    }
}
