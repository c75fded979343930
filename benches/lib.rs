//! TrackLab benchmarks. `benches/log.rs` (criterion): log append and
//! replay. `ingest.rs` (binary `tracklab-bench-ingest`): the end-to-end
//! ingest benchmark against a real daemon. See README.md in this folder.
