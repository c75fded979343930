//! A bounded, reusable read window over a log file, so scans never hold more than one frame plus a read chunk in memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use crate::format::{FRAME_HEADER_LEN, MAX_FRAME_LEN};

/// How much is read from the file at a time when the window runs dry.
const CHUNK: usize = 1 << 20;

/// The most bytes the window ever asks for at once: one whole frame.
pub(crate) const MAX_REQUEST: usize = FRAME_HEADER_LEN as usize + MAX_FRAME_LEN as usize;

/// Caches bytes `[start, start + buf.len())` of a file whose length was fixed
/// when the scan began.
pub(crate) struct Window<'f> {
    file: &'f File,
    file_len: u64,
    start: u64,
    buf: Vec<u8>,
}

impl<'f> Window<'f> {
    pub(crate) fn new(file: &'f File, file_len: u64) -> Self {
        Window {
            file,
            file_len,
            start: 0,
            buf: Vec::new(),
        }
    }

    pub(crate) fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Returns bytes `[offset, offset + len)`. Callers only ask for ranges
    /// inside the file and at most `MAX_REQUEST` long, so the buffer stays
    /// bounded whatever the file contains.
    pub(crate) fn get(&mut self, offset: u64, len: usize) -> io::Result<&[u8]> {
        let end = offset + len as u64;
        if len > MAX_REQUEST || end > self.file_len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "read request outside the file or larger than one frame",
            ));
        }
        let buf_end = self.start + self.buf.len() as u64;
        if offset < self.start || end > buf_end {
            self.fill(offset, len)?;
        }
        let at = (offset - self.start) as usize;
        Ok(&self.buf[at..at + len])
    }

    /// Makes the window start at `offset` and hold at least `len` bytes
    /// (a whole chunk when the file has that much left).
    fn fill(&mut self, offset: u64, len: usize) -> io::Result<()> {
        let buf_end = self.start + self.buf.len() as u64;
        if offset >= self.start && offset < buf_end {
            // Keep the bytes we already have from `offset` on.
            self.buf.drain(..(offset - self.start) as usize);
        } else {
            self.buf.clear();
        }
        self.start = offset;
        let remaining = self.file_len - offset;
        let want = len
            .max(CHUNK)
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let have = self.buf.len();
        if want > have {
            self.buf.resize(want, 0);
            let mut file = self.file;
            file.seek(SeekFrom::Start(offset + have as u64))?;
            if let Err(err) = file.read_exact(&mut self.buf[have..]) {
                self.buf.truncate(have);
                return Err(err);
            }
        }
        Ok(())
    }
}
