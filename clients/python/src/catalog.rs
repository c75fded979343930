//! Artifacts, blobs and the model registry for the Python SDK.
//!
//! The SDK shares the daemon's disk (it reads the daemon's token from the
//! data dir), so it stores and reads blobs in `<data_dir>/blobs` itself,
//! through `tracklab-blobs` (crash-safe writes, verified reads): no bytes
//! cross the socket, and offline runs store theirs the same way.

use std::path::Path;

use pyo3::exceptions::{PyFileNotFoundError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tracklab_blobs::{BlobError, BlobStore, Digest};
use tracklab_proto::v1;

use crate::errors::TracklabError;

/// Report progress to Python every this many bytes of a big file.
const PROGRESS_EVERY: u64 = 64 << 20;

fn blob_error(e: BlobError) -> PyErr {
    match e {
        BlobError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(e.to_string())
        }
        e => TracklabError::new_err(e.to_string()),
    }
}

fn store(blobs_dir: &str) -> PyResult<BlobStore> {
    BlobStore::open(Path::new(blobs_dir)).map_err(blob_error)
}

fn digest(s: &str) -> PyResult<Digest> {
    Digest::from_hex(s).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Stores a copy of the file at `path` in the blob store at `blobs_dir`;
/// returns `(digest, size)`. `progress(bytes_done, bytes_total)` is called
/// every 64 MiB of a big file (GIL taken only then).
#[pyfunction]
#[pyo3(signature = (blobs_dir, path, progress=None))]
pub fn blob_put_file(
    py: Python<'_>,
    blobs_dir: String,
    path: String,
    progress: Option<Py<PyAny>>,
) -> PyResult<(String, u64)> {
    let store = store(&blobs_dir)?;
    let src = Path::new(&path).to_path_buf();
    let (d, n) = py.detach(|| -> Result<(Digest, u64), PyErr> {
        let mut f = std::fs::File::open(&src).map_err(|e| {
            let msg = format!("opening {}: {e}", src.display());
            if e.kind() == std::io::ErrorKind::NotFound {
                PyFileNotFoundError::new_err(msg)
            } else {
                TracklabError::new_err(msg)
            }
        })?;
        let total = f.metadata().map(|m| m.len()).unwrap_or(0);
        let mut w = store.writer().map_err(blob_error)?;
        let mut buf = vec![0u8; 1 << 20];
        let mut next_report = PROGRESS_EVERY;
        loop {
            let n = match std::io::Read::read(&mut f, &mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(TracklabError::new_err(format!(
                        "reading {}: {e}",
                        src.display()
                    )));
                }
            };
            w.write_all_bytes(&buf[..n]).map_err(blob_error)?;
            if let Some(cb) = &progress
                && w.size() >= next_report
            {
                next_report += PROGRESS_EVERY;
                let done = w.size();
                Python::attach(|py| cb.call1(py, (done, total)).map(|_| ()))?;
            }
        }
        w.finish(None).map_err(blob_error)
    })?;
    Ok((d.to_hex(), n))
}

/// Stores `data`; returns `(digest, size)`.
#[pyfunction]
pub fn blob_put_bytes(py: Python<'_>, blobs_dir: String, data: Vec<u8>) -> PyResult<(String, u64)> {
    let store = store(&blobs_dir)?;
    let (d, n) = py.detach(|| store.put_bytes(&data)).map_err(blob_error)?;
    Ok((d.to_hex(), n))
}

/// Copies blob `digest`, verified, to `dest` (whole or not at all).
#[pyfunction]
pub fn blob_export(
    py: Python<'_>,
    blobs_dir: String,
    digest_hex: String,
    dest: String,
) -> PyResult<u64> {
    let store = store(&blobs_dir)?;
    let d = digest(&digest_hex)?;
    py.detach(|| store.copy_to(&d, Path::new(&dest)))
        .map_err(blob_error)
}

/// The bytes of blob `digest`, verified.
#[pyfunction]
pub fn blob_read(py: Python<'_>, blobs_dir: String, digest_hex: String) -> PyResult<Vec<u8>> {
    let store = store(&blobs_dir)?;
    let d = digest(&digest_hex)?;
    py.detach(|| store.read(&d)).map_err(blob_error)
}

/// The SHA-256 and size of a file, without storing it (references).
#[pyfunction]
pub fn file_digest(py: Python<'_>, path: String) -> PyResult<(String, u64)> {
    py.detach(|| -> std::io::Result<(String, u64)> {
        use sha2::Digest as _;
        let mut f = std::fs::File::open(&path)?;
        let mut h = sha2::Sha256::new();
        let n = std::io::copy(&mut f, &mut h)?;
        Ok((hex::encode(h.finalize()), n))
    })
    .map_err(|e| {
        let msg = format!("reading {path}: {e}");
        if e.kind() == std::io::ErrorKind::NotFound {
            PyFileNotFoundError::new_err(msg)
        } else {
            TracklabError::new_err(msg)
        }
    })
}

/// The manifest digest of `(path, digest, size, ref)` entries (what the
/// daemon checks; see `ArtifactLog.digest` in records.proto).
#[pyfunction]
pub fn manifest_digest(entries: Vec<EntryTuple>) -> String {
    tracklab_state::artifact::manifest_digest(&manifest_entries(entries))
}

/// A manifest entry as Python passes it: `(path, digest, size, ref)`.
pub type EntryTuple = (String, String, u64, String);

pub fn manifest_entries(entries: Vec<EntryTuple>) -> Vec<v1::ManifestEntry> {
    entries
        .into_iter()
        .map(|(path, digest, size, r#ref)| v1::ManifestEntry {
            path,
            digest,
            size,
            r#ref,
        })
        .collect()
}

/// An artifact version as a dict.
pub fn artifact_dict<'py>(
    py: Python<'py>,
    v: &v1::ArtifactVersion,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("project", &v.project)?;
    d.set_item("name", &v.name)?;
    d.set_item("type", &v.r#type)?;
    d.set_item("version", v.version)?;
    d.set_item("digest", &v.digest)?;
    d.set_item("description", &v.description)?;
    d.set_item("metadata_json", &v.metadata_json)?;
    d.set_item("aliases", v.aliases.clone())?;
    let entries = PyList::empty(py);
    for e in &v.entries {
        entries.append((&e.path, &e.digest, e.size, &e.r#ref))?;
    }
    d.set_item("entries", entries)?;
    d.set_item("size", v.size)?;
    d.set_item("created_by", &v.created_by)?;
    d.set_item("created_us", v.created_us)?;
    d.set_item("role", &v.role)?;
    d.set_item("logged_by", v.logged_by.clone())?;
    let used = PyList::empty(py);
    for u in &v.used_by {
        used.append((&u.run_id, &u.role))?;
    }
    d.set_item("used_by", used)?;
    Ok(d)
}

/// A registered model as a dict.
pub fn model_dict<'py>(py: Python<'py>, m: &v1::ModelInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &m.name)?;
    d.set_item("created_us", m.created_us)?;
    let versions = PyList::empty(py);
    for v in &m.versions {
        let vd = PyDict::new(py);
        vd.set_item("version", v.version)?;
        vd.set_item("stage", tracklab_state::registry::stage_name(v.stage))?;
        vd.set_item("artifact_project", &v.artifact_project)?;
        vd.set_item("artifact_name", &v.artifact_name)?;
        vd.set_item("artifact_digest", &v.artifact_digest)?;
        vd.set_item("source_run", &v.source_run)?;
        vd.set_item("created_us", v.created_us)?;
        vd.set_item("user", &v.user)?;
        vd.set_item("reason", &v.reason)?;
        vd.set_item("aliases", v.aliases.clone())?;
        let tr = PyList::empty(py);
        for t in &v.transitions {
            tr.append((
                tracklab_state::registry::stage_name(t.from),
                tracklab_state::registry::stage_name(t.to),
                t.timestamp_us,
                &t.user,
                &t.reason,
            ))?;
        }
        vd.set_item("transitions", tr)?;
        versions.append(vd)?;
    }
    d.set_item("versions", versions)?;
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(blob_put_file, m)?)?;
    m.add_function(wrap_pyfunction!(blob_put_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(blob_export, m)?)?;
    m.add_function(wrap_pyfunction!(blob_read, m)?)?;
    m.add_function(wrap_pyfunction!(file_digest, m)?)?;
    m.add_function(wrap_pyfunction!(manifest_digest, m)?)?;
    Ok(())
}
