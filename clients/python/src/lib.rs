//! `tracklab._native`: the Rust client behind the Python SDK.

mod catalog;
mod convert;
mod errors;
mod offline;
mod query;
mod run;
mod runtime;
mod session;
mod sweeps;

use pyo3::prelude::*;

/// Runs the tracklab-daemon in this process until it is stopped (SIGTERM,
/// SIGINT or Admin.Shutdown); `args` are its command line, program name
/// first. Returns its exit code. This is how the wheel ships the daemon:
/// `python -m tracklab daemon --data-dir DIR`.
#[pyfunction]
fn run_daemon(py: Python<'_>, args: Vec<String>) -> i32 {
    py.detach(move || tracklab_daemon::main_with_args(args))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_daemon, m)?)?;
    m.add_class::<run::NativeRun>()?;
    m.add_class::<query::NativeQuery>()?;
    m.add_class::<sweeps::NativeSweeps>()?;
    errors::register(m)?;
    catalog::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
