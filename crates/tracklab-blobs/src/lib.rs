//! The content-addressed blob store of a TrackLab data dir: every file an
//! artifact, a saved run file or an object holds is stored once, named by
//! the SHA-256 of its bytes.
//!
//! On-disk format, version 1, under `<data_dir>/blobs/`:
//!
//! ```text
//! blobs/
//!   VERSION                   "1\n"
//!   sha256/<h0h1>/<hex>       a blob: exactly the bytes whose SHA-256 is <hex>
//!                             (64 lowercase hex digits; <h0h1> its first two)
//!   tmp/<random>.part         a write in progress; never read; removed by
//!                             the daemon's start-up once an hour old (a
//!                             crashed writer's)
//! ```
//!
//! Writes are crash-safe: bytes go to a file in `tmp/` while they are
//! hashed, the file is fsynced, renamed to its digest's name, and the
//! folder is fsynced. A blob name therefore always holds the whole blob; a
//! crash leaves at most a `.part` file, which the next open removes.
//!
//! Reads are verified: [`BlobStore::reader`] hashes while it reads and
//! fails at the end if the bytes are not the ones named (a disk that flipped
//! a bit, a file someone edited), so damage is never passed on as data.

mod digest;
mod reader;
mod writer;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use digest::{Digest, DigestError};
pub use reader::BlobReader;
pub use writer::BlobWriter;

/// A `.part` file untouched this long is a write a crash interrupted.
pub const UNFINISHED_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Format version of the blob folder (the `VERSION` file).
pub const BLOBS_FORMAT_VERSION: u32 = 1;

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("{action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "blob {digest} is missing from the blob store (`{path}`); the artifact or file that names it cannot be read: log it again, or restore the data dir from a backup"
    )]
    Missing { digest: Digest, path: PathBuf },
    #[error(
        "blob {digest} is damaged on disk (`{path}`): its bytes hash to {found}; it is not used. Log the file again to replace it, or restore the data dir from a backup"
    )]
    Corrupt {
        digest: Digest,
        path: PathBuf,
        found: Digest,
    },
    #[error(
        "the uploaded bytes hash to {found}, not to {expected} as the sender said; nothing was stored"
    )]
    Mismatch { expected: Digest, found: Digest },
    #[error(
        "the blob store at `{path}` has format version {found}; this tracklab reads version {supported}: upgrade tracklab"
    )]
    Version {
        path: PathBuf,
        found: String,
        supported: u32,
    },
}

impl BlobError {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        BlobError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// True when the error is a full disk (ENOSPC / EDQUOT).
    pub fn is_no_space(&self) -> bool {
        matches!(self, BlobError::Io { source, .. }
            if matches!(source.raw_os_error(), Some(libc_enospc::ENOSPC | libc_enospc::EDQUOT)))
    }
}

/// The two errno values of a full disk, without a libc dependency.
mod libc_enospc {
    pub const ENOSPC: i32 = 28;
    pub const EDQUOT: i32 = 122;
}

/// The blob folder of a data dir.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Opens (creating if needed) the blob store at `root`
    /// (`<data_dir>/blobs`).
    /// Several processes may open and write one store at once (each write
    /// has its own temporary file and ends in an atomic rename).
    pub fn open(root: &Path) -> Result<BlobStore, BlobError> {
        let store = BlobStore {
            root: root.to_path_buf(),
        };
        fs::create_dir_all(store.tmp_dir())
            .map_err(|e| BlobError::io("creating the blob folder", &store.tmp_dir(), e))?;
        fs::create_dir_all(store.root.join("sha256"))
            .map_err(|e| BlobError::io("creating the blob folder", root, e))?;
        let version = root.join("VERSION");
        match fs::read_to_string(&version) {
            Ok(text) => {
                if text.trim() != BLOBS_FORMAT_VERSION.to_string() {
                    return Err(BlobError::Version {
                        path: root.to_path_buf(),
                        found: text.trim().chars().take(20).collect(),
                        supported: BLOBS_FORMAT_VERSION,
                    });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                writer::write_small_file(&version, format!("{BLOBS_FORMAT_VERSION}\n").as_bytes())?;
            }
            Err(e) => return Err(BlobError::io("reading", &version, e)),
        }
        Ok(store)
    }

    /// [`open`](Self::open), then removes writes a crash left unfinished
    /// (the daemon, at start-up; an SDK writing beside it only opens).
    pub fn open_and_clean(root: &Path) -> Result<BlobStore, BlobError> {
        let store = Self::open(root)?;
        store.remove_unfinished()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Where the blob `digest` lives (whether or not it is there).
    pub fn path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.to_hex();
        self.root.join("sha256").join(&hex[..2]).join(hex)
    }

    /// The size of blob `digest` if the store has it (not verified).
    pub fn size(&self, digest: &Digest) -> Option<u64> {
        fs::metadata(self.path(digest)).ok().map(|m| m.len())
    }

    /// Starts writing a blob; its digest is known when it is finished.
    pub fn writer(&self) -> Result<BlobWriter, BlobError> {
        BlobWriter::create(self)
    }

    /// Stores a copy of the file at `src`; returns its digest and size.
    pub fn put_file(&self, src: &Path) -> Result<(Digest, u64), BlobError> {
        let mut f = fs::File::open(src).map_err(|e| BlobError::io("opening", src, e))?;
        let mut w = self.writer()?;
        w.copy_from(&mut f, src)?;
        w.finish(None)
    }

    /// Stores `bytes`; returns their digest and size.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<(Digest, u64), BlobError> {
        let mut w = self.writer()?;
        w.write_all_bytes(bytes)?;
        w.finish(None)
    }

    /// Opens blob `digest` for a verified read.
    pub fn reader(&self, digest: &Digest) -> Result<BlobReader, BlobError> {
        BlobReader::open(self, *digest)
    }

    /// Reads a whole blob, verified.
    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>, BlobError> {
        let mut r = self.reader(digest)?;
        let mut out = Vec::new();
        r.read_all(&mut out)?;
        Ok(out)
    }

    /// Hashes blob `digest` in full; returns its size if it is intact.
    pub fn verify(&self, digest: &Digest) -> Result<u64, BlobError> {
        let mut r = self.reader(digest)?;
        r.read_all(&mut io::sink())
    }

    /// Copies blob `digest`, verified, to `dest` (written beside it and
    /// renamed, so `dest` never holds a partial or unverified copy).
    pub fn copy_to(&self, digest: &Digest, dest: &Path) -> Result<u64, BlobError> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| BlobError::io("creating", dir, e))?;
        let tmp = dir.join(format!(
            ".{}.tracklab-part-{}",
            dest.file_name().and_then(|n| n.to_str()).unwrap_or("blob"),
            writer::random_suffix()
        ));
        let result = (|| {
            let mut out = fs::File::create(&tmp).map_err(|e| BlobError::io("creating", &tmp, e))?;
            let n = self.reader(digest)?.read_all(&mut out)?;
            drop(out);
            fs::rename(&tmp, dest).map_err(|e| BlobError::io("renaming into", dest, e))?;
            Ok(n)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Every blob in the store (for gc), in no particular order. Files whose
    /// names are not digests are skipped.
    pub fn list(&self) -> Result<Vec<Digest>, BlobError> {
        let base = self.root.join("sha256");
        let mut out = Vec::new();
        let dirs = fs::read_dir(&base).map_err(|e| BlobError::io("listing", &base, e))?;
        for d in dirs.flatten() {
            let Ok(files) = fs::read_dir(d.path()) else {
                continue;
            };
            for f in files.flatten() {
                if let Some(digest) = f
                    .file_name()
                    .to_str()
                    .and_then(|n| Digest::from_hex(n).ok())
                {
                    out.push(digest);
                }
            }
        }
        Ok(out)
    }

    /// Removes blob `digest` (gc's sweep). Removing a missing blob is fine.
    pub fn remove(&self, digest: &Digest) -> Result<(), BlobError> {
        let p = self.path(digest);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BlobError::io("removing", &p, e)),
        }
    }

    /// Removes `.part` files older than [`UNFINISHED_AGE`]: a write a
    /// crash interrupted. Younger ones may belong to a live writer (the
    /// daemon, or an SDK writing beside it).
    fn remove_unfinished(&self) -> Result<(), BlobError> {
        let tmp = self.tmp_dir();
        let entries = fs::read_dir(&tmp).map_err(|e| BlobError::io("listing", &tmp, e))?;
        let mut removed = 0;
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= UNFINISHED_AGE);
            if old && fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed blob writes a crash left unfinished");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
