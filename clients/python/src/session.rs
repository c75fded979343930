//! A connection to the daemon for one process, and how the native classes
//! wait on it: with the GIL released, refusing use from a forked child
//! (whose copy of the runtime has no threads).

use std::sync::Arc;

use pyo3::prelude::*;
use tokio::runtime::Runtime;
use tracklab_client::Connection;

use crate::errors::{client_error, status_error};
use crate::runtime::runtime;

pub struct Session {
    pub conn: Connection,
    rt: Arc<Runtime>,
    /// The process that connected.
    pid: u32,
    /// What the user made (for the fork error), e.g. "tracklab.Api()".
    what: &'static str,
}

impl Session {
    pub fn connect(py: Python<'_>, data_dir: String, what: &'static str) -> PyResult<Session> {
        let rt = runtime()?;
        let rt2 = rt.clone();
        let conn = py
            .detach(move || rt2.block_on(Connection::connect(std::path::Path::new(&data_dir))))
            .map_err(client_error)?;
        Ok(Session {
            conn,
            rt,
            pid: std::process::id(),
            what,
        })
    }

    /// Runs one request to completion.
    pub fn block<T: Send>(
        &self,
        py: Python<'_>,
        f: impl Future<Output = Result<T, tonic::Status>> + Send,
    ) -> PyResult<T> {
        if std::process::id() != self.pid {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                "this {} was created by process {}; create a new one in this process",
                self.what, self.pid
            )));
        }
        let rt = self.rt.clone();
        py.detach(move || rt.block_on(f)).map_err(status_error)
    }
}
