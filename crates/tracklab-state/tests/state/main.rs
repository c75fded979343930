//! The integration tests of tracklab-state, in one test binary.

mod lifecycle;
mod metric_full;
mod partial_history;
mod properties;
mod summary_config;
mod support;
mod validation;
