//! `tracklab._native`: the Rust client behind the Python SDK.

mod convert;
mod errors;
mod offline;
mod query;
mod run;
mod runtime;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<run::NativeRun>()?;
    m.add_class::<query::NativeQuery>()?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
