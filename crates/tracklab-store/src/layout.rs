//! Where things live in a TrackLab data dir.
//!
//! ```text
//! <data_dir>/
//!   daemon.lock          exclusive lock held by the running daemon
//!   daemon.json          address, pid, version of the running daemon
//!   token                random secret (mode 0600) every RPC must present
//!   runs/<run_id>/run.tlog   the run's log: the source of truth
//!   store/               sled database: derived state, rebuildable from runs/
//!   trash/               run directories being removed by `tracklab gc`
//!                        (emptied at start-up)
//!   blobs/               content-addressed files (crates/tracklab-blobs)
//! ```

use std::path::{Path, PathBuf};

/// File name of a run's log inside its run directory.
pub const RUN_LOG_NAME: &str = "run.tlog";

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.runs_dir().join(run_id)
    }

    pub fn run_log(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join(RUN_LOG_NAME)
    }

    pub fn store_dir(&self) -> PathBuf {
        self.root.join("store")
    }

    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs")
    }

    pub fn trash_dir(&self) -> PathBuf {
        self.root.join("trash")
    }

    pub fn token_path(&self) -> PathBuf {
        self.root.join("token")
    }

    pub fn daemon_json(&self) -> PathBuf {
        self.root.join("daemon.json")
    }

    pub fn lock_path(&self) -> PathBuf {
        self.root.join("daemon.lock")
    }

    /// Run ids that have a log, sorted. Directories without a log are skipped.
    pub fn run_ids(&self) -> std::io::Result<Vec<String>> {
        let mut ids = Vec::new();
        let dir = match std::fs::read_dir(self.runs_dir()) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ids),
            Err(e) => return Err(e),
        };
        for entry in dir {
            let entry = entry?;
            if let Some(name) = entry.file_name().to_str()
                && entry.path().join(RUN_LOG_NAME).is_file()
            {
                ids.push(name.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }
}
