//! Runs as people read them, shared by the `tracklab` CLI and the daemon's
//! dashboard API so that both show the same thing:
//! - [`json`]: runs, items and metric definitions as JSON;
//! - [`fmt`]: values as text and JSON, and flat key names;
//! - [`table`]: markdown, CSV and plain tables;
//! - [`compare`]: config differences and the best run per metric;
//! - [`catalog`]: artifact versions and registered models as JSON;
//! - [`lineage`]: the chain of training stages behind a run.

pub mod catalog;
pub mod compare;
pub mod fmt;
pub mod json;
pub mod lineage;
pub mod table;
