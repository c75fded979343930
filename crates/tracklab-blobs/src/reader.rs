//! Reading a blob, hashed as it is read: the end of the read is an error
//! if the bytes are not the ones the digest names.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use sha2::Digest as _;

use crate::{BlobError, BlobStore, Digest};

/// A verified read of one blob (see [`BlobStore::reader`]).
pub struct BlobReader {
    file: File,
    path: PathBuf,
    digest: Digest,
    hasher: sha2::Sha256,
    size: u64,
    len: u64,
    verified: bool,
}

impl BlobReader {
    pub(crate) fn open(store: &BlobStore, digest: Digest) -> Result<BlobReader, BlobError> {
        let path = store.path(&digest);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::Missing { digest, path });
            }
            Err(e) => return Err(BlobError::io("opening", &path, e)),
        };
        let len = file
            .metadata()
            .map_err(|e| BlobError::io("reading", &path, e))?
            .len();
        Ok(BlobReader {
            file,
            path,
            digest,
            hasher: sha2::Sha256::new(),
            size: 0,
            len,
            verified: false,
        })
    }

    /// The blob's size on disk (known before it is read).
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads the next bytes into `buf`. Returns 0 only at the end, and only
    /// once the whole blob hashed to its digest; damage is an error there.
    /// Bytes handed out before the end are not verified yet: a caller that
    /// passes them on must withhold its own "done" until this returns 0.
    pub fn read_chunk(&mut self, buf: &mut [u8]) -> Result<usize, BlobError> {
        loop {
            match self.file.read(buf) {
                Ok(0) => {
                    self.check()?;
                    return Ok(0);
                }
                Ok(n) => {
                    self.hasher.update(&buf[..n]);
                    self.size += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(BlobError::io("reading", &self.path, e)),
            }
        }
    }

    /// Copies the whole blob into `out`; returns its size once verified.
    pub fn read_all(&mut self, out: &mut impl Write) -> Result<u64, BlobError> {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = self.read_chunk(&mut buf)?;
            if n == 0 {
                return Ok(self.size);
            }
            out.write_all(&buf[..n])
                .map_err(|e| BlobError::io("writing a copy of", &self.path, e))?;
        }
    }

    fn check(&mut self) -> Result<(), BlobError> {
        if self.verified {
            return Ok(());
        }
        let found = Digest(std::mem::take(&mut self.hasher).finalize().into());
        if found != self.digest {
            return Err(BlobError::Corrupt {
                digest: self.digest,
                path: self.path.clone(),
                found,
            });
        }
        self.verified = true;
        Ok(())
    }
}
