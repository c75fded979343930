//! Integration tests of the `tracklab` command line: each runs the real
//! `tracklab` binary against a real `tracklab-daemon` (or against files),
//! and checks exit codes and outputs; stable outputs are insta snapshots
//! (`tests/cli/snapshots/`).

mod control;
mod edits;
mod listing;
mod logfiles;
mod rebuild;
mod support;
mod sync;
mod usage;
