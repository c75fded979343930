//! Writing a blob: hashed while written to `tmp/`, then fsynced and renamed
//! to its digest's name.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::Digest as _;

use crate::{BlobError, BlobStore, Digest};

/// A blob being written (see [`BlobStore::writer`]). Dropped unfinished,
/// it removes its temporary file.
pub struct BlobWriter {
    store: BlobStore,
    file: Option<File>,
    tmp: PathBuf,
    hasher: sha2::Sha256,
    size: u64,
}

impl BlobWriter {
    pub(crate) fn create(store: &BlobStore) -> Result<BlobWriter, BlobError> {
        let tmp = store.tmp_dir().join(format!("{}.part", random_suffix()));
        let file = File::create_new(&tmp).map_err(|e| BlobError::io("creating", &tmp, e))?;
        Ok(BlobWriter {
            store: store.clone(),
            file: Some(file),
            tmp,
            hasher: sha2::Sha256::new(),
            size: 0,
        })
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends `bytes`.
    pub fn write_all_bytes(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        let file = self.file.as_mut().ok_or_else(|| finished(&self.tmp))?;
        file.write_all(bytes)
            .map_err(|e| BlobError::io("writing", &self.tmp, e))?;
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Appends everything `src` yields; `what` names it in errors.
    pub fn copy_from(&mut self, src: &mut impl Read, what: &Path) -> Result<(), BlobError> {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(BlobError::io("reading", what, e)),
            };
            self.write_all_bytes(&buf[..n])?;
        }
    }

    /// Ends the write: checks the digest against `expected` if given, makes
    /// the bytes durable and gives them their name. A blob that is already
    /// stored is kept as it is (the new copy is dropped).
    pub fn finish(mut self, expected: Option<&Digest>) -> Result<(Digest, u64), BlobError> {
        let file = self.file.take().ok_or_else(|| finished(&self.tmp))?;
        let digest = Digest(std::mem::take(&mut self.hasher).finalize().into());
        if let Some(want) = expected
            && *want != digest
        {
            return Err(BlobError::Mismatch {
                expected: *want,
                found: digest,
            });
        }
        let dest = self.store.path(&digest);
        if fs::metadata(&dest).is_ok_and(|m| m.len() == self.size) {
            // Already stored. Its time is refreshed: gc spares young blobs,
            // so one that nothing named until now is safe until the record
            // that names it arrives.
            let _ = File::options()
                .write(true)
                .open(&dest)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
            return Ok((digest, self.size));
        }
        file.sync_all()
            .map_err(|e| BlobError::io("syncing", &self.tmp, e))?;
        drop(file);
        let dir = dest.parent().unwrap_or(self.store.root());
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(|e| BlobError::io("creating", dir, e))?;
            sync_dir(dir.parent().unwrap_or(self.store.root()))?;
        }
        fs::rename(&self.tmp, &dest).map_err(|e| BlobError::io("renaming into", &dest, e))?;
        sync_dir(dir)?;
        Ok((digest, self.size))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // Unfinished, or finished as a duplicate or a mismatch: the
        // temporary file goes (after a rename it no longer exists).
        let _ = fs::remove_file(&self.tmp);
    }
}

fn finished(tmp: &Path) -> BlobError {
    BlobError::io(
        "writing",
        tmp,
        std::io::Error::other("the blob write was already finished"),
    )
}

/// fsyncs a directory, so that a rename or a new entry in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), BlobError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| BlobError::io("syncing the folder", dir, e))
}

/// Writes a small file crash-safely (temporary file, fsync, rename, fsync).
pub(crate) fn write_small_file(path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".tmp-{}", random_suffix()));
    let result = (|| {
        let mut f = File::create_new(&tmp).map_err(|e| BlobError::io("creating", &tmp, e))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| BlobError::io("writing", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| BlobError::io("renaming into", path, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// 16 random hex digits for temporary names.
pub(crate) fn random_suffix() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        b = (nanos ^ u64::from(std::process::id()) << 32).to_le_bytes();
    }
    hex::encode(b)
}
