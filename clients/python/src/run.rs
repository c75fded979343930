//! `NativeRun`: one run being logged from Python. Every call but `finish`
//! only converts and enqueues (the GIL is held for microseconds); batching,
//! gRPC and waiting for durable acks happen on the process's I/O thread.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tokio::runtime::Runtime;
use tracklab_client::{DeliveryWatch, DurableWaiter, Run, RunOptions, Target};
use tracklab_proto::v1::{self, record::Payload};
use tracklab_state::validate::{MAX_RECORD_BYTES, validate_client_payload};

use crate::convert::{dict_items, items_dict, paths};
use crate::errors::{TracklabError, client_error};
use crate::offline::OfflineLog;
use crate::runtime::runtime;

fn offline_warnings(log: &OfflineLog) -> Vec<(String, String)> {
    log.state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .warnings()
        .map(|w| (w.kind.clone(), w.message.clone()))
        .collect()
}

/// Where a run's records go.
enum Backend {
    /// To the daemon, through the Rust client.
    Online(Run),
    /// Into a run log this process writes (`tracklab sync` imports it).
    Offline(OfflineLog),
}

/// Frozen (methods take `&self`): a `log()` from one Python thread never
/// collides with another thread's `sync()`/`finish()` waiting with the GIL
/// released; the mutex is held only to enqueue.
#[pyclass(module = "tracklab._native", frozen)]
pub struct NativeRun {
    backend: Mutex<Option<Backend>>,
    /// Reads the sender's current problem while `finish` owns the run.
    delivery: Option<DeliveryWatch>,
    pid: u32,
    rt: Arc<Runtime>,
    run_id: String,
}

fn get<'py, T>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Option<T>>
where
    T: for<'a> FromPyObject<'a, 'py>,
    for<'a> <T as FromPyObject<'a, 'py>>::Error: Into<PyErr>,
{
    match d.get_item(key)? {
        Some(v) if !v.is_none() => Ok(Some(v.extract::<T>().map_err(|e| {
            let e: PyErr = e.into();
            PyValueError::new_err(format!("run setting {key:?}: {e}"))
        })?)),
        _ => Ok(None),
    }
}

fn resume_mode(s: Option<String>) -> PyResult<i32> {
    Ok(match s.as_deref() {
        None | Some("never") => v1::ResumeMode::ResumeNever,
        Some("allow") => v1::ResumeMode::ResumeAllow,
        Some("must") => v1::ResumeMode::ResumeMust,
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "resume={other:?}: use \"allow\", \"must\" or \"never\""
            )));
        }
    } as i32)
}

/// The `RunStart` record from the SDK's settings dict.
fn run_start(
    start: &Bound<'_, PyDict>,
    fallback: Option<&Bound<'_, PyAny>>,
) -> PyResult<v1::RunStart> {
    let config = match start.get_item("config")? {
        Some(c) if !c.is_none() => dict_items(&c, fallback)?,
        _ => vec![],
    };
    let git = match start.get_item("git")? {
        Some(g) if !g.is_none() => {
            let g = g.cast_into::<PyDict>()?;
            Some(v1::GitInfo {
                commit: get(&g, "commit")?.unwrap_or_default(),
                branch: get(&g, "branch")?.unwrap_or_default(),
                remote: get(&g, "remote")?.unwrap_or_default(),
                dirty: get(&g, "dirty")?.unwrap_or_default(),
            })
        }
        _ => None,
    };
    let fork_from = get::<(String, i64)>(start, "fork_from")?
        .map(|(run_id, step)| v1::ForkFrom { run_id, step });
    Ok(v1::RunStart {
        project: get(start, "project")?.unwrap_or_default(),
        name: get(start, "name")?.unwrap_or_default(),
        group: get(start, "group")?.unwrap_or_default(),
        job_type: get(start, "job_type")?.unwrap_or_default(),
        tags: get(start, "tags")?.unwrap_or_default(),
        notes: get(start, "notes")?.unwrap_or_default(),
        config,
        host: get(start, "host")?.unwrap_or_default(),
        program: get(start, "program")?.unwrap_or_default(),
        args: get(start, "args")?.unwrap_or_default(),
        git,
        python: get(start, "python")?.unwrap_or_default(),
        user: get(start, "user")?.unwrap_or_default(),
        pid: std::process::id(),
        resume: resume_mode(get(start, "resume")?)?,
        fork_from,
        sweep_id: get(start, "sweep_id")?.unwrap_or_default(),
    })
}

fn summary_flags(names: &[String]) -> PyResult<v1::MetricSummary> {
    let mut s = v1::MetricSummary::default();
    for n in names {
        match n.as_str() {
            "min" => s.min = true,
            "max" => s.max = true,
            "mean" => s.mean = true,
            "first" => s.first = true,
            "last" => s.last = true,
            "none" => s.none = true,
            "best" | "copy" => {}
            other => {
                return Err(PyValueError::new_err(format!(
                    "summary {other:?}: use min, max, mean, first, last or none"
                )));
            }
        }
    }
    Ok(s)
}

impl NativeRun {
    fn check_pid(&self) -> PyResult<()> {
        if std::process::id() != self.pid {
            return Err(PyRuntimeError::new_err(format!(
                "run {} was started by process {}; a forked child cannot log to it (start its own run with tracklab.init() in the child)",
                self.run_id, self.pid
            )));
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Option<Backend>> {
        self.backend.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the backend of a run that is still going.
    fn with_backend<T>(&self, f: impl FnOnce(&mut Backend) -> PyResult<T>) -> PyResult<T> {
        self.check_pid()?;
        let mut guard = self.lock();
        let backend = guard.as_mut().ok_or_else(|| {
            PyRuntimeError::new_err(format!("run {} is already finished", self.run_id))
        })?;
        f(backend)
    }

    /// The daemon's checks, here in the caller: a bad value is a ValueError
    /// at `log()` (the run goes on) instead of a batch the daemon refuses
    /// (which would end the run).
    fn checked(&self, payload: Payload) -> PyResult<Payload> {
        validate_client_payload(&payload).map_err(|e| PyValueError::new_err(e.to_string()))?;
        // The envelope (run id, writer, seq, time) adds well under this.
        const ENVELOPE: usize = 256;
        let size = payload.encoded_len() + ENVELOPE;
        if size > MAX_RECORD_BYTES {
            return Err(PyValueError::new_err(format!(
                "this record is about {size} bytes encoded, over the limit of {MAX_RECORD_BYTES}: log large arrays and objects as files"
            )));
        }
        Ok(payload)
    }

    fn send(&self, payload: Payload) -> PyResult<u64> {
        let payload = self.checked(payload)?;
        self.with_backend(|b| match b {
            Backend::Online(run) => run.send(payload).map_err(client_error),
            Backend::Offline(log) => log.send(payload).map_err(TracklabError::new_err),
        })
    }
}

#[pymethods]
impl NativeRun {
    /// Starts (or resumes) a run; returns once the daemon has its start.
    #[new]
    // Keep buffering (and re-sending) through long daemon outages rather
    // than failing the user's training: finish() bounds the final wait and
    // spills what is unacknowledged to an offline log.
    #[pyo3(signature = (data_dir, run_id, start, fallback=None, reconnect_timeout_s=86_400.0))]
    fn new(
        py: Python<'_>,
        data_dir: String,
        run_id: String,
        start: &Bound<'_, PyDict>,
        fallback: Option<&Bound<'_, PyAny>>,
        reconnect_timeout_s: f64,
    ) -> PyResult<Self> {
        let start = run_start(start, fallback)?;
        let rt = runtime()?;
        let opts = RunOptions {
            run_id: run_id.clone(),
            start,
            reconnect_timeout: Some(Duration::from_secs_f64(reconnect_timeout_s.max(0.0))),
        };
        let target = Target::DataDir(data_dir.into());
        let rt2 = rt.clone();
        let run = py
            .detach(move || rt2.block_on(Run::start(target, opts)))
            .map_err(client_error)?;
        Ok(NativeRun {
            delivery: Some(run.delivery_watch()),
            backend: Mutex::new(Some(Backend::Online(run))),
            pid: std::process::id(),
            rt,
            run_id,
        })
    }

    /// Starts a run logged into a run-log file at `path` (no daemon).
    #[staticmethod]
    #[pyo3(signature = (path, run_id, start, fallback=None))]
    fn offline(
        path: String,
        run_id: String,
        start: &Bound<'_, PyDict>,
        fallback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let start = run_start(start, fallback)?;
        let mut log = OfflineLog::create(std::path::Path::new(&path), &run_id)
            .map_err(TracklabError::new_err)?;
        log.send(Payload::RunStart(start))
            .map_err(TracklabError::new_err)?;
        Ok(NativeRun {
            delivery: None,
            backend: Mutex::new(Some(Backend::Offline(log))),
            pid: std::process::id(),
            rt: runtime()?,
            run_id,
        })
    }

    #[getter]
    fn writer_id(&self) -> u64 {
        match &*self.lock() {
            Some(Backend::Online(r)) => r.writer_id(),
            Some(Backend::Offline(l)) => l.writer_id,
            None => 0,
        }
    }

    /// The offline log's path (None for a run logged through the daemon).
    #[getter]
    fn offline_path(&self) -> Option<String> {
        match &*self.lock() {
            Some(Backend::Offline(l)) => Some(l.path.display().to_string()),
            _ => None,
        }
    }

    /// The summary as this process computed it (offline runs only; None
    /// for a run logged through the daemon, which computes it there).
    fn local_summary<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        // Take the items under the locks, build Python objects after: the
        // conversion runs Python code, during which another thread may
        // take the GIL and want the backend lock.
        let items = match &*self.lock() {
            Some(Backend::Offline(l)) => l
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .summary_items(),
            _ => return Ok(None),
        };
        Ok(Some(items_dict(py, &items)?))
    }

    /// `wandb.log(data, step=, commit=)`: converts and enqueues.
    #[pyo3(signature = (data, step=None, commit=None, fallback=None))]
    fn log(
        &self,
        data: &Bound<'_, PyAny>,
        step: Option<i64>,
        commit: Option<bool>,
        fallback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let items = dict_items(data, fallback)?;
        self.send(Payload::History(v1::PartialHistory {
            items,
            step,
            flush: commit,
        }))
    }

    #[pyo3(signature = (update, remove, fallback=None))]
    fn config(
        &self,
        update: &Bound<'_, PyAny>,
        remove: &Bound<'_, PyAny>,
        fallback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let update = dict_items(update, fallback)?;
        let remove = paths(remove)?;
        self.send(Payload::Config(v1::ConfigUpdate { update, remove }))
    }

    #[pyo3(signature = (update, remove, fallback=None))]
    fn summary(
        &self,
        update: &Bound<'_, PyAny>,
        remove: &Bound<'_, PyAny>,
        fallback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let update = dict_items(update, fallback)?;
        let remove = paths(remove)?;
        self.send(Payload::Summary(v1::SummaryUpdate { update, remove }))
    }

    /// `define_metric`: `name` may end in `*` (a glob).
    #[pyo3(signature = (name, step_metric=None, step_sync=None, hidden=None, summary=None, goal=None, overwrite=false))]
    #[allow(clippy::too_many_arguments)]
    fn define_metric(
        &self,
        name: String,
        step_metric: Option<String>,
        step_sync: Option<bool>,
        hidden: Option<bool>,
        summary: Option<Vec<String>>,
        goal: Option<String>,
        overwrite: bool,
    ) -> PyResult<u64> {
        let goal = match goal.as_deref() {
            None => v1::Goal::Unset,
            Some("min" | "minimize") => v1::Goal::Minimize,
            Some("max" | "maximize") => v1::Goal::Maximize,
            Some(other) => {
                return Err(PyValueError::new_err(format!(
                    "goal {other:?}: use \"minimize\" or \"maximize\""
                )));
            }
        };
        let (name, glob_name) = if name.ends_with('*') {
            (String::new(), name)
        } else {
            (name, String::new())
        };
        let summary = summary.as_deref().map(summary_flags).transpose()?;
        self.send(Payload::Metric(v1::MetricDefinition {
            name,
            glob_name,
            step_metric: step_metric.unwrap_or_default(),
            step_sync,
            hidden,
            summary,
            goal: goal as i32,
            overwrite,
        }))
    }

    /// Files saved with the run, relative to its files directory
    /// (`policy` 0 = now, 1 = end, 2 = live).
    fn files(&self, paths: Vec<String>, policy: i32) -> PyResult<u64> {
        let files = paths
            .into_iter()
            .map(|path| v1::FileEntry {
                path,
                policy,
                ..Default::default()
            })
            .collect();
        self.send(Payload::Files(v1::Files { files }))
    }

    /// Saved files with their bytes already in the blob store:
    /// `[(path, digest, size)]`.
    fn saved_files(&self, files: Vec<(String, String, u64)>, policy: i32) -> PyResult<u64> {
        let files = files
            .into_iter()
            .map(|(path, digest, size)| v1::FileEntry {
                path,
                policy,
                digest,
                size,
            })
            .collect();
        self.send(Payload::Files(v1::Files { files }))
    }

    /// `run.log_artifact`: entries are `(path, digest, size, ref)`, their
    /// blobs already stored; `digest` is the manifest digest.
    #[pyo3(signature = (name, r#type, description, metadata_json, aliases, entries, digest, role=String::new()))]
    #[allow(clippy::too_many_arguments)]
    fn log_artifact(
        &self,
        name: String,
        r#type: String,
        description: String,
        metadata_json: String,
        aliases: Vec<String>,
        entries: Vec<crate::catalog::EntryTuple>,
        digest: String,
        role: String,
    ) -> PyResult<u64> {
        let entries = crate::catalog::manifest_entries(entries);
        self.send(Payload::Artifact(v1::ArtifactLog {
            name,
            r#type,
            description,
            metadata_json,
            aliases,
            entries,
            digest,
            role,
        }))
    }

    /// `run.use_artifact` of a resolved version.
    #[pyo3(signature = (project, name, digest, role=String::new()))]
    fn use_artifact(
        &self,
        project: String,
        name: String,
        digest: String,
        role: String,
    ) -> PyResult<u64> {
        self.send(Payload::UseArtifact(v1::ArtifactUse {
            project,
            name,
            digest,
            role,
        }))
    }

    /// Console lines (`stream` 0 = stdout, 1 = stderr).
    fn output(&self, stream: i32, lines: Vec<String>) -> PyResult<u64> {
        self.send(Payload::Output(v1::ConsoleOutput { stream, lines }))
    }

    fn alert(&self, title: String, text: String, level: i32) -> PyResult<u64> {
        self.send(Payload::Alert(v1::Alert { title, text, level }))
    }

    /// Changes name, notes, group, job type or tags.
    #[pyo3(signature = (name=None, notes=None, tags=None, group=None, job_type=None))]
    fn update(
        &self,
        name: Option<String>,
        notes: Option<String>,
        tags: Option<Vec<String>>,
        group: Option<String>,
        job_type: Option<String>,
    ) -> PyResult<u64> {
        self.send(Payload::RunUpdate(v1::RunUpdate {
            name,
            group,
            job_type,
            set_tags: tags.is_some(),
            tags: tags.unwrap_or_default(),
            notes,
            deleted: None,
        }))
    }

    /// Waits (GIL released) until everything sent so far is durable.
    #[pyo3(signature = (timeout_s=60.0))]
    fn sync(&self, py: Python<'_>, timeout_s: f64) -> PyResult<()> {
        enum Wait {
            Online(DurableWaiter, u64),
            Offline(std::sync::mpsc::Receiver<Result<(), String>>),
        }
        let wait = self.with_backend(|b| match b {
            Backend::Online(run) => Ok(Wait::Online(run.waiter(), run.last_seq())),
            Backend::Offline(log) => log
                .request_sync()
                .map(Wait::Offline)
                .map_err(TracklabError::new_err),
        })?;
        let timeout = Duration::from_secs_f64(timeout_s.max(0.0));
        let run_id = self.run_id.clone();
        let timed_out = || {
            PyTimeoutError::new_err(format!(
                "run {run_id}: the run's records were not made durable within {timeout_s} s"
            ))
        };
        match wait {
            Wait::Online(waiter, seq) => {
                let rt = self.rt.clone();
                let done = py.detach(move || {
                    rt.block_on(
                        async move { tokio::time::timeout(timeout, waiter.wait(seq)).await },
                    )
                });
                match done {
                    Ok(r) => r.map_err(client_error),
                    Err(_) => Err(timed_out()),
                }
            }
            Wait::Offline(rx) => match py.detach(move || rx.recv_timeout(timeout)) {
                Ok(r) => r.map_err(TracklabError::new_err),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(timed_out()),
                Err(_) => Err(TracklabError::new_err("the offline writer stopped")),
            },
        }
    }

    /// Highest sequence number the daemon holds durably.
    fn durable_seq(&self) -> u64 {
        match &*self.lock() {
            Some(Backend::Online(r)) => r.durable_seq(),
            _ => 0,
        }
    }

    /// Warnings so far (from the daemon, or from the local apply offline),
    /// as (kind, message).
    fn warnings(&self) -> Vec<(String, String)> {
        match &*self.lock() {
            Some(Backend::Online(r)) => r
                .warnings()
                .into_iter()
                .map(|w| (w.kind, w.message))
                .collect(),
            Some(Backend::Offline(l)) => offline_warnings(l),
            None => vec![],
        }
    }

    /// Why records are waiting for the daemon's acknowledgement right now
    /// (no daemon, or its disk is full), while they are retried; `None`
    /// when acknowledgements flow (and always for an offline run). Safe to
    /// call from another thread during `finish`.
    fn delivery_problem(&self) -> Option<String> {
        self.delivery.as_ref().and_then(DeliveryWatch::problem)
    }

    /// Ends the run and waits (GIL released) until every record is durable.
    /// If the daemon has not acknowledged everything within `timeout_s`
    /// (or is gone for good), the unacknowledged records go to an offline
    /// log at `tail_path` (for `tracklab sync`) and the report says so.
    #[pyo3(signature = (exit_code=0, timeout_s=None, tail_path=None))]
    fn finish<'py>(
        &self,
        py: Python<'py>,
        exit_code: i32,
        timeout_s: Option<f64>,
        tail_path: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.check_pid()?;
        let taken = self.lock().take();
        let run = match taken {
            Some(Backend::Online(run)) => run,
            Some(Backend::Offline(mut log)) => {
                log.send(Payload::Exit(v1::RunExit {
                    exit_code,
                    crashed: false,
                }))
                .map_err(TracklabError::new_err)?;
                let records = py.detach(|| log.close()).map_err(TracklabError::new_err)?;
                let d = PyDict::new(py);
                d.set_item("records", records)?;
                d.set_item("reconnects", 0)?;
                d.set_item("warnings", offline_warnings(&log))?;
                d.set_item("offline_path", log.path.display().to_string())?;
                return Ok(d);
            }
            None => return Err(PyRuntimeError::new_err("the run is already finished")),
        };
        let rt = self.rt.clone();
        let timeout = timeout_s.map_or(Duration::MAX, |t| Duration::from_secs_f64(t.max(0.0)));
        let run_id = self.run_id.clone();
        let result = py.detach(move || rt.block_on(run.finish_within(exit_code, timeout)));
        let report = match result {
            Ok(r) => r,
            Err((e, left)) if left.is_empty() => return Err(client_error(e)),
            Err((e, left)) => {
                let Some(path) = tail_path else {
                    return Err(TracklabError::new_err(format!(
                        "run {run_id}: {e}; {} records were not acknowledged and are lost (no tail_path given)",
                        left.len()
                    )));
                };
                let n = left.len();
                let write = |path: &str| -> Result<(), String> {
                    let mut log = OfflineLog::create(std::path::Path::new(path), &run_id)?;
                    for rec in left {
                        log.send_record(rec)?;
                    }
                    log.close().map(|_| ())
                };
                py.detach(|| write(&path)).map_err(|w| {
                    TracklabError::new_err(format!(
                        "run {run_id}: {e}; writing its {n} unacknowledged records to {path} failed too: {w}"
                    ))
                })?;
                let d = PyDict::new(py);
                d.set_item("records", 0)?;
                d.set_item("reconnects", 0)?;
                d.set_item("warnings", PyList::empty(py))?;
                d.set_item("unacked", n)?;
                d.set_item("error", e.to_string())?;
                d.set_item("offline_path", path)?;
                return Ok(d);
            }
        };
        let d = PyDict::new(py);
        d.set_item("records", report.records)?;
        d.set_item("reconnects", report.reconnects)?;
        let warnings = PyList::empty(py);
        for w in report.warnings {
            warnings.append((w.kind, w.message))?;
        }
        d.set_item("warnings", warnings)?;
        Ok(d)
    }
}
