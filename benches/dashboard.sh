#!/usr/bin/env bash
# First paint of the dashboard (issue 6's scale targets: a 1 000-run table
# and a 1 M-point chart each under 1 s), in headless Debian Chromium:
#  - data dir A: 1 000 runs × 20 steps × 5 metrics; data dir B: 1 run ×
#    1 000 000 steps × 1 metric (both logged by tracklab-bench-ingest);
#  - a release daemon on each; benches/dashboard_paint.mjs opens the page
#    ROUNDS times (default 5) and prints medians (min–max).
# Usage: bash benches/dashboard.sh   (needs chromium; tests/dashboard.sh installs it)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p tracklab-daemon -p tracklab-benches --bins
(cd tests/dashboard && npm ci --no-audit --no-fund --loglevel=error)
work=$(mktemp -d -t tracklab-dashbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
./target/release/tracklab-bench-ingest --runs 1000 --steps 20 --metrics 5 --keep "$work/a" >/dev/null
./target/release/tracklab-bench-ingest --runs 1 --steps 1000000 --metrics 1 --keep "$work/b" >/dev/null
TRACKLAB_DAEMON_BIN="$PWD/target/release/tracklab-daemon" \
  node benches/dashboard_paint.mjs "$work/a" "$work/b"
