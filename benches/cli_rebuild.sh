#!/usr/bin/env bash
# Rebuild speed of `tracklab sync --rebuild`: offline (no daemon: this
# process replays the logs into a fresh store and swaps it in) and through
# a running daemon (Admin.Rebuild), 3 times each, on data logged by
# tracklab-bench-ingest. Prints each run and the medians.
# Usage: bash benches/cli_rebuild.sh   (RUNS, STEPS, METRICS to change the data)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-1} steps=${STEPS:-200000} metrics=${METRICS:-10}
cargo build --release -q -p tracklab-daemon -p tracklab-cli -p tracklab-benches --bins
dir=$(mktemp -d -t tracklab-rebuild.XXXXXX)
tl() { ./target/release/tracklab --data-dir "$dir/data" "$@"; }
trap 'tl daemon stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
./target/release/tracklab-bench-ingest --runs "$runs" --steps "$steps" --metrics "$metrics" \
  --keep "$dir/data" >/dev/null
rate() {
  python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f %d %.3f" % (d["points_per_second"], d["history_points"], d["seconds"]))'
}
echo "data: $runs run(s) x $steps steps x $metrics metrics"
echo "mode     points/s  history_points  seconds"
off=(); on=()
for _ in 1 2 3; do r=$(tl --json sync --rebuild | rate); echo "offline  $r"; off+=("${r%% *}"); done
tl daemon start --port 0 >/dev/null
for _ in 1 2 3; do r=$(tl --json sync --rebuild | rate); echo "daemon   $r"; on+=("${r%% *}"); done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
echo "median points/s: offline $(median "${off[@]}"), through the daemon $(median "${on[@]}")"
