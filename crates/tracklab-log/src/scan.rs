//! Reading a log back: header check, frame-by-frame validation, resynchronisation past damage, and the report of what was found.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{LogError, ScanError};
use crate::format::{
    FRAME_HEADER_LEN, HEADER_LEN, HeaderProblem, check_header, frame_crc, len_in_bounds, read_u32,
};
use crate::window::Window;

/// One valid frame, borrowed from the scan's buffer for the duration of the
/// callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Offset of the frame's first (length) byte.
    pub offset: u64,
    /// Offset just past the frame's payload: where the next frame starts.
    pub end: u64,
    /// The payload, exactly as it was appended.
    pub payload: &'a [u8],
}

/// Why the bytes at some offset are not a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorruptionKind {
    /// The length field is 0 or larger than `MAX_FRAME_LEN`.
    LengthOutOfBounds { len: u32 },
    /// The length field is in bounds but the frame would run past the end of
    /// the file. (At the tail of a file this is a torn write, reported as
    /// `Tail::Torn`; this kind appears only when a valid frame follows.)
    LengthBeyondEnd { len: u32 },
    /// The frame is complete but its checksum does not match its bytes.
    ChecksumMismatch { stored: u32, computed: u32 },
}

impl fmt::Display for CorruptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorruptionKind::LengthOutOfBounds { len } => {
                write!(f, "frame length {len} is out of bounds")
            }
            CorruptionKind::LengthBeyondEnd { len } => {
                write!(f, "frame length {len} runs past the end of the file")
            }
            CorruptionKind::ChecksumMismatch { stored, computed } => write!(
                f,
                "frame checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
        }
    }
}

/// Damage in the middle of a log that the scan skipped past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corruption {
    /// Offset where the invalid frame started (the end of the last valid frame).
    pub offset: u64,
    /// Why the frame at `offset` is invalid.
    pub kind: CorruptionKind,
    /// Offset of the next valid frame, where the scan resumed. Always `Some`
    /// in `ScanReport::corruptions`: damage with no valid frame after it is
    /// the log's tail and is reported in `ScanReport::tail` instead.
    pub resumed_at: Option<u64>,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at offset {}: {}", self.offset, self.kind)?;
        match self.resumed_at {
            Some(next) => write!(
                f,
                "; skipped {} bytes to the next valid frame at {next}",
                next.saturating_sub(self.offset)
            ),
            None => Ok(()),
        }
    }
}

/// Why a tail counts as torn (an interrupted write of unacknowledged data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TornReason {
    /// The file is shorter than its 16-byte header (cut off while being
    /// created). Only `LogWriter::open` reports this, after re-initialising.
    IncompleteFileHeader { len: u64 },
    /// Fewer than 8 bytes follow the last valid frame.
    IncompleteFrameHeader { available: u64 },
    /// A frame header announces `len` payload bytes but the file ends first.
    IncompleteFrame { len: u32, available: u64 },
    /// Everything after the last valid frame is zero bytes (space that was
    /// allocated but never written).
    ZeroFilled { len: u64 },
}

impl fmt::Display for TornReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TornReason::IncompleteFileHeader { len } => {
                write!(f, "the file is {len} bytes, shorter than its header")
            }
            TornReason::IncompleteFrameHeader { available } => {
                write!(f, "only {available} bytes of a frame header were written")
            }
            TornReason::IncompleteFrame { len, available } => write!(
                f,
                "a frame of {len} payload bytes was cut off with {available} bytes written"
            ),
            TornReason::ZeroFilled { len } => write!(f, "{len} trailing zero bytes"),
        }
    }
}

/// How the log ends after its last valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// The last valid frame ends exactly at the end of the file.
    Clean,
    /// The file ends inside a frame, or only zero bytes follow the last valid
    /// frame: a write was interrupted. Nothing after `offset` was ever
    /// acknowledged, so cutting it loses nothing.
    Torn { offset: u64, reason: TornReason },
    /// A complete-looking frame at `offset` is invalid and no valid frame
    /// follows it. This is damage, not an interrupted write: `LogWriter::open`
    /// keeps a copy of the bytes before cutting them.
    Damaged { offset: u64, kind: CorruptionKind },
}

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanReport {
    /// The file that was scanned.
    pub path: PathBuf,
    /// Number of valid frames passed to the callback.
    pub frames: u64,
    /// Offset just past the last valid frame (or the scan's start if there
    /// was none): where appending resumes.
    pub valid_end: u64,
    /// Length of the file when the scan started.
    pub file_len: u64,
    /// Damage in the middle of the file, each skipped past, in file order.
    pub corruptions: Vec<Corruption>,
    /// How the file ends.
    pub tail: Tail,
    /// Where `LogWriter::open` kept a copy of a damaged tail before cutting
    /// it. Always `None` from `scan`.
    pub damaged_copy: Option<PathBuf>,
}

impl ScanReport {
    /// True when the scan found no damage and no torn tail.
    pub fn is_clean(&self) -> bool {
        self.corruptions.is_empty() && self.tail == Tail::Clean
    }
}

impl fmt::Display for ScanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} frames, valid up to offset {} of {} bytes",
            self.path.display(),
            self.frames,
            self.valid_end,
            self.file_len
        )?;
        for corruption in &self.corruptions {
            write!(f, "; damage {corruption}")?;
        }
        match &self.tail {
            Tail::Clean => {}
            Tail::Torn { offset, reason } => write!(f, "; torn tail at offset {offset}: {reason}")?,
            Tail::Damaged { offset, kind } => {
                write!(f, "; damaged tail at offset {offset}: {kind}")?
            }
        }
        if let Some(copy) = &self.damaged_copy {
            write!(f, "; damaged bytes kept in {}", copy.display())?;
        }
        Ok(())
    }
}

/// Reads the frames of the log at `path` from offset `from` (`HEADER_LEN`,
/// or a frame boundary an earlier scan or append returned), calling `f` for
/// each valid frame in file order.
///
/// The file header is checked first. Damage is skipped and reported, never
/// returned as a frame; see the crate docs for the recovery rules. Memory use
/// is bounded by one frame plus a 1 MiB read chunk, whatever the file holds.
/// If `f` returns an error the scan stops and returns it as
/// `ScanError::Callback`.
pub fn scan<E>(
    path: &Path,
    from: u64,
    f: impl FnMut(Frame<'_>) -> Result<(), E>,
) -> Result<ScanReport, ScanError<E>> {
    let file = File::open(path).map_err(|err| LogError::io(path, "open", err))?;
    scan_file(&file, path, from, f)
}

/// `scan` over an already open file (the writer scans the handle it keeps).
pub(crate) fn scan_file<E>(
    file: &File,
    path: &Path,
    from: u64,
    mut f: impl FnMut(Frame<'_>) -> Result<(), E>,
) -> Result<ScanReport, ScanError<E>> {
    let file_len = file
        .metadata()
        .map_err(|err| LogError::io(path, "read the metadata of", err))?
        .len();
    read_header(file, path, file_len)?;
    if from < HEADER_LEN || from > file_len {
        return Err(LogError::OffsetOutOfRange {
            path: path.to_path_buf(),
            from,
            file_len,
        }
        .into());
    }

    let read_err = |err: io::Error| LogError::io(path, "read", err);
    let mut window = Window::new(file, file_len);
    let mut report = ScanReport {
        path: path.to_path_buf(),
        frames: 0,
        valid_end: from,
        file_len,
        corruptions: Vec::new(),
        tail: Tail::Clean,
        damaged_copy: None,
    };
    let mut pos = from;
    while pos < file_len {
        match check_frame(&mut window, pos).map_err(read_err)? {
            Check::Valid { end } => {
                let frame_bytes = window.get(pos, (end - pos) as usize).map_err(read_err)?;
                let payload = &frame_bytes[FRAME_HEADER_LEN as usize..];
                f(Frame {
                    offset: pos,
                    end,
                    payload,
                })
                .map_err(ScanError::Callback)?;
                report.frames += 1;
                report.valid_end = end;
                pos = end;
            }
            Check::Invalid(failure) => {
                match find_next_frame(&mut window, pos + 1).map_err(read_err)? {
                    Some(next) => {
                        report.corruptions.push(Corruption {
                            offset: pos,
                            kind: failure.mid_file_kind(),
                            resumed_at: Some(next),
                        });
                        pos = next;
                    }
                    None => {
                        report.tail = classify_tail(&mut window, pos, failure).map_err(read_err)?;
                        break;
                    }
                }
            }
        }
    }
    Ok(report)
}

/// Reads and checks the file header.
fn read_header(file: &File, path: &Path, file_len: u64) -> Result<(), LogError> {
    if file_len < HEADER_LEN {
        return Err(LogError::ShortHeader {
            path: path.to_path_buf(),
            len: file_len,
        });
    }
    let mut header = [0u8; HEADER_LEN as usize];
    let mut reader = file;
    reader
        .seek(SeekFrom::Start(0))
        .and_then(|_| reader.read_exact(&mut header))
        .map_err(|err| LogError::io(path, "read the header of", err))?;
    check_header(&header).map_err(|problem| header_error(path, problem))
}

pub(crate) fn header_error(path: &Path, problem: HeaderProblem) -> LogError {
    match problem {
        HeaderProblem::BadMagic => LogError::BadMagic {
            path: path.to_path_buf(),
        },
        HeaderProblem::UnsupportedVersion(found) => LogError::unsupported_version(path, found),
        HeaderProblem::Checksum => LogError::HeaderChecksum {
            path: path.to_path_buf(),
        },
    }
}

/// Why the bytes at an offset are not a valid frame, including the
/// incomplete cases that decide between a torn and a damaged tail.
#[derive(Debug, Clone, Copy)]
enum Failure {
    IncompleteHeader { available: u64 },
    Incomplete { len: u32, available: u64 },
    Corrupt(CorruptionKind),
}

impl Failure {
    /// The kind to report when a valid frame follows this failure. An
    /// incomplete header cannot be followed by a frame, so it never gets here.
    fn mid_file_kind(self) -> CorruptionKind {
        match self {
            Failure::IncompleteHeader { .. } => CorruptionKind::LengthBeyondEnd { len: 0 },
            Failure::Incomplete { len, .. } => CorruptionKind::LengthBeyondEnd { len },
            Failure::Corrupt(kind) => kind,
        }
    }
}

enum Check {
    Valid { end: u64 },
    Invalid(Failure),
}

/// Validates the frame at `pos` (which is inside the file): length bounded
/// before anything is read on its behalf, then the checksum.
fn check_frame(window: &mut Window<'_>, pos: u64) -> io::Result<Check> {
    let file_len = window.file_len();
    let available = file_len - pos;
    if available < FRAME_HEADER_LEN {
        return Ok(Check::Invalid(Failure::IncompleteHeader { available }));
    }
    let header = window.get(pos, FRAME_HEADER_LEN as usize)?;
    let len = read_u32(header, 0);
    let stored = read_u32(header, 4);
    if !len_in_bounds(len) {
        return Ok(Check::Invalid(Failure::Corrupt(
            CorruptionKind::LengthOutOfBounds { len },
        )));
    }
    let end = pos + FRAME_HEADER_LEN + u64::from(len);
    if end > file_len {
        return Ok(Check::Invalid(Failure::Incomplete { len, available }));
    }
    let frame = window.get(pos, (end - pos) as usize)?;
    let computed = frame_crc(len.to_le_bytes(), &frame[FRAME_HEADER_LEN as usize..]);
    if computed != stored {
        return Ok(Check::Invalid(Failure::Corrupt(
            CorruptionKind::ChecksumMismatch { stored, computed },
        )));
    }
    Ok(Check::Valid { end })
}

/// Searches forward byte by byte from `from` for the next offset holding a
/// complete valid frame. Candidates whose length is out of bounds or runs
/// past the end of the file are rejected before any checksum is computed.
fn find_next_frame(window: &mut Window<'_>, from: u64) -> io::Result<Option<u64>> {
    let file_len = window.file_len();
    let mut pos = from;
    while pos + FRAME_HEADER_LEN <= file_len {
        if let Check::Valid { .. } = check_frame(window, pos)? {
            return Ok(Some(pos));
        }
        pos += 1;
    }
    Ok(None)
}

/// Decides whether the bytes from `pos` to the end of the file, where no
/// valid frame starts, are a torn write or damage.
fn classify_tail(window: &mut Window<'_>, pos: u64, failure: Failure) -> io::Result<Tail> {
    let reason = match failure {
        Failure::IncompleteHeader { available } => TornReason::IncompleteFrameHeader { available },
        Failure::Incomplete { len, available } => TornReason::IncompleteFrame { len, available },
        Failure::Corrupt(kind) => {
            if all_zero(window, pos)? {
                TornReason::ZeroFilled {
                    len: window.file_len() - pos,
                }
            } else {
                return Ok(Tail::Damaged { offset: pos, kind });
            }
        }
    };
    Ok(Tail::Torn {
        offset: pos,
        reason,
    })
}

/// Whether every byte from `pos` to the end of the file is zero.
fn all_zero(window: &mut Window<'_>, mut pos: u64) -> io::Result<bool> {
    const STEP: u64 = 64 << 10;
    let file_len = window.file_len();
    while pos < file_len {
        let len = STEP.min(file_len - pos);
        if window.get(pos, len as usize)?.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        pos += len;
    }
    Ok(true)
}
