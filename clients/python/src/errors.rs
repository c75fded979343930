//! Python exceptions of the native module (re-exported by `tracklab.errors`).

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use tonic::Code;
use tracklab_client::ClientError;

create_exception!(
    _native,
    TracklabError,
    PyException,
    "An error from TrackLab or its daemon."
);
create_exception!(
    _native,
    DaemonNotRunning,
    TracklabError,
    "No tracklab-daemon answers for the data dir."
);
create_exception!(
    _native,
    UsageError,
    TracklabError,
    "The daemon refused a call as a usage error (bad input, existing run id, unknown run)."
);

pub fn client_error(e: ClientError) -> PyErr {
    match &e {
        ClientError::NotRunning { .. } | ClientError::Connect { .. } => {
            DaemonNotRunning::new_err(e.to_string())
        }
        ClientError::Status(s)
            if matches!(
                s.code(),
                Code::InvalidArgument
                    | Code::AlreadyExists
                    | Code::NotFound
                    | Code::FailedPrecondition
            ) =>
        {
            UsageError::new_err(s.message().to_string())
        }
        ClientError::Status(s) if s.code() == Code::Unavailable => {
            DaemonNotRunning::new_err(s.message().to_string())
        }
        _ => TracklabError::new_err(e.to_string()),
    }
}

pub fn status_error(s: tonic::Status) -> PyErr {
    client_error(ClientError::Status(s))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("TracklabError", py.get_type::<TracklabError>())?;
    m.add("DaemonNotRunning", py.get_type::<DaemonNotRunning>())?;
    m.add("UsageError", py.get_type::<UsageError>())?;
    Ok(())
}
