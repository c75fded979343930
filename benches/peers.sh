#!/usr/bin/env bash
# TrackLab against peer experiment trackers: wandb (offline mode), trackio,
# mlflow (file store and SQLite) and aim, on the same workloads W1-W4 in one
# invocation (benches/peers.py drives; benches/peer_workload.py is one
# workload in one fresh process). The peers go into .venv-peers, installed
# here from PyPI; a peer that fails to install is reported as failed and the
# others still run. Prints a markdown table per workload and writes
# target/bench-peers/results.{json,md}.
# Usage: bash benches/peers.sh
#   ROUNDS=3  WORKLOADS="W1 W2 W3 W4"  LIBS="tracklab wandb trackio mlflow aim"
#   SCALE=1 (0.1 for a quick check)  TIMEOUT=3600 (s per process)
#   NO_BUILD=1 uses the release binaries and .venv-bench as they are (no cargo)
#   KEEP=1 keeps the scratch dir (every library's data and every process's log)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${NO_BUILD:-}" = 1 ]; then
  for f in target/release/tracklab target/release/tracklab-daemon .venv-bench/bin/python; do
    [ -x "$f" ] || { echo "NO_BUILD=1 but $f is missing" >&2; exit 1; }
  done
else
  source benches/bench-env.sh
fi
work=$(mktemp -d -t tracklab-peers.XXXXXX)
cleanup() {
  TRACKLAB_DIR="$work/data/tracklab" ./target/release/tracklab daemon stop >/dev/null 2>&1 || true
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

[ -x .venv-peers/bin/python ] || python3 -m venv .venv-peers
libs=" ${LIBS:-tracklab wandb trackio mlflow aim} "
for pkg in wandb trackio mlflow aim; do
  case "$libs" in *" $pkg"*) ;; *) continue ;; esac
  if ! .venv-peers/bin/pip install -q --disable-pip-version-check "$pkg" >"$work/pip-$pkg.log" 2>&1; then
    echo "$pkg $(grep -m1 -i error "$work/pip-$pkg.log" | cut -c1-200)" >>"$work/install-failed.txt"
    echo "pip install $pkg failed; see the table" >&2
  fi
done

python3 benches/peers.py "$work"
