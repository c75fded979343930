//! Run state and the pure apply function: the records of one run's log in,
//! the run's state (and its completed history rows) out.
//!
//! The daemon's live applier and the rebuild from logs both call [`apply()`]
//! record by record, so they build the same [`RunState`]. Nothing in this
//! crate reads a clock, draws randomness, reads the environment or does IO;
//! every time comes from `Record.timestamp_us`, and every map that affects
//! output is ordered.
//!
//! wandb's semantics (step numbering, summary aggregates, `define_metric`,
//! nested keys, resume) are implemented here; each module says which wandb
//! file it follows and where it deviates.
//!
//! Code map:
//! - `value.rs`: [`Value`], typed item values (NaN equals NaN);
//! - `keys.rs`: [`key_name`] / [`split_key_name`], flat names of nested paths;
//! - `pathmap.rs`: path trees (config, the row being built, the summary);
//! - `history.rs`: step rules and row flushing, [`HistoryRow`];
//! - `summary.rs`: last value and min/max/mean/first/last aggregates;
//! - `metrics.rs`: metric definitions, globs, step sync;
//! - `run.rs`: [`RunState`] and its accessors, `RunInfo`;
//! - `apply.rs`: [`apply()`], idempotence, run lifecycle, [`Applied`];
//! - `validate.rs`: structural checks the daemon runs before logging;
//! - `artifact.rs`: artifact names, manifests and digests, run lineage links.

mod apply;
pub mod artifact;
mod history;
mod keys;
mod metrics;
mod pathmap;
pub mod registry;
mod run;
mod summary;
pub mod sweep;
pub mod validate;
mod value;

pub use apply::{
    Applied, ArtifactEvent, ConsoleLine, ManifestFile, StatsRow, Warning, apply, warning_kind,
};
pub use history::HistoryRow;
pub use keys::{key_name, split_key_name};
pub use run::{MAX_KEPT_ALERTS, MAX_KEPT_WARNINGS, RunState, SavedFile};
pub use value::Value;
