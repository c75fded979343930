//! Runs as people read them, shared by the `tracklab` CLI and the daemon's
//! dashboard API so that both show the same thing:
//! - [`json`]: runs, items and metric definitions as JSON;
//! - [`fmt`]: values as text and JSON, and flat key names;
//! - [`table`]: markdown, CSV and plain tables;
//! - [`compare`]: config differences and the best run per metric.

pub mod compare;
pub mod fmt;
pub mod json;
pub mod table;
