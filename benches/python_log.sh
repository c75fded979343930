#!/usr/bin/env bash
# The Python SDK's log() cost and W1 end to end, 3 times, with a release
# build of the native module in its own venv (.venv-bench) and a release
# daemon. Prints each run and the medians.
# Usage: bash benches/python_log.sh   (STEPS to change W1's length)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/bench-env.sh
dir=$(mktemp -d -t tracklab-pybench.XXXXXX)
export TRACKLAB_DIR="$dir"
trap './target/release/tracklab daemon stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
./target/release/tracklab daemon start --port 0 >/dev/null
out=()
for _ in 1 2 3; do
  r=$(.venv-bench/bin/python benches/python_log.py)
  echo "$r"
  out+=("$r")
done
printf '%s\n' "${out[@]}" | python3 -c '
import json, statistics, sys
rs = [json.loads(l) for l in sys.stdin if l.strip()]
for k in rs[0]:
    vals = sorted(r[k] for r in rs)
    print(f"{k:>14}: median {statistics.median(vals):10.3f}  (min {vals[0]:.3f}, max {vals[-1]:.3f})")
'
