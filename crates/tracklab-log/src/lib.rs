//! The TrackLab run log: one append-only file per run, the source of truth, made of checksummed, length-prefixed frames.
//!
//! The daemon appends frames with a [`LogWriter`] (one writer per file),
//! makes them durable with [`LogWriter::sync`] (group commit is the daemon's
//! business: it calls `sync` once for many appends, on its WAL thread), and
//! on restart replays a file with [`scan`]. Payloads are opaque byte strings
//! (protobuf `RecordBatch`es); this crate never decodes them. All operations
//! are synchronous file IO.
//!
//! # Promises
//!
//! - **Ack means durable.** [`LogWriter::sync`] returns Ok only after
//!   fdatasync succeeded; [`LogWriter::durable_end`] is the offset it covers.
//!   A failed write or fdatasync poisons the writer: every later call errors
//!   and the fsync is never retried.
//! - **Corruption is never silent.** Every frame is length-prefixed and
//!   checksummed. A torn tail is reported ([`Tail::Torn`]) and cut by
//!   [`LogWriter::open`]; damage in the middle of a file is reported with
//!   its offset ([`Corruption`]) and skipped past; a damaged tail is copied
//!   aside before it is cut. No invalid bytes are ever passed on as a frame.
//! - **Lengths are bounded before they are trusted.** A decoded length is
//!   checked against [`MAX_FRAME_LEN`] and the file length before any byte is
//!   read or allocated on its behalf; a scan holds at most one frame plus a
//!   1 MiB read chunk in memory.
//!
//! # FORMAT
//!
//! Format version 1. All integers are little-endian. The checksum is
//! CRC-32/IEEE (polynomial 0x04C11DB7, reflected, init and final XOR
//! 0xFFFFFFFF: what `crc32fast::hash` computes, the same as zlib's `crc32`).
//! This is *not* CRC-32C.
//!
//! A file is a 16-byte header followed by frames, back to back, with no
//! padding and no trailer:
//!
//! | offset | size | field        | value                                                    |
//! |--------|------|--------------|----------------------------------------------------------|
//! | 0      | 8    | `magic`      | `b"TRACKLAB"` (`54 52 41 43 4B 4C 41 42`)                 |
//! | 8      | 4    | `version`    | u32 LE, `1` ([`FORMAT_VERSION`])                          |
//! | 12     | 4    | `header_crc` | u32 LE, CRC-32 of bytes 0..12 (magic and version)         |
//!
//! Each frame, starting at offset 16 or right after the previous frame:
//!
//! | offset | size  | field     | value                                                              |
//! |--------|-------|-----------|--------------------------------------------------------------------|
//! | 0      | 4     | `len`     | u32 LE, payload length, `1..=MAX_FRAME_LEN` (32 MiB = 33554432)     |
//! | 4      | 4     | `crc`     | u32 LE, CRC-32 of the 4 `len` bytes followed by the `len` payload bytes |
//! | 8      | `len` | `payload` | the bytes given to [`LogWriter::append`]                            |
//!
//! A frame is valid when `len` is in bounds, the whole frame lies inside the
//! file, and `crc` matches. A zero `len` is never written, so zero-filled
//! space (allocated but unwritten) never looks like a frame. Offsets in this
//! API ([`Frame::offset`], [`FramePos`], [`ScanReport::valid_end`]) are byte
//! offsets from the start of the file.
//!
//! Readers check the header in this order: magic ([`LogError::BadMagic`]),
//! version ([`LogError::UnsupportedVersion`], naming the version found; a
//! newer format may change the header, so its checksum is not judged), then
//! `header_crc` ([`LogError::HeaderChecksum`]). A file shorter than 16 bytes
//! is [`LogError::ShortHeader`]. A format change bumps `version`; a newer
//! reader keeps reading older versions.
//!
//! # Recovery rules
//!
//! [`scan`] validates frames one after another. At a frame that fails
//! (fewer than 8 bytes left, `len` out of bounds, frame running past the end
//! of the file, checksum mismatch) it searches forward one byte at a time for
//! the next offset where a complete frame is valid. Candidates whose `len`
//! is out of bounds or does not fit in the file are rejected before any
//! checksum is computed.
//!
//! - A valid frame is found: the damage is recorded as a [`Corruption`]
//!   (offset, [`CorruptionKind`], where the scan resumed) and scanning
//!   continues there.
//! - None is found and the failing frame was incomplete (the file ends
//!   inside it), or everything from its offset to the end is zero bytes:
//!   [`Tail::Torn`], an interrupted write of frames that were never acked.
//! - None is found otherwise: [`Tail::Damaged`].
//!
//! [`ScanReport::valid_end`] is the end of the last valid frame, where
//! [`LogWriter::open`] cuts the file and resumes appending. [`scan`] itself
//! never modifies a file, so it may read a log that is being appended to
//! (the frame being written shows as a torn tail).
//!
//! The forward search costs one length check per byte of damage, plus a
//! checksum for each candidate whose length happens to be in bounds and fit
//! in the file. It can only resume at a wrong offset if the bytes there form
//! a complete frame with a matching checksum: a payload that itself contains
//! a whole encoded frame (a log stored inside a log), or a 1 in 2^32 chance.
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//! use tracklab_log::{HEADER_LEN, LogWriter, Tail, scan};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("run.log");
//!
//! let mut writer = LogWriter::create(&path)?;
//! let first = writer.append(b"batch 1")?;
//! writer.append(b"batch 2")?;
//! writer.sync()?; // both frames are durable now: ack them
//! assert_eq!(writer.durable_end(), writer.end());
//! drop(writer);
//!
//! // After a restart: recover (cuts a torn tail), then replay.
//! let (_writer, report) = LogWriter::open(&path)?;
//! assert_eq!(report.tail, Tail::Clean);
//! let mut payloads = Vec::new();
//! scan(&path, HEADER_LEN, |frame| {
//!     payloads.push(frame.payload.to_vec());
//!     Ok::<(), Infallible>(())
//! })?;
//! assert_eq!(payloads, [b"batch 1".to_vec(), b"batch 2".to_vec()]);
//! assert_eq!(first.offset, HEADER_LEN);
//! # Ok(())
//! # }
//! ```

mod error;
pub mod format;
mod scan;
mod window;
mod writer;

pub use error::{LogError, ScanError};
pub use format::{FORMAT_VERSION, FRAME_HEADER_LEN, HEADER_LEN, MAGIC, MAX_FRAME_LEN};
pub use scan::{Corruption, CorruptionKind, Frame, ScanReport, Tail, TornReason, scan};
pub use writer::{FramePos, LogWriter};
