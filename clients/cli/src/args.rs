//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "tracklab",
    version,
    about = "TrackLab: local experiment tracking. List, show, compare and export runs; sync logs; control the daemon.",
    after_help = "Exit codes: 0 ok, 1 error, 2 usage error, 3 a data problem was found (reported with file and offset)."
)]
pub struct Cli {
    /// The daemon's data dir.
    #[arg(long, global = true, env = "TRACKLAB_DIR", default_value_os_t = default_data_dir())]
    pub data_dir: PathBuf,
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

fn default_data_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".tracklab")
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start, stop and inspect the tracklab-daemon of the data dir.
    Daemon {
        #[command(subcommand)]
        cmd: DaemonCmd,
    },
    /// Open the live dashboard: prints its URL (which carries the daemon's
    /// token once; the page keeps it in a cookie) and opens it in a browser.
    Ui {
        /// Only print the URL; do not start a browser.
        #[arg(long)]
        no_open: bool,
    },
    /// Import run logs written elsewhere (offline mode, another machine), or
    /// rebuild the store from the logs with --rebuild. Importing is
    /// idempotent: records the daemon already has are skipped.
    Sync(SyncArgs),
    /// List runs.
    Ls(LsArgs),
    /// List projects with their run counts.
    Projects,
    /// Everything about one run: metadata, config, summary, metrics, warnings.
    Show(ShowArgs),
    /// Side-by-side table of config differences and summary metrics, best run marked.
    Compare(CompareArgs),
    /// Full history of runs as CSV or JSON lines.
    Export(ExportArgs),
    /// Change runs: delete, restore, tag, rename, set-state.
    Runs {
        #[command(subcommand)]
        cmd: RunsCmd,
    },
    /// Remove deleted runs for good (their logs and their store entries).
    Gc {
        /// Show what would be removed without removing it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check or print run log files directly (no daemon needed).
    Log {
        #[command(subcommand)]
        cmd: LogCmd,
    },
    /// Versioned files logged by runs (run.log_artifact).
    Artifacts {
        #[command(subcommand)]
        cmd: ArtifactsCmd,
    },
    /// The model registry: versions, stages (None/Staging/Production/Archived), aliases.
    Models {
        #[command(subcommand)]
        cmd: ModelsCmd,
    },
    /// The training chain behind a model or run: each stage's run, base model,
    /// dataset, steps, metrics and hyperparameters.
    Lineage(LineageArgs),
    /// Bring runs from another tracker: `--from wandb DIR` reads wandb's
    /// offline run files (`run-*.wandb`) found under DIR.
    Import(ImportArgs),
    /// Create a sweep from a wandb-style sweep config (YAML or JSON), or
    /// pause, resume, stop or cancel one.
    Sweep(SweepArgs),
    /// List sweeps, or show one sweep's runs with their parameters and metric.
    Sweeps {
        /// A sweep id: show its runs.
        sweep: Option<String>,
        #[arg(long, short)]
        project: Option<String>,
    },
    /// Run a sweep's program for each run its controller hands out (the
    /// config's `command`, default `${env} ${interpreter} ${program} ${args}`).
    Agent(AgentArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ImportSource {
    Wandb,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    #[arg(long = "from", value_enum)]
    pub from: ImportSource,
    /// Files or folders (searched for `*.wandb`).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Put the runs in this project instead of the one they name.
    #[arg(long, short)]
    pub project: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The sweep config file; with --pause/--resume/--stop/--cancel, a sweep id.
    pub target: String,
    /// The project its runs go to (default: the config's `project`, else
    /// "uncategorized").
    #[arg(long, short)]
    pub project: Option<String>,
    /// Hand out no new runs until resumed.
    #[arg(long, group = "control")]
    pub pause: bool,
    #[arg(long, group = "control")]
    pub resume: bool,
    /// Hand out no new runs; running ones finish.
    #[arg(long, group = "control")]
    pub stop: bool,
    /// Hand out no new runs and stop the running ones.
    #[arg(long, group = "control")]
    pub cancel: bool,
}

#[derive(clap::Args, Debug)]
pub struct AgentArgs {
    /// The sweep id (or PROJECT/ID).
    pub sweep: String,
    /// Stop after this many runs (default: until the sweep has none left).
    #[arg(long)]
    pub count: Option<u64>,
    /// Seconds between asks whether the run must stop early.
    #[arg(long, default_value_t = 5.0)]
    pub poll_interval: f64,
}

#[derive(Subcommand, Debug)]
pub enum ArtifactsCmd {
    /// The latest version of each artifact of a project, or every version of one.
    Ls {
        project: String,
        /// Every version of this artifact.
        name: Option<String>,
        /// Only artifacts of this type (model, dataset, ...).
        #[arg(long = "type")]
        r#type: Option<String>,
    },
    /// One version: files, aliases, lineage. PROJECT/NAME[:VERSION|ALIAS].
    Show { artifact: String },
    /// Delete one version (PROJECT/NAME:VERSION); `tracklab gc` then frees its
    /// files. Refused while a registered model points at it.
    Delete { artifact: String },
}

#[derive(Subcommand, Debug)]
pub enum ModelsCmd {
    /// Registered models with their versions in each stage.
    Ls,
    /// One model's versions and every stage change (who, when, why).
    Show { name: String },
    /// Move a version to a stage.
    Promote {
        name: String,
        version: u32,
        /// None, Staging, Production or Archived.
        stage: String,
        /// Move the versions already in that stage to Archived.
        #[arg(long)]
        archive_existing: bool,
        /// Why (kept with the change).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Point an alias (champion, ...) at a version, or remove it.
    Alias {
        name: String,
        alias: String,
        version: Option<u32>,
        #[arg(long)]
        remove: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct LineageArgs {
    /// A run (id, prefix or name), a model (models:/NAME/STAGE|VERSION or
    /// models:/NAME@ALIAS), or an artifact (PROJECT/NAME[:VERSION]).
    pub target: String,
    #[arg(long, value_enum, default_value_t = LineageFormat::Tree)]
    pub format: LineageFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineageFormat {
    Tree,
    Markdown,
    /// A training_info.json-shaped document.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum DaemonCmd {
    /// Start the daemon in the background (or say where it already runs).
    Start(StartArgs),
    /// Stop the daemon gracefully and wait until it has exited.
    Stop,
    /// Version, uptime, address, runs, bytes, records not yet applied, errors.
    Status,
    /// Print the daemon's log file (written when started by `tracklab daemon start`).
    Logs {
        /// Lines from the end.
        #[arg(short = 'n', long, default_value_t = 50)]
        lines: usize,
        /// Keep printing new lines.
        #[arg(short, long)]
        follow: bool,
    },
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 7447)]
    pub port: u16,
    /// The daemon's log level (error, warn, info, debug, trace).
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// The tracklab-daemon binary (default: next to `tracklab`, else on PATH).
    #[arg(long, env = "TRACKLAB_DAEMON_BIN")]
    pub daemon_bin: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Run log files (`*.tlog`) or directories holding them.
    pub paths: Vec<PathBuf>,
    /// Rebuild the whole store from the data dir's run logs.
    #[arg(long)]
    pub rebuild: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum StateArg {
    Running,
    Finished,
    Failed,
    Crashed,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    #[arg(long, short)]
    pub project: Option<String>,
    #[arg(long, value_enum)]
    pub state: Option<StateArg>,
    /// Only runs with this tag (repeat for several: all must match).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// FIELD OP VALUE on config./summary. keys, e.g. "config.lr>=0.01"
    /// (repeat: all must match).
    #[arg(long = "filter")]
    pub filters: Vec<String>,
    /// created, name, state, duration, steps, project, config.KEY or
    /// summary.KEY; prefix with '-' for descending. Default: -created.
    #[arg(long, allow_hyphen_values = true)]
    pub sort: Option<String>,
    #[arg(long)]
    pub limit: Option<usize>,
    /// Extra columns: config.KEY / summary.KEY, comma-separated (default:
    /// the summary metrics most runs have).
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Also list deleted runs.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Run id, unique id prefix, or name.
    pub run: String,
    /// Print the run's console output instead.
    #[arg(long)]
    pub console: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CompareFormat {
    Md,
    Csv,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum GoalArg {
    Min,
    Max,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Two or more runs (ids, unique id prefixes, or names).
    #[arg(required_unless_present = "lineage", num_args = 2..)]
    pub runs: Vec<String>,
    /// Compare the stages of a training chain instead (a run, models:/NAME/…,
    /// or PROJECT/ARTIFACT:VERSION; see `tracklab lineage`).
    #[arg(long, conflicts_with = "runs")]
    pub lineage: Option<String>,
    /// Summary metrics to compare, comma-separated (default: all numeric).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    #[arg(long, value_enum, default_value = "md")]
    pub format: CompareFormat,
    /// Goal for metrics without a define_metric goal (else guessed from the
    /// name: loss/error lower, acc/f1/… higher).
    #[arg(long, value_enum)]
    pub goal: Option<GoalArg>,
    /// Show every config key, not only those that differ.
    #[arg(long)]
    pub all_config: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportTarget {
    /// TensorBoard event files, one folder per run (`RUN… DIR` or `-o DIR`).
    Tensorboard,
    /// An MLflow tracking store, through the `mlflow` Python package.
    Mlflow,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(required = true)]
    pub runs: Vec<String>,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Write the runs into another tracker instead of CSV/JSON lines.
    #[arg(long, value_enum)]
    pub to: Option<ExportTarget>,
    /// MLflow: the tracking URI (default: MLflow's own, MLFLOW_TRACKING_URI
    /// or, for MLflow 3, sqlite:///mlflow.db, which needs the full `mlflow`
    /// package; `file://DIR` stores need MLFLOW_ALLOW_FILE_STORE=true).
    #[arg(long)]
    pub tracking_uri: Option<String>,
    /// MLflow: the experiment (default: each run's project).
    #[arg(long)]
    pub experiment: Option<String>,
    /// MLflow: replace runs exported before instead of skipping them.
    #[arg(long)]
    pub replace: bool,
    /// Only these history keys, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub keys: Vec<String>,
    /// Write here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum RunsCmd {
    /// Hide runs (kept until `tracklab gc`; `runs restore` brings them back).
    Delete {
        #[arg(required = true)]
        runs: Vec<String>,
    },
    /// Bring deleted runs back.
    Restore {
        #[arg(required = true)]
        runs: Vec<String>,
    },
    /// Add or remove tags.
    Tag(TagArgs),
    /// Change a run's display name.
    Rename { run: String, name: String },
    /// End a run with a state (for runs left running by a lost process).
    SetState {
        run: String,
        #[arg(value_enum)]
        state: EndState,
        /// End it even if a client is still connected and logging to it
        /// (its later records are kept in the log but ignored).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum EndState {
    Finished,
    Failed,
    Crashed,
}

#[derive(Args, Debug)]
pub struct TagArgs {
    pub run: String,
    /// Tags to add.
    #[arg(long = "add")]
    pub add: Vec<String>,
    /// Tags to remove.
    #[arg(long = "remove")]
    pub remove: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum LogCmd {
    /// Check every frame of run logs; exit 3 if anything is wrong.
    Verify {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// One line per record (with --json: one JSON object per record).
    Dump { path: PathBuf },
}
