#!/usr/bin/env bash
# Every test: formatting, lints, then all unit, property, integration and
# end-to-end tests (the e2e tests run the real daemon binary).
# Slow soak variants run with TRACKLAB_SOAK=1.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build --workspace --bins
cargo test --workspace
