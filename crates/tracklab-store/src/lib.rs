//! The sled index of derived run state: runs, config, summary, metric
//! definitions (all inside each run's `RunState`), history in chunked series,
//! console lines — plus the applier that feeds it from log frames and the
//! replay that rebuilds it from the run logs.
//!
//! Invariants:
//! - Nothing here decides what is durable: the run logs are the truth and this
//!   store can always be deleted and rebuilt from them ([`replay::rebuild`]).
//! - A run's applied log position is written in the same sled batch as the
//!   data it covers, so a restart resumes exactly where the store stopped.
//! - Nothing in this crate calls fsync on a log; it only reads logs.

pub mod applier;
pub mod artifacts;
pub mod chunk;
pub mod codec;
pub mod downsample;
pub mod history;
pub mod keys;
pub mod layout;
pub mod replay;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tracklab_state::RunState;

pub use applier::Applier;
pub use keys::Namespace;
pub use layout::DataDir;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "sled store at {path}: {source}; the store is derived data: delete it or run a rebuild to recreate it from the run logs"
    )]
    Sled {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("store entry {key:?} is damaged: {reason}; rebuild the store from the run logs")]
    Damaged { key: String, reason: String },
    #[error(
        "store at {path} has format version {found}, this tracklab reads version {supported}; rebuild the store from the run logs"
    )]
    Version {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("run log {path}: {source}")]
    Log {
        path: PathBuf,
        #[source]
        source: tracklab_log::LogError,
    },
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the store keeps per run under its `R` key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRun {
    pub state: RunState,
    /// Log offset just past the last frame whose records are in the store.
    pub applied_end: u64,
    /// Console lines stored for this run.
    pub console_lines: u64,
    /// System-stats samples stored for this run.
    pub stats_rows: u64,
}

/// What the store keeps per series under its `K` key. Written when the
/// series appears and when its open chunk moves on, not at every commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesMeta {
    /// First step of the open chunk: its pieces are the chunks from here on.
    pub tail_first_step: i64,
}

/// A console line as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredLine {
    pub stream: i32,
    pub timestamp_us: i64,
    pub line: String,
}

/// The sled database of one data dir.
///
/// sled applies a batch atomically for crashes, but an iterator running
/// meanwhile can see part of it: a chunk merge (one key rewritten, the
/// others removed) could then read as a gap or a repeat. `gate` makes every
/// commit (`apply_batch`, write side) and every multi-key read of a series
/// or of console lines (read side) exclusive, so reads see whole commits.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    gate: std::sync::Arc<std::sync::RwLock<()>>,
}

impl Store {
    /// Opens (or creates) the store at `path`. `cache_bytes` bounds sled's
    /// page cache.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .mode(sled::Mode::HighThroughput)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|source| StoreError::Sled {
                path: path.to_path_buf(),
                source,
            })?;
        let store = Store {
            path: path.to_path_buf(),
            db,
            gate: Default::default(),
        };
        match store.get(keys::VERSION_KEY)? {
            None => {
                store.insert(keys::VERSION_KEY, &keys::STORE_FORMAT_VERSION.to_le_bytes())?;
            }
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_le_bytes)
                    .unwrap_or(u32::MAX);
                if found != keys::STORE_FORMAT_VERSION {
                    return Err(StoreError::Version {
                        path: path.to_path_buf(),
                        found,
                        supported: keys::STORE_FORMAT_VERSION,
                    });
                }
            }
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sled_err(&self, source: sled::Error) -> StoreError {
        StoreError::Sled {
            path: self.path.clone(),
            source,
        }
    }

    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        self.db.get(key).map_err(|e| self.sled_err(e))
    }

    fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.db
            .insert(key, value)
            .map(|_| ())
            .map_err(|e| self.sled_err(e))
    }

    pub(crate) fn apply_batch(&self, batch: sled::Batch) -> Result<(), StoreError> {
        let _whole = self.gate.write().unwrap_or_else(|e| e.into_inner());
        self.db.apply_batch(batch).map_err(|e| self.sled_err(e))
    }

    /// Holds off commits while a read that spans several keys runs.
    pub(crate) fn read_gate(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(sled::IVec, sled::IVec), StoreError>> + '_ {
        self.db
            .scan_prefix(prefix)
            .map(move |r| r.map_err(|e| self.sled_err(e)))
    }

    pub(crate) fn range(
        &self,
        from: Vec<u8>,
        to: Vec<u8>,
    ) -> impl DoubleEndedIterator<Item = Result<(sled::IVec, sled::IVec), StoreError>> + '_ {
        self.db
            .range(from..to)
            .map(move |r| r.map_err(|e| self.sled_err(e)))
    }

    /// Every run in the store.
    pub fn load_runs(&self) -> Result<Vec<StoredRun>, StoreError> {
        let mut out = Vec::new();
        for kv in self.scan_prefix(keys::RUN_PREFIX) {
            let (k, v) = kv?;
            out.push(decode::<StoredRun>(&k, &v)?);
        }
        Ok(out)
    }

    /// One run, if the store has it.
    pub fn load_run(&self, run_id: &str) -> Result<Option<StoredRun>, StoreError> {
        let key = keys::run(run_id);
        self.get(&key)?.map(|v| decode(&key, &v)).transpose()
    }

    /// Removes everything (used before a full rebuild).
    pub fn clear(&self) -> Result<(), StoreError> {
        // Readers see the store before or after, never half cleared.
        let _whole = self.gate.write().unwrap_or_else(|e| e.into_inner());
        self.db.clear().map_err(|e| self.sled_err(e))?;
        self.insert(keys::VERSION_KEY, &keys::STORE_FORMAT_VERSION.to_le_bytes())
    }

    /// Removes every entry of one run (used before re-applying its whole log).
    pub fn remove_run(&self, run_id: &str) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut artifact_prefixes = Vec::new();
        if let Some(run) = self.load_run(run_id)? {
            for l in run.state.logged_artifacts() {
                artifact_prefixes.push(keys::artifact_run_prefix(
                    keys::ARTIFACT_LOG,
                    &l.project,
                    &l.name,
                    &l.digest,
                    run_id,
                ));
            }
            for l in run.state.used_artifacts() {
                // The exact key of the use.
                batch.remove(keys::artifact_run_prefix(
                    keys::ARTIFACT_USE,
                    &l.project,
                    &l.name,
                    &l.digest,
                    run_id,
                ));
            }
        }
        if run_id == tracklab_state::artifact::REGISTRY_RUN_ID {
            batch.remove(keys::REGISTRY_KEY);
        }
        let mut prefixes = artifact_prefixes;
        prefixes.extend([
            keys::series_meta_prefix(Namespace::History, run_id),
            keys::series_meta_prefix(Namespace::Stats, run_id),
            keys::console_prefix(run_id),
        ]);
        prefixes.extend(keys::run_chunk_prefixes(run_id));
        for p in prefixes {
            for kv in self.scan_prefix(&p) {
                batch.remove(kv?.0);
            }
        }
        batch.remove(keys::run(run_id));
        self.apply_batch(batch)
    }

    /// Writes sled's dirty pages to disk (a hint: the logs are the truth).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(|e| self.sled_err(e))
    }

    /// Bytes sled uses on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// Console lines `offset..offset+limit` of a run.
    pub fn console(
        &self,
        run_id: &str,
        offset: u64,
        limit: usize,
    ) -> Result<Vec<StoredLine>, StoreError> {
        let from = keys::console(run_id, offset);
        let mut to = keys::console_prefix(run_id);
        to.push(0xff);
        let _consistent = self.read_gate();
        let mut out = Vec::new();
        for kv in self.range(from, to).take(limit) {
            let (k, v) = kv?;
            out.push(decode(&k, &v)?);
        }
        Ok(out)
    }
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    key: &[u8],
    v: &[u8],
) -> Result<T, StoreError> {
    postcard::from_bytes(v).map_err(|e| StoreError::Damaged {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

pub(crate) fn encode<T: Serialize>(key: &[u8], v: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(v).map_err(|e| StoreError::Damaged {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: format!("cannot be encoded: {e}"),
    })
}
