//! `NativeQuery`: reading runs back (`tracklab.Api`), and editing them.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyList, PyString};
use tracklab_proto::v1::{
    self, ConsoleRequest, EditRunRequest, GetRunRequest, HistoryRequest, ListRunsRequest, RunInfo,
};

use crate::catalog::{artifact_dict, model_dict};
use crate::convert::{items_dict, to_py};
use crate::session::Session;

type Query = v1::query_client::QueryClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        tracklab_client::Auth,
    >,
>;

/// Largest reply accepted (a long history in one message).
const MAX_MESSAGE_BYTES: usize = 1 << 30;

#[pyclass(module = "tracklab._native")]
pub struct NativeQuery {
    s: Session,
}

fn state_name(state: i32) -> &'static str {
    match v1::RunState::try_from(state) {
        Ok(v1::RunState::Running) => "running",
        Ok(v1::RunState::Finished) => "finished",
        Ok(v1::RunState::Failed) => "failed",
        Ok(v1::RunState::Crashed) => "crashed",
        _ => "unknown",
    }
}

/// A run as the dict `tracklab.Api` builds its objects from.
fn run_dict<'py>(py: Python<'py>, r: &RunInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", &r.run_id)?;
    d.set_item("project", &r.project)?;
    d.set_item("name", &r.name)?;
    d.set_item("group", &r.group)?;
    d.set_item("job_type", &r.job_type)?;
    d.set_item("tags", r.tags.clone())?;
    d.set_item("notes", &r.notes)?;
    d.set_item("state", state_name(r.state))?;
    d.set_item("exit_code", r.exit_code)?;
    d.set_item("created_us", r.created_us)?;
    d.set_item("updated_us", r.updated_us)?;
    d.set_item("host", &r.host)?;
    d.set_item("program", &r.program)?;
    d.set_item("args", r.args.clone())?;
    d.set_item("python", &r.python)?;
    d.set_item("user", &r.user)?;
    d.set_item("pid", r.pid)?;
    d.set_item("resumed", r.resumed)?;
    d.set_item("next_step", r.next_step)?;
    d.set_item("history_rows", r.history_rows)?;
    d.set_item("dropped_steps", r.dropped_steps)?;
    d.set_item("warnings", r.warnings.clone())?;
    d.set_item("config", items_dict(py, &r.config)?)?;
    d.set_item("summary", items_dict(py, &r.summary)?)?;
    d.set_item("console_lines", r.console_lines)?;
    d.set_item("starting_step", r.starting_step)?;
    d.set_item("deleted", r.deleted)?;
    d.set_item("sweep_id", &r.sweep_id)?;
    d.set_item(
        "files",
        r.files.iter().map(|f| f.path.clone()).collect::<Vec<_>>(),
    )?;
    // Saved files with their bytes: path -> (digest, size).
    let stored = PyDict::new(py);
    for f in r.files.iter().filter(|f| !f.digest.is_empty()) {
        stored.set_item(&f.path, (&f.digest, f.size))?;
    }
    d.set_item("stored_files", stored)?;
    if let Some(g) = &r.git {
        let git = PyDict::new(py);
        git.set_item("commit", &g.commit)?;
        git.set_item("branch", &g.branch)?;
        git.set_item("remote", &g.remote)?;
        git.set_item("dirty", g.dirty)?;
        d.set_item("git", git)?;
    } else {
        d.set_item("git", py.None())?;
    }
    let metrics = PyList::empty(py);
    for m in &r.metrics {
        let md = PyDict::new(py);
        md.set_item(
            "name",
            if m.name.is_empty() {
                &m.glob_name
            } else {
                &m.name
            },
        )?;
        md.set_item("step_metric", &m.step_metric)?;
        md.set_item("hidden", m.hidden)?;
        md.set_item(
            "goal",
            match v1::Goal::try_from(m.goal) {
                Ok(v1::Goal::Minimize) => Some("minimize"),
                Ok(v1::Goal::Maximize) => Some("maximize"),
                _ => None,
            },
        )?;
        metrics.append(md)?;
    }
    d.set_item("metrics", metrics)?;
    Ok(d)
}

impl NativeQuery {
    fn registry<'py>(&self, py: Python<'py>, op: v1::RegistryOp) -> PyResult<Bound<'py, PyDict>> {
        let mut a = self.s.conn.admin();
        let m = self.block(py, async move {
            a.registry(v1::RegistryRequest { op: Some(op) }).await
        })?;
        model_dict(py, m.get_ref())
    }

    /// The Query service, accepting replies up to `MAX_MESSAGE_BYTES`.
    fn query(&self) -> Query {
        self.s
            .conn
            .query()
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    fn block<T: Send>(
        &self,
        py: Python<'_>,
        f: impl Future<Output = Result<T, tonic::Status>> + Send,
    ) -> PyResult<T> {
        self.s.block(py, f)
    }
}

#[pymethods]
impl NativeQuery {
    #[new]
    fn new(py: Python<'_>, data_dir: String) -> PyResult<Self> {
        Ok(NativeQuery {
            s: Session::connect(py, data_dir, "tracklab.Api()")?,
        })
    }

    #[pyo3(signature = (project=None, include_deleted=false))]
    fn list_runs<'py>(
        &self,
        py: Python<'py>,
        project: Option<String>,
        include_deleted: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut q = self.query();
        let req = ListRunsRequest {
            project: project.unwrap_or_default(),
            include_deleted,
            ..Default::default()
        };
        let runs = self.block(py, async move { q.list_runs(req).await })?;
        let out = PyList::empty(py);
        for r in &runs.get_ref().runs {
            out.append(run_dict(py, r)?)?;
        }
        Ok(out)
    }

    fn get_run<'py>(&self, py: Python<'py>, run_id: String) -> PyResult<Bound<'py, PyDict>> {
        let mut q = self.query();
        let r = self.block(py, async move { q.get_run(GetRunRequest { run_id }).await })?;
        run_dict(py, r.get_ref())
    }

    /// One artifact version: `version` is "v3", an alias or a digest
    /// ("" = latest).
    fn get_artifact<'py>(
        &self,
        py: Python<'py>,
        project: String,
        name: String,
        version: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut q = self.query();
        let req = v1::GetArtifactRequest {
            project,
            name,
            version,
        };
        let v = self.block(py, async move { q.get_artifact(req).await })?;
        artifact_dict(py, v.get_ref())
    }

    /// Deletes an artifact version; returns it as it was.
    fn delete_artifact<'py>(
        &self,
        py: Python<'py>,
        project: String,
        name: String,
        version: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut a = self.s.conn.admin();
        let req = v1::GetArtifactRequest {
            project,
            name,
            version,
        };
        let v = self.block(py, async move { a.delete_artifact(req).await })?;
        artifact_dict(py, v.get_ref())
    }

    /// Versions of one artifact (`name`), or the latest of each.
    #[pyo3(signature = (project, name=String::new(), r#type=String::new()))]
    fn list_artifacts<'py>(
        &self,
        py: Python<'py>,
        project: String,
        name: String,
        r#type: String,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut q = self.query();
        let req = v1::ListArtifactsRequest {
            project,
            name,
            r#type,
        };
        let resp = self.block(py, async move { q.list_artifacts(req).await })?;
        let out = PyList::empty(py);
        for v in &resp.get_ref().versions {
            out.append(artifact_dict(py, v)?)?;
        }
        Ok(out)
    }

    /// `{"logged": [...], "used": [(version dict, role), ...]}` of a run.
    fn run_artifacts<'py>(&self, py: Python<'py>, run_id: String) -> PyResult<Bound<'py, PyDict>> {
        let mut q = self.query();
        let resp = self.block(py, async move {
            q.run_artifacts(GetRunRequest { run_id }).await
        })?;
        let r = resp.get_ref();
        let d = PyDict::new(py);
        let logged = PyList::empty(py);
        for v in &r.logged {
            logged.append(artifact_dict(py, v)?)?;
        }
        let used = PyList::empty(py);
        for (v, role) in r.used.iter().zip(&r.used_roles) {
            used.append((artifact_dict(py, v)?, role))?;
        }
        d.set_item("logged", logged)?;
        d.set_item("used", used)?;
        Ok(d)
    }

    /// Registered models (one by name, or all).
    #[pyo3(signature = (name=String::new()))]
    fn list_models<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyList>> {
        let mut q = self.query();
        let resp = self.block(py, async move {
            q.list_models(v1::ListModelsRequest { name }).await
        })?;
        let out = PyList::empty(py);
        for m in &resp.get_ref().models {
            out.append(model_dict(py, m)?)?;
        }
        Ok(out)
    }

    /// Registers an artifact version as a new version of `model`.
    #[pyo3(signature = (model, artifact_project, artifact_name, artifact_version, user=String::new(), reason=String::new()))]
    #[allow(clippy::too_many_arguments)]
    fn register_model<'py>(
        &self,
        py: Python<'py>,
        model: String,
        artifact_project: String,
        artifact_name: String,
        artifact_version: String,
        user: String,
        reason: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        // The daemon records a digest: resolve "v3"/aliases first.
        let mut q = self.query();
        let get = v1::GetArtifactRequest {
            project: artifact_project.clone(),
            name: artifact_name.clone(),
            version: artifact_version,
        };
        let v = self.block(py, async move { q.get_artifact(get).await })?;
        let op = v1::RegistryOp {
            model,
            user,
            reason,
            op: Some(v1::registry_op::Op::Register(v1::RegisterVersion {
                version: 0,
                artifact_project,
                artifact_name,
                artifact_digest: v.get_ref().digest.clone(),
                source_run: String::new(),
            })),
        };
        self.registry(py, op)
    }

    /// Moves a model version to a stage ("None", "Staging", "Production",
    /// "Archived").
    #[pyo3(signature = (model, version, stage, archive_existing=false, user=String::new(), reason=String::new()))]
    #[allow(clippy::too_many_arguments)]
    fn transition_model<'py>(
        &self,
        py: Python<'py>,
        model: String,
        version: u32,
        stage: String,
        archive_existing: bool,
        user: String,
        reason: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let stage = tracklab_state::registry::stage_from_name(&stage).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "stage {stage:?}: use None, Staging, Production or Archived"
            ))
        })?;
        let op = v1::RegistryOp {
            model,
            user,
            reason,
            op: Some(v1::registry_op::Op::Transition(v1::StageTransition {
                version,
                stage: stage as i32,
                archive_existing,
            })),
        };
        self.registry(py, op)
    }

    /// Points `alias` at a model version, or removes it.
    #[pyo3(signature = (model, alias, version=0, remove=false, user=String::new()))]
    fn alias_model<'py>(
        &self,
        py: Python<'py>,
        model: String,
        alias: String,
        version: u32,
        remove: bool,
        user: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let op = v1::RegistryOp {
            model,
            user,
            reason: String::new(),
            op: Some(v1::registry_op::Op::Alias(v1::ModelAlias {
                version,
                alias,
                remove,
            })),
        };
        self.registry(py, op)
    }

    /// A run's history as rows, `[{"_step": s, key: value, ...}, ...]` in
    /// step order: the series merged by step here, so that reading a long
    /// history does not build them in Python. With `required`, only rows
    /// that hold every one of those keys (wandb's `scan_history(keys=...)`).
    #[pyo3(signature = (run_id, keys=None, min_step=None, max_step=None, max_points=0, required=None))]
    #[allow(clippy::too_many_arguments)]
    fn history_rows<'py>(
        &self,
        py: Python<'py>,
        run_id: String,
        keys: Option<Vec<String>>,
        min_step: Option<i64>,
        max_step: Option<i64>,
        max_points: u32,
        required: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut q = self.query();
        let req = HistoryRequest {
            run_id,
            keys: keys.unwrap_or_default(),
            min_step,
            max_step,
            max_points,
        };
        let resp = self.block(py, async move { q.history(req).await })?;
        let series = &resp.get_ref().series;
        // Every row holds `_step`, whether or not it is a stored series.
        let required: Vec<String> = required
            .unwrap_or_default()
            .into_iter()
            .filter(|k| k != "_step")
            .collect();
        if required.iter().any(|k| !series.iter().any(|s| &s.key == k)) {
            // A required key the run never logged: no row holds it.
            return Ok(PyList::empty(py));
        }
        let is_required: Vec<bool> = series.iter().map(|s| required.contains(&s.key)).collect();
        history_rows_list(py, series, &is_required, required.len())
    }

    /// Console lines `offset..offset+limit` as (stream, line, timestamp_us).
    #[pyo3(signature = (run_id, offset=0, limit=10_000))]
    fn console(
        &self,
        py: Python<'_>,
        run_id: String,
        offset: u64,
        limit: u32,
    ) -> PyResult<Vec<(i32, String, i64)>> {
        let mut q = self.query();
        let req = ConsoleRequest {
            run_id,
            offset,
            limit,
        };
        let resp = self.block(py, async move { q.console(req).await })?;
        Ok(resp
            .into_inner()
            .lines
            .into_iter()
            .map(|l| (l.stream, l.line, l.timestamp_us))
            .collect())
    }

    /// Changes a run's name, notes or tags (a record the daemon appends).
    #[pyo3(signature = (run_id, name=None, notes=None, tags=None))]
    fn edit_run<'py>(
        &self,
        py: Python<'py>,
        run_id: String,
        name: Option<String>,
        notes: Option<String>,
        tags: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut a = self.s.conn.admin();
        let req = EditRunRequest {
            run_id,
            update: Some(v1::RunUpdate {
                name,
                notes,
                set_tags: tags.is_some(),
                tags: tags.unwrap_or_default(),
                ..Default::default()
            }),
            state: v1::RunState::Unspecified as i32,
            force: false,
        };
        let r = self.block(py, async move { a.edit_run(req).await })?;
        run_dict(py, r.get_ref())
    }
}

/// Merges series (each sorted by step) into row dicts in step order. A row
/// is kept only if it holds all `need` series marked in `is_required`.
fn history_rows_list<'py>(
    py: Python<'py>,
    series: &[v1::Series],
    is_required: &[bool],
    need: usize,
) -> PyResult<Bound<'py, PyList>> {
    let step_key = pyo3::intern!(py, "_step");
    let names: Vec<Bound<'py, PyString>> =
        series.iter().map(|s| PyString::new(py, &s.key)).collect();
    let mut cursor = vec![0usize; series.len()];
    let mut rows: Vec<Bound<'py, PyDict>> = Vec::new();
    loop {
        // The smallest step any series has left.
        let next = series
            .iter()
            .zip(&cursor)
            .filter_map(|(s, &i)| s.steps.get(i).copied())
            .min();
        let Some(step) = next else { break };
        let row = PyDict::new(py);
        row.set_item(step_key, step)?;
        let mut held = 0;
        for (((s, i), name), &req) in series
            .iter()
            .zip(cursor.iter_mut())
            .zip(&names)
            .zip(is_required)
        {
            if s.steps.get(*i) == Some(&step) {
                row.set_item(name, series_value(py, s, *i)?)?;
                *i += 1;
                held += usize::from(req);
            }
        }
        if held >= need {
            rows.push(row);
        }
    }
    PyList::new(py, rows)
}

/// The `i`th value of a series, read from whichever form it came in.
fn series_value<'py>(py: Python<'py>, s: &v1::Series, i: usize) -> PyResult<Bound<'py, PyAny>> {
    if let Some(&f) = s.floats.get(i) {
        return Ok(PyFloat::new(py, f).into_any());
    }
    if let Some(&n) = s.ints.get(i) {
        return Ok(n.into_pyobject(py)?.into_any());
    }
    to_py(py, s.values.get(i))
}
