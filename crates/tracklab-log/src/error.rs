//! Errors of the run log: what happened, to which file, and what to do about it.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::format::{FORMAT_VERSION, HEADER_LEN, MAX_FRAME_LEN};

/// An error from reading or writing a run log.
///
/// Damage inside the frames of a log is not an error: `scan` and
/// `LogWriter::open` skip or cut it and describe it in a `ScanReport`. Errors
/// are for what stops the log from being used at all.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file system call failed. `op` names the call ("open", "read",
    /// "write", "fdatasync", ...).
    #[error(
        "could not {op} `{path}`: {source} (check free space, permissions and the health of the disk)"
    )]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: io::Error,
    },

    /// The disk (or the user's quota) is full. The writer took back every
    /// frame appended since the last successful `sync` (none was durable)
    /// and stays usable: append them again once there is space.
    #[error(
        "no space left to write `{path}` ({source}): free space on that disk; frames appended since the last sync were taken back, and the log takes new appends once there is room"
    )]
    NoSpace {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// `LogWriter::create` found a file already at the path.
    #[error(
        "`{path}` already exists: `create` never overwrites a log; open it with `LogWriter::open` to append to it"
    )]
    AlreadyExists { path: PathBuf },

    /// The file does not start with the TrackLab magic.
    #[error(
        "`{path}` is not a TrackLab run log (it does not start with the magic bytes \"TRACKLAB\"): check the path"
    )]
    BadMagic { path: PathBuf },

    /// The header names a format version this build cannot read.
    #[error(
        "`{path}` uses run log format version {found}, but this build of tracklab reads version {supported} only: upgrade tracklab to read it (if no newer tracklab wrote this file, its header is damaged)"
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// The header's checksum does not match its bytes.
    #[error(
        "the header of `{path}` fails its checksum, so the file is damaged: move it aside and restore it from a backup; its frames can still be inspected with an offline tool"
    )]
    HeaderChecksum { path: PathBuf },

    /// The file is shorter than the file header.
    #[error(
        "`{path}` is {len} bytes long, shorter than the {HEADER_LEN}-byte run log header: a log cut off while being created holds nothing that was acknowledged, and `LogWriter::open` re-initialises it if its bytes are a partial header; otherwise it is not a TrackLab run log, check the path"
    )]
    ShortHeader { path: PathBuf, len: u64 },

    /// `scan` was asked to start outside the frame area of the file.
    #[error(
        "cannot scan `{path}` from offset {from}: frames lie between offset {HEADER_LEN} and the end of the file at {file_len}; the offset is stale or from another file, so validate it against the log and rescan from {HEADER_LEN}"
    )]
    OffsetOutOfRange {
        path: PathBuf,
        from: u64,
        file_len: u64,
    },

    /// `append` was given a payload longer than `MAX_FRAME_LEN`.
    #[error(
        "a payload of {len} bytes is larger than the largest frame ({MAX_FRAME_LEN} bytes): split it into smaller batches"
    )]
    FrameTooLarge { len: usize },

    /// `append` was given an empty payload.
    #[error(
        "an empty payload cannot be appended: a frame carries at least one byte (a zero length marks unwritten space); skip empty batches"
    )]
    EmptyFrame,

    /// An earlier write or sync failed; the writer refuses all further work.
    #[error(
        "the writer of `{path}` stopped after an earlier failure ({reason}): frames appended since the last successful sync may not be on disk and must not be acknowledged; reopen the log with `LogWriter::open` to recover it"
    )]
    Poisoned { path: PathBuf, reason: String },
}

impl LogError {
    pub(crate) fn io(path: impl Into<PathBuf>, op: &'static str, source: io::Error) -> Self {
        LogError::Io {
            path: path.into(),
            op,
            source,
        }
    }

    pub(crate) fn unsupported_version(path: impl Into<PathBuf>, found: u32) -> Self {
        LogError::UnsupportedVersion {
            path: path.into(),
            found,
            supported: FORMAT_VERSION,
        }
    }
}

/// An error from `scan`: either the log could not be read, or the frame
/// callback asked to stop.
#[derive(Debug)]
pub enum ScanError<E> {
    /// The log could not be read (IO error or unusable header).
    Log(LogError),
    /// The callback returned this error; scanning stopped at that frame.
    Callback(E),
}

impl<E> From<LogError> for ScanError<E> {
    fn from(err: LogError) -> Self {
        ScanError::Log(err)
    }
}

impl<E: fmt::Display> fmt::Display for ScanError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::Log(err) => err.fmt(f),
            ScanError::Callback(err) => write!(f, "replaying a frame failed: {err}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ScanError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScanError::Log(err) => err.source(),
            ScanError::Callback(err) => Some(err),
        }
    }
}

/// A scan whose callback cannot fail can only fail with a `LogError`.
impl From<ScanError<Infallible>> for LogError {
    fn from(err: ScanError<Infallible>) -> Self {
        match err {
            ScanError::Log(err) => err,
            ScanError::Callback(never) => match never {},
        }
    }
}
