//! End-to-end tests against the real `tracklab-daemon` binary: one test
//! binary, one module per feature.

mod artifacts;
mod auth;
mod bad_input;
mod crash;
mod dashboard;
mod full_disk;
mod hostile;
mod logging;
mod read_during_write;
mod recovery;
mod support;
mod sysstats;
