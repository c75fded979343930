//! One tokio runtime per process. A forked child (PyTorch DataLoader
//! workers) never touches its parent's runtime: its threads do not exist
//! in the child, so the child builds its own, and the parent's is leaked
//! rather than dropped (dropping it would wait for threads that are gone).

use std::sync::{Arc, Mutex};

use pyo3::PyResult;
use pyo3::exceptions::PyRuntimeError;
use tokio::runtime::Runtime;

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime of this process.
pub fn runtime() -> PyResult<Arc<Runtime>> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, rt)) = slot.as_ref()
        && *owner == pid
    {
        return Ok(rt.clone());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("tracklab-io")
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start tracklab's I/O thread: {e}")))?;
    let rt = Arc::new(rt);
    if let Some(old) = slot.replace((pid, rt.clone())) {
        // Inherited through fork(): its threads live only in the parent.
        std::mem::forget(old);
    }
    Ok(rt)
}
