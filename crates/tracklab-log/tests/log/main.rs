//! Integration tests of the run log, one binary: format pinning, round trips, recovery from torn and damaged files, and writer errors.

mod common;
mod corruption;
mod golden;
mod header;
mod props;
mod roundtrip;
mod torn;
mod writer;
