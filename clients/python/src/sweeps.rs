//! `NativeSweeps`: the daemon's Sweeps service for `tracklab.sweep` and
//! `tracklab.agent`. Sweep documents cross as JSON text (the Python side
//! parses them); see daemon/src/sweeps/mod.rs for their fields.

use pyo3::prelude::*;
use tracklab_proto::v1;

use crate::session::Session;

/// A run handed out: (run id, parameters as JSON, project).
type Assigned = (String, String, String);

#[pyclass(module = "tracklab._native")]
pub struct NativeSweeps {
    s: Session,
}

#[pymethods]
impl NativeSweeps {
    #[new]
    fn new(py: Python<'_>, data_dir: String) -> PyResult<Self> {
        Ok(NativeSweeps {
            s: Session::connect(py, data_dir, "sweep connection")?,
        })
    }

    /// Creates a sweep; returns its document (JSON text).
    fn create(&self, py: Python<'_>, project: String, config_json: String) -> PyResult<String> {
        let mut c = self.s.conn.sweeps();
        let d = self.s.block(py, async move {
            c.create(v1::CreateSweepRequest {
                project,
                config_json,
            })
            .await
        })?;
        Ok(d.into_inner().json)
    }

    /// The next run: (run_id, params_json, project), or None with the
    /// reason when the sweep has none left.
    fn next(
        &self,
        py: Python<'_>,
        sweep_id: String,
        agent: String,
    ) -> PyResult<(Option<Assigned>, String)> {
        let mut c = self.s.conn.sweeps();
        let r = self
            .s
            .block(py, async move {
                c.next(v1::NextSweepRunRequest { sweep_id, agent }).await
            })?
            .into_inner();
        if r.done {
            return Ok((None, r.reason));
        }
        Ok((Some((r.run_id, r.params_json, r.project)), String::new()))
    }

    /// Which of `run_ids` must stop: [(run_id, reason)].
    fn poll(
        &self,
        py: Python<'_>,
        sweep_id: String,
        run_ids: Vec<String>,
    ) -> PyResult<Vec<(String, String)>> {
        let mut c = self.s.conn.sweeps();
        let r = self
            .s
            .block(py, async move {
                c.poll(v1::PollSweepRequest { sweep_id, run_ids }).await
            })?
            .into_inner();
        Ok(r.stop.into_iter().zip(r.reasons).collect())
    }

    fn get(&self, py: Python<'_>, sweep_id: String) -> PyResult<String> {
        let mut c = self.s.conn.sweeps();
        let d = self.s.block(
            py,
            async move { c.get(v1::GetSweepRequest { sweep_id }).await },
        )?;
        Ok(d.into_inner().json)
    }

    fn set_state(&self, py: Python<'_>, sweep_id: String, state: String) -> PyResult<String> {
        let mut c = self.s.conn.sweeps();
        let d = self.s.block(py, async move {
            c.set_state(v1::SetSweepStateRequest { sweep_id, state })
                .await
        })?;
        Ok(d.into_inner().json)
    }
}
