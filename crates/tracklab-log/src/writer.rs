//! The single writer of a log: create, recover-and-open, buffered append, and fdatasync with a sticky failure.

use std::convert::Infallible;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::LogError;
use crate::format::{
    FRAME_HEADER_LEN, HEADER_LEN, MAGIC, MAX_FRAME_LEN, encode_frame, encode_header,
};
use crate::scan::{ScanReport, Tail, TornReason, scan_file};

/// Buffered frames are handed to the file once they reach this size, so a
/// long run of appends without a sync does not grow memory without bound.
const WRITE_THRESHOLD: usize = 1 << 20;

/// Where a frame was appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramePos {
    /// Offset of the frame's first byte.
    pub offset: u64,
    /// Offset just past the frame: where the next frame starts.
    pub end: u64,
}

/// Appends frames to one log file. There must be one writer per file; the
/// caller (the daemon's WAL thread) guarantees it.
///
/// Appends are buffered; `sync` writes them and calls fdatasync, and only
/// then are they durable (`durable_end`). A full disk (ENOSPC, EDQUOT) when
/// writing is not fatal: the writer truncates the file back to
/// `durable_end`, forgets the frames appended since the last sync, returns
/// `LogError::NoSpace` and takes appends again (the caller re-appends them
/// once there is room). Any other IO error in `append` or `sync`, and any
/// failed fdatasync, poisons the writer: that call returns the IO error and
/// every later call returns `LogError::Poisoned`. An fsync is never retried, because
/// after a failed fsync the kernel may have dropped the dirty pages and a
/// second fsync can report success for data that is not on disk. Reopening
/// with `LogWriter::open` re-reads the file and resumes from what it holds.
///
/// Dropping a writer discards frames appended since the last `sync` that
/// were not yet handed to the file; none of them were durable.
///
/// Poisoning is tested with a fault injected in a unit test of this module:
/// a real failing fdatasync cannot be produced from safe code without
/// special file systems.
#[derive(Debug)]
pub struct LogWriter {
    path: PathBuf,
    file: File,
    /// Encoded frames not yet handed to the file.
    pending: Vec<u8>,
    /// Offset after the last appended frame.
    end: u64,
    /// Offset after the last synced frame.
    durable_end: u64,
    /// Why the writer stopped, once an IO error happened.
    poisoned: Option<String>,
    #[cfg(test)]
    fail_next_sync: bool,
    #[cfg(test)]
    fail_next_write_no_space: bool,
}

impl LogWriter {
    /// Creates a new log at `path` (never truncating an existing file: it
    /// errors with `LogError::AlreadyExists`), writes the header, syncs the
    /// file and then its parent directory so the new name is durable.
    ///
    /// If this fails after the file was created, the file may be left with
    /// a partial header; `open` re-initialises it.
    pub fn create(path: &Path) -> Result<LogWriter, LogError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|err| match err.kind() {
                io::ErrorKind::AlreadyExists => LogError::AlreadyExists {
                    path: path.to_path_buf(),
                },
                _ => LogError::io(path, "create", err),
            })?;
        file.write_all(&encode_header())
            .map_err(|err| LogError::io(path, "write the header of", err))?;
        file.sync_all()
            .map_err(|err| LogError::io(path, "fsync", err))?;
        sync_parent_dir(path)?;
        Ok(LogWriter::new(path, file, HEADER_LEN))
    }

    /// Opens an existing log for appending after recovering it.
    ///
    /// Scans the whole file (see `scan`) and syncs it, so every frame found
    /// is durable (`durable_end() == end()`). Damage in the middle is left in
    /// place (every scan skips and reports it). A torn or damaged tail is
    /// cut off at `valid_end`; before a *damaged* tail is cut, its bytes are
    /// copied to `<file name>.damaged-<offset>` next to the log and synced
    /// (`ScanReport::damaged_copy`), so evidence survives. A file shorter
    /// than the header (a crash during `create`: nothing was acknowledged)
    /// is re-initialised with a fresh header if its bytes are a partial
    /// header or zeros. The returned report says what was found.
    pub fn open(path: &Path) -> Result<(LogWriter, ScanReport), LogError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|err| LogError::io(path, "open", err))?;
        let file_len = file
            .metadata()
            .map_err(|err| LogError::io(path, "read the metadata of", err))?
            .len();
        if file_len < HEADER_LEN {
            let report = reinitialise(&mut file, path, file_len)?;
            return Ok((LogWriter::new(path, file, HEADER_LEN), report));
        }

        let mut report = scan_file(&file, path, HEADER_LEN, |_| Ok::<(), Infallible>(()))?;
        let valid_end = report.valid_end;
        match report.tail {
            Tail::Clean => {
                // A crashed writer may have left frames in the page cache
                // only; make them durable before anyone acts on them, so
                // that `durable_end` is true from the start.
                file.sync_data()
                    .map_err(|err| LogError::io(path, "fdatasync", err))?;
            }
            Tail::Torn { offset, reason } => {
                cut_tail(&file, path, valid_end)?;
                tracing::warn!(
                    path = %path.display(),
                    offset,
                    cut_bytes = report.file_len - valid_end,
                    %reason,
                    "cut the torn tail of a run log (an interrupted write of unacknowledged frames)"
                );
            }
            Tail::Damaged { offset, kind } => {
                let copy = keep_damaged_bytes(&file, path, valid_end, report.file_len)?;
                cut_tail(&file, path, valid_end)?;
                tracing::warn!(
                    path = %path.display(),
                    offset,
                    cut_bytes = report.file_len - valid_end,
                    %kind,
                    copy = %copy.display(),
                    "cut the damaged tail of a run log after copying it aside"
                );
                report.damaged_copy = Some(copy);
            }
        }
        file.seek(SeekFrom::Start(valid_end))
            .map_err(|err| LogError::io(path, "seek in", err))?;
        Ok((LogWriter::new(path, file, valid_end), report))
    }

    fn new(path: &Path, file: File, end: u64) -> LogWriter {
        LogWriter {
            path: path.to_path_buf(),
            file,
            pending: Vec::new(),
            end,
            durable_end: end,
            poisoned: None,
            #[cfg(test)]
            fail_next_sync: false,
            #[cfg(test)]
            fail_next_write_no_space: false,
        }
    }

    /// Appends one frame carrying `payload` (1..=`MAX_FRAME_LEN` bytes).
    /// Buffered: not durable until `sync` returns Ok.
    pub fn append(&mut self, payload: &[u8]) -> Result<FramePos, LogError> {
        self.check_poisoned()?;
        if payload.is_empty() {
            return Err(LogError::EmptyFrame);
        }
        if payload.len() > MAX_FRAME_LEN as usize {
            return Err(LogError::FrameTooLarge { len: payload.len() });
        }
        encode_frame(payload, &mut self.pending);
        let pos = FramePos {
            offset: self.end,
            end: self.end + FRAME_HEADER_LEN + payload.len() as u64,
        };
        self.end = pos.end;
        if self.pending.len() >= WRITE_THRESHOLD {
            self.write_pending()?;
        }
        Ok(pos)
    }

    /// Writes the buffered frames and fdatasyncs the file. When it returns
    /// Ok, every frame appended so far is durable.
    pub fn sync(&mut self) -> Result<(), LogError> {
        self.check_poisoned()?;
        if self.durable_end == self.end {
            return Ok(());
        }
        self.write_pending()?;
        if let Err(err) = self.sync_data() {
            return Err(self.poison("fdatasync", err));
        }
        self.durable_end = self.end;
        Ok(())
    }

    /// Offset after the last appended frame.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Offset after the last synced frame: everything before it is durable.
    pub fn durable_end(&self) -> u64 {
        self.durable_end
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether an earlier IO error stopped this writer.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    fn check_poisoned(&self) -> Result<(), LogError> {
        match &self.poisoned {
            Some(reason) => Err(LogError::Poisoned {
                path: self.path.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn write_pending(&mut self) -> Result<(), LogError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if let Err(err) = self.write_file() {
            if is_no_space(&err) {
                return Err(self.take_back_unsynced(err));
            }
            return Err(self.poison("write", err));
        }
        self.pending.clear();
        self.pending.shrink_to(WRITE_THRESHOLD * 2);
        Ok(())
    }

    fn write_file(&mut self) -> io::Result<()> {
        #[cfg(test)]
        if std::mem::take(&mut self.fail_next_write_no_space) {
            // What a full disk does: part of the bytes land, then ENOSPC.
            let half = self.pending.len() / 2;
            self.file.write_all(&self.pending[..half])?;
            return Err(io::Error::from_raw_os_error(libc_enospc()));
        }
        self.file.write_all(&self.pending)
    }

    /// After a full disk: cut the file back to the last synced frame and
    /// forget what was appended since (none of it was durable). If even
    /// that fails, the writer is poisoned.
    fn take_back_unsynced(&mut self, err: io::Error) -> LogError {
        self.pending = Vec::new();
        let back = self.file.set_len(self.durable_end).and_then(|()| {
            self.file
                .seek(SeekFrom::Start(self.durable_end))
                .map(|_| ())
        });
        if let Err(e) = back {
            return self.poison("truncate after a full disk", e);
        }
        self.end = self.durable_end;
        LogError::NoSpace {
            path: self.path.clone(),
            source: err,
        }
    }

    fn sync_data(&mut self) -> io::Result<()> {
        #[cfg(test)]
        if std::mem::take(&mut self.fail_next_sync) {
            return Err(io::Error::other("injected fdatasync failure"));
        }
        self.file.sync_data()
    }

    /// Records the first IO failure; every later call sees it.
    fn poison(&mut self, op: &'static str, err: io::Error) -> LogError {
        self.poisoned = Some(format!("{op} failed: {err}"));
        self.pending = Vec::new();
        LogError::io(&self.path, op, err)
    }
}

/// ENOSPC or EDQUOT: the disk or the quota is full.
fn is_no_space(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
fn libc_enospc() -> i32 {
    28
}

/// Rewrites a file shorter than the header with a fresh header, if what it
/// holds is a partial header or zeros (anything else is not ours to erase).
fn reinitialise(file: &mut File, path: &Path, file_len: u64) -> Result<ScanReport, LogError> {
    let mut existing = Vec::with_capacity(HEADER_LEN as usize);
    (&*file)
        .take(HEADER_LEN)
        .read_to_end(&mut existing)
        .map_err(|err| LogError::io(path, "read", err))?;
    let fresh = encode_header();
    let zeros = existing.iter().all(|&b| b == 0);
    if !zeros && !fresh.starts_with(&existing) {
        let magic_len = existing.len().min(MAGIC.len());
        return Err(if existing[..magic_len] != MAGIC[..magic_len] {
            LogError::BadMagic {
                path: path.to_path_buf(),
            }
        } else {
            LogError::ShortHeader {
                path: path.to_path_buf(),
                len: file_len,
            }
        });
    }
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.write_all(&fresh))
        .map_err(|err| LogError::io(path, "write the header of", err))?;
    file.sync_all()
        .map_err(|err| LogError::io(path, "fsync", err))?;
    sync_parent_dir(path)?;
    tracing::warn!(
        path = %path.display(),
        len = file_len,
        "re-initialised a run log that was cut off while being created"
    );
    Ok(ScanReport {
        path: path.to_path_buf(),
        frames: 0,
        valid_end: HEADER_LEN,
        file_len,
        corruptions: Vec::new(),
        tail: Tail::Torn {
            offset: 0,
            reason: TornReason::IncompleteFileHeader { len: file_len },
        },
        damaged_copy: None,
    })
}

/// Truncates the file to `valid_end` and makes the new length durable.
fn cut_tail(file: &File, path: &Path, valid_end: u64) -> Result<(), LogError> {
    file.set_len(valid_end)
        .map_err(|err| LogError::io(path, "truncate", err))?;
    file.sync_all()
        .map_err(|err| LogError::io(path, "fsync", err))
}

/// Copies bytes `[offset, file_len)` of the log to a new side file
/// `<name>.damaged-<offset>` (or `<name>.damaged-<offset>.<n>` if that name
/// is taken), syncs it and its directory, and returns its path.
fn keep_damaged_bytes(
    file: &File,
    path: &Path,
    offset: u64,
    file_len: u64,
) -> Result<PathBuf, LogError> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "log".to_owned());
    let base = format!("{name}.damaged-{offset}");
    let mut attempt = 0u32;
    let (copy_path, mut copy) = loop {
        let candidate = if attempt == 0 {
            path.with_file_name(&base)
        } else {
            path.with_file_name(format!("{base}.{attempt}"))
        };
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(copy) => break (candidate, copy),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {
                attempt += 1;
            }
            Err(err) => return Err(LogError::io(candidate, "create", err)),
        }
    };
    let want = file_len - offset;
    let mut reader = file;
    reader
        .seek(SeekFrom::Start(offset))
        .map_err(|err| LogError::io(path, "seek in", err))?;
    let copied = io::copy(&mut reader.take(want), &mut copy)
        .map_err(|err| LogError::io(&copy_path, "copy damaged bytes into", err))?;
    if copied != want {
        let err = io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the log shrank while its damaged tail was copied ({copied} of {want} bytes)"),
        );
        return Err(LogError::io(path, "read", err));
    }
    copy.sync_all()
        .map_err(|err| LogError::io(&copy_path, "fsync", err))?;
    sync_parent_dir(&copy_path)?;
    Ok(copy_path)
}

/// Fsyncs the directory holding `path`, so a new or renamed entry is durable.
#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> Result<(), LogError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|err| LogError::io(dir, "fsync the directory", err))
}

/// Directories cannot be opened for fsync on this platform.
#[cfg(not(unix))]
fn sync_parent_dir(_path: &Path) -> Result<(), LogError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_takes_back_the_unsynced_frames_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        let mut writer = LogWriter::create(&path).unwrap();
        writer.append(b"acked").unwrap();
        writer.sync().unwrap();
        let durable = writer.durable_end();

        writer.append(b"not yet synced 1").unwrap();
        writer.append(b"not yet synced 2").unwrap();
        writer.fail_next_write_no_space = true;
        let err = writer.sync().unwrap_err();
        assert!(matches!(err, LogError::NoSpace { .. }), "{err}");
        assert!(err.to_string().contains("free space"), "{err}");
        assert!(!writer.is_poisoned());
        assert_eq!((writer.end(), writer.durable_end()), (durable, durable));
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            durable,
            "the half-written bytes are cut"
        );

        // Space again: the caller appends the frames again and they land
        // right after the acked one.
        writer.append(b"again").unwrap();
        writer.sync().unwrap();
        drop(writer);
        let mut frames: Vec<Vec<u8>> = Vec::new();
        crate::scan(&path, HEADER_LEN, |f| {
            frames.push(f.payload.to_vec());
            Ok::<(), Infallible>(())
        })
        .unwrap();
        assert_eq!(frames, [b"acked".to_vec(), b"again".to_vec()]);
    }

    #[test]
    fn a_failed_sync_poisons_the_writer_for_every_later_call() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        let mut writer = LogWriter::create(&path).unwrap();
        writer.append(b"acked").unwrap();
        writer.sync().unwrap();
        let durable = writer.durable_end();

        writer.append(b"never acked").unwrap();
        writer.fail_next_sync = true;
        let first = writer.sync().unwrap_err();
        assert!(
            matches!(
                first,
                LogError::Io {
                    op: "fdatasync",
                    ..
                }
            ),
            "{first}"
        );
        assert!(writer.is_poisoned());
        assert_eq!(writer.durable_end(), durable);

        // The injected fault is gone, but the writer must not retry: every
        // call fails, naming the original failure.
        for err in [
            writer.sync().unwrap_err(),
            writer.append(b"more").unwrap_err(),
            writer.sync().unwrap_err(),
        ] {
            match err {
                LogError::Poisoned { path: p, reason } => {
                    assert_eq!(p, path);
                    assert!(reason.contains("injected fdatasync failure"), "{reason}");
                }
                other => panic!("expected Poisoned, got {other}"),
            }
        }
        assert_eq!(writer.durable_end(), durable);
        drop(writer);

        // Reopening recovers: the acked frame is there.
        let (writer, report) = LogWriter::open(&path).unwrap();
        assert!(report.frames >= 1);
        assert!(writer.end() >= durable);
    }
}
