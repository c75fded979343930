//! The run model: everything the store keeps about one run between batches.
//!
//! [`RunState`] holds no history rows (those are emitted by
//! [`crate::apply()`] and stored elsewhere), only the row being built, the
//! summary aggregates, config, metric definitions, each writer's last
//! sequence number, counters and metadata, so that it stays small enough to
//! persist after every applied batch. All maps are ordered, so its
//! serialisation and everything derived from it is deterministic.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use tracklab_proto::v1;

use crate::apply::Warning;
use crate::artifact::ArtifactLink;
use crate::history::History;
use crate::metrics::Metrics;
use crate::pathmap::PathMap;
use crate::summary::Summary;
use crate::value::Value;

/// How many warnings a run keeps (the newest).
pub const MAX_KEPT_WARNINGS: usize = 20;
/// How many alerts a run keeps (the newest).
pub const MAX_KEPT_ALERTS: usize = 100;

/// Lifecycle of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Status {
    #[default]
    NotStarted,
    Running,
    Finished,
    Failed,
    Crashed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Git {
    pub commit: String,
    pub branch: String,
    pub remote: String,
    pub dirty: bool,
}

/// Run metadata from `RunStart` and `RunUpdate`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Metadata {
    pub project: String,
    pub name: String,
    pub group: String,
    pub job_type: String,
    pub tags: Vec<String>,
    pub notes: String,
    pub host: String,
    pub program: String,
    pub args: Vec<String>,
    pub git: Option<Git>,
    pub python: String,
    pub user: String,
    pub pid: u32,
    pub fork_from: Option<(String, i64)>,
    /// The sweep that started the run, or empty.
    pub sweep_id: String,
    /// Soft-deleted (`RunUpdate.deleted`); a resume restores the run.
    pub deleted: bool,
}

/// One alert as kept in the state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeptAlert {
    pub title: String,
    pub text: String,
    pub level: i32,
}

/// The derived state of one run.
/// A file saved with the run (`run.save`): its policy and, once uploaded,
/// the blob holding its bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedFile {
    pub policy: i32,
    pub digest: String,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub(crate) run_id: String,
    pub(crate) status: Status,
    pub(crate) exit_code: i32,
    pub(crate) meta: Metadata,
    pub(crate) resumed: bool,
    pub(crate) created_us: i64,
    pub(crate) updated_us: i64,
    /// Run time accumulated before the current segment (resume), in µs.
    pub(crate) runtime_offset_us: i64,
    /// Timestamp of the `RunStart` that began the current segment.
    pub(crate) segment_start_us: i64,
    pub(crate) starting_step: i64,
    pub(crate) history: History,
    pub(crate) summary: Summary,
    pub(crate) config: PathMap<Value>,
    pub(crate) metrics: Metrics,
    pub(crate) last_seq: BTreeMap<u64, u64>,
    /// Writers whose sequence had a gap (log damage): their later history
    /// records are not applied.
    pub(crate) gapped_writers: std::collections::BTreeSet<u64>,
    /// History records not applied because of such a gap.
    pub(crate) skipped_history: u64,
    pub(crate) console_lines: u64,
    pub(crate) alerts: VecDeque<KeptAlert>,
    /// Saved files by path, with the latest policy and the latest upload.
    pub(crate) files: BTreeMap<String, SavedFile>,
    /// Artifact versions this run logged (outputs) and used (inputs).
    pub(crate) logged_artifacts: Vec<ArtifactLink>,
    pub(crate) used_artifacts: Vec<ArtifactLink>,
    pub(crate) warnings: VecDeque<Warning>,
    /// Sweeps, by id (only the daemon's sweeps log has any).
    pub(crate) sweeps: BTreeMap<String, crate::sweep::Sweep>,
}

impl RunState {
    /// A run that has not started yet.
    pub fn new(run_id: &str) -> Self {
        RunState {
            run_id: run_id.to_string(),
            status: Status::NotStarted,
            exit_code: 0,
            meta: Metadata::default(),
            resumed: false,
            created_us: 0,
            updated_us: 0,
            runtime_offset_us: 0,
            segment_start_us: 0,
            starting_step: 0,
            history: History::default(),
            summary: Summary::default(),
            config: PathMap::default(),
            metrics: Metrics::default(),
            last_seq: BTreeMap::new(),
            gapped_writers: Default::default(),
            skipped_history: 0,
            console_lines: 0,
            alerts: VecDeque::new(),
            files: BTreeMap::new(),
            logged_artifacts: Vec::new(),
            used_artifacts: Vec::new(),
            warnings: VecDeque::new(),
            sweeps: BTreeMap::new(),
        }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Artifact versions this run logged, in the order first logged.
    pub fn logged_artifacts(&self) -> &[ArtifactLink] {
        &self.logged_artifacts
    }

    /// Artifact versions this run used, in the order first used.
    pub fn used_artifacts(&self) -> &[ArtifactLink] {
        &self.used_artifacts
    }

    /// Blobs the run's saved files name (for gc's mark phase).
    pub fn file_digests(&self) -> impl Iterator<Item = &str> {
        self.files
            .values()
            .map(|f| f.digest.as_str())
            .filter(|d| !d.is_empty())
    }

    /// A stored file's blob: (digest, size), if `path` was stored with bytes.
    pub fn stored_file(&self, path: &str) -> Option<(&str, u64)> {
        self.files
            .get(path)
            .filter(|f| !f.digest.is_empty())
            .map(|f| (f.digest.as_str(), f.size))
    }

    /// The sweep that started this run, or "".
    pub fn sweep_id(&self) -> &str {
        &self.meta.sweep_id
    }

    /// The sweeps the daemon's sweeps log holds.
    pub fn sweeps(&self) -> &BTreeMap<String, crate::sweep::Sweep> {
        &self.sweeps
    }

    /// Whether a `RunStart` has been applied.
    pub fn started(&self) -> bool {
        self.status != Status::NotStarted
    }

    /// Whether the run has exited (finished, failed or crashed) and not been
    /// resumed since.
    pub fn exited(&self) -> bool {
        matches!(
            self.status,
            Status::Finished | Status::Failed | Status::Crashed
        )
    }

    pub fn status(&self) -> v1::RunState {
        match self.status {
            Status::NotStarted => v1::RunState::Unspecified,
            Status::Running => v1::RunState::Running,
            Status::Finished => v1::RunState::Finished,
            Status::Failed => v1::RunState::Failed,
            Status::Crashed => v1::RunState::Crashed,
        }
    }

    /// Whether the run is soft-deleted (hidden until garbage-collected).
    pub fn deleted(&self) -> bool {
        self.meta.deleted
    }

    /// The host the run's client said it runs on (empty if it did not say).
    pub fn host(&self) -> &str {
        &self.meta.host
    }

    pub fn pid(&self) -> u32 {
        self.meta.pid
    }

    pub fn project(&self) -> &str {
        &self.meta.project
    }

    /// The last applied sequence number of a writer; 0 if unknown.
    pub fn last_seq(&self, writer_id: u64) -> u64 {
        self.last_seq.get(&writer_id).copied().unwrap_or(0)
    }

    /// Every writer seen, with its last applied sequence number.
    pub fn writers(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.last_seq.iter().map(|(w, s)| (*w, *s))
    }

    /// The step the next `log` without a step gets.
    pub fn next_step(&self) -> i64 {
        self.history.step
    }

    pub fn history_rows(&self) -> u64 {
        self.history.rows
    }

    pub fn created_us(&self) -> i64 {
        self.created_us
    }

    pub fn updated_us(&self) -> i64 {
        self.updated_us
    }

    /// The newest warnings (at most [`MAX_KEPT_WARNINGS`]), oldest first.
    pub fn warnings(&self) -> impl Iterator<Item = &Warning> {
        self.warnings.iter()
    }

    /// Run time in seconds at time `at_us`: time since the current segment
    /// started plus the run time of earlier segments (never negative).
    pub fn runtime_at(&self, at_us: i64) -> f64 {
        self.runtime_us_at(at_us) as f64 / 1e6
    }

    pub(crate) fn runtime_us_at(&self, at_us: i64) -> i64 {
        let elapsed = at_us.saturating_sub(self.segment_start_us).max(0);
        self.runtime_offset_us.saturating_add(elapsed)
    }

    /// Config leaves in path order.
    pub fn config_items(&self) -> Vec<v1::Item> {
        self.config
            .iter()
            .map(|(path, value)| v1::Item {
                path: path.clone(),
                value: Some(value.to_proto()),
            })
            .collect()
    }

    /// Summary leaves in path order; aggregates chosen with `define_metric`
    /// appear as nested leaves such as `["loss", "min"]`.
    pub fn summary_items(&self) -> Vec<v1::Item> {
        self.summary.items()
    }

    /// Everything `RunInfo` reports about this run.
    pub fn run_info(&self) -> v1::RunInfo {
        let m = &self.meta;
        v1::RunInfo {
            run_id: self.run_id.clone(),
            project: m.project.clone(),
            name: m.name.clone(),
            group: m.group.clone(),
            job_type: m.job_type.clone(),
            tags: m.tags.clone(),
            notes: m.notes.clone(),
            state: self.status() as i32,
            exit_code: self.exit_code,
            created_us: self.created_us,
            updated_us: self.updated_us,
            host: m.host.clone(),
            program: m.program.clone(),
            args: m.args.clone(),
            git: m.git.as_ref().map(|g| v1::GitInfo {
                commit: g.commit.clone(),
                branch: g.branch.clone(),
                remote: g.remote.clone(),
                dirty: g.dirty,
            }),
            python: m.python.clone(),
            user: m.user.clone(),
            pid: m.pid,
            resumed: self.resumed,
            next_step: self.history.step,
            history_rows: self.history.rows,
            dropped_steps: self.history.dropped,
            warnings: self.warnings.iter().map(|w| w.message.clone()).collect(),
            config: self.config_items(),
            summary: self.summary_items(),
            metrics: self.metrics.infos(),
            console_lines: self.console_lines,
            alerts: self
                .alerts
                .iter()
                .map(|a| v1::Alert {
                    title: a.title.clone(),
                    text: a.text.clone(),
                    level: a.level,
                })
                .collect(),
            files: self
                .files
                .iter()
                .map(|(path, f)| v1::FileEntry {
                    path: path.clone(),
                    policy: f.policy,
                    digest: f.digest.clone(),
                    size: f.size,
                })
                .collect(),
            fork_from: m.fork_from.as_ref().map(|(run_id, step)| v1::ForkFrom {
                run_id: run_id.clone(),
                step: *step,
            }),
            starting_step: self.starting_step,
            deleted: m.deleted,
            sweep_id: m.sweep_id.clone(),
        }
    }

    pub(crate) fn push_warning(&mut self, warning: Warning) {
        if self.warnings.len() >= MAX_KEPT_WARNINGS {
            self.warnings.pop_front();
        }
        self.warnings.push_back(warning);
    }

    pub(crate) fn push_alert(&mut self, alert: KeptAlert) {
        if self.alerts.len() >= MAX_KEPT_ALERTS {
            self.alerts.pop_front();
        }
        self.alerts.push_back(alert);
    }
}
