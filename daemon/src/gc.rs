//! `tracklab gc`: removes soft-deleted runs for good.
//!
//! Crash-safe order, per run:
//! 1. the WAL writer syncs the run's log and refuses writes to it, but only
//!    if the log still ends where the snapshot that showed the run deleted
//!    ended (so a resume or restore racing the gc keeps the run, and no
//!    frame of the run is on its way to the applier);
//! 2. `runs/<id>` is renamed into `trash/` (both directories fsynced), so
//!    the run is gone from the logs in one atomic step;
//! 3. the applier removes the run's entries from the store;
//! 4. the WAL writer closes the log and forgets the run (a new record for
//!    the id now starts a new run);
//! 5. the trash entry is deleted.
//!
//! A crash after step 2 leaves a store entry without a log, which recovery
//! removes (`replay::catch_up`); whatever is left in `trash/` is deleted at
//! the next start. A crash before step 2 leaves the run deleted but intact,
//! and the next `gc` removes it.

use std::fs::File;
use std::path::{Path, PathBuf};

use tonic::Status;
use tracklab_proto::v1::{GcRequest, GcResponse};
use tracklab_store::DataDir;

use crate::core::{Core, now_us};

/// Size of everything in a directory tree (best effort).
fn tree_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

fn fsync_dir(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

/// Moves a run's directory into the trash; returns where it went.
fn move_to_trash(data: &DataDir, run_id: &str) -> std::io::Result<PathBuf> {
    let trash = data.trash_dir();
    std::fs::create_dir_all(&trash)?;
    let dest = trash.join(format!("{run_id}.{}", now_us()));
    std::fs::rename(data.run_dir(run_id), &dest)?;
    fsync_dir(&data.runs_dir())?;
    fsync_dir(&trash)?;
    Ok(dest)
}

/// Deletes whatever an interrupted `gc` left in the trash (at start-up).
pub fn empty_trash(data: &DataDir) -> std::io::Result<()> {
    match std::fs::remove_dir_all(data.trash_dir()) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> impl Future<Output = Result<T, Status>> {
    let task = tokio::task::spawn_blocking(f);
    async move {
        task.await
            .map_err(|e| Status::internal(format!("gc task failed: {e}")))
    }
}

pub async fn gc(core: &Core, req: GcRequest) -> Result<GcResponse, Status> {
    core.wait_applied().await?;
    let store = core.store.clone();
    let store_bytes_before = blocking(move || store.size_on_disk()).await?;
    let mut ids: Vec<String> = core
        .all_runs()
        .iter()
        .filter(|r| r.state.deleted())
        .map(|r| r.state.run_id().to_string())
        .collect();
    ids.sort();
    let mut resp = GcResponse {
        store_bytes_before,
        ..Default::default()
    };
    // Registered model versions keep the runs that produced their artifact
    // (the artifact's manifest lives in that run's log).
    let registry = crate::catalog::registry(core).await?;
    for run_id in ids {
        // A fresh look: a resume or restore may have raced this gc.
        let Some(run) = core.run(&run_id).filter(|r| r.state.deleted()) else {
            continue;
        };
        let registered = run.state.logged_artifacts().iter().find_map(|l| {
            registry.models.iter().find_map(|(model, m)| {
                m.versions.iter().find_map(|(n, v)| {
                    (v.artifact_project == l.project
                        && v.artifact_name == l.name
                        && v.artifact_digest == l.digest)
                        .then(|| format!("{model} v{n}"))
                })
            })
        });
        if let Some(model) = registered {
            resp.kept_runs.push(format!(
                "run {run_id}: it produced the artifact of registered model {model}"
            ));
            continue;
        }
        let data = core.data.clone();
        let dir = data.run_dir(&run_id);
        let bytes = blocking(move || tree_bytes(&dir)).await?;
        if !req.dry_run {
            if let Err(why) = core.forget_log(&run_id, run.applied_end).await? {
                tracing::info!(run_id, "{why}");
                continue;
            }
            let id = run_id.clone();
            let moved = blocking(move || move_to_trash(&data, &id)).await?;
            let moved = match moved {
                Ok(m) => m,
                Err(e) => {
                    core.release_log(&run_id);
                    return Err(Status::internal(format!(
                        "moving the log of run {run_id} to the trash failed: {e}; the run stays deleted, run gc again after fixing this"
                    )));
                }
            };
            let forgotten = core.forget_state(&run_id).await;
            // The log is in the trash: new records for this id start afresh.
            core.release_log(&run_id);
            forgotten?;
            if let Err(e) = blocking(move || std::fs::remove_dir_all(&moved)).await? {
                tracing::warn!(run_id, error = %e, "deleting a trash entry failed; it goes at the next start");
            }
            tracing::info!(run_id, "deleted run removed by gc");
        }
        resp.log_bytes_freed += bytes;
        resp.removed_runs.push(run_id);
    }
    core.wait_applied().await?;
    let (store, blobs, dry_run) = (core.store.clone(), core.blobs.clone(), req.dry_run);
    let (removed, freed) = blocking(move || sweep_blobs(&store, &blobs, dry_run)).await??;
    resp.blobs_removed = removed;
    resp.blob_bytes_freed = freed;
    let store = core.store.clone();
    resp.store_bytes_after = blocking(move || store.size_on_disk()).await?;
    Ok(resp)
}

/// A blob younger than this is kept even if nothing names it yet: it may
/// be an upload whose record is still on its way (`--blob-grace-secs`,
/// default an hour).
pub static BLOB_GRACE: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();
const DEFAULT_BLOB_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Mark and sweep: removes blobs that no artifact version, saved run file
/// or registered model names (and that are older than [`BLOB_GRACE`]).
/// Crash-safe: a blob is one file, removed whole; what a crash leaves is
/// only unreferenced blobs the next gc removes.
fn sweep_blobs(
    store: &tracklab_store::Store,
    blobs: &tracklab_blobs::BlobStore,
    dry_run: bool,
) -> Result<(u64, u64), Status> {
    let marked = store
        .referenced_blobs()
        .map_err(|e| Status::internal(e.to_string()))?;
    let all = blobs.list().map_err(|e| Status::internal(e.to_string()))?;
    let (mut removed, mut freed) = (0, 0);
    for d in all {
        if marked.contains(&d.to_hex()) {
            continue;
        }
        let path = blobs.path(&d);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let young = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_none_or(|age| age < *BLOB_GRACE.get().unwrap_or(&DEFAULT_BLOB_GRACE));
        if young {
            continue;
        }
        if !dry_run {
            blobs
                .remove(&d)
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        removed += 1;
        freed += meta.len();
    }
    Ok((removed, freed))
}
