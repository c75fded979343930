#!/usr/bin/env bash
# The main job: build, start a tracklab-daemon with the `tracklab` CLI, log
# two demo training runs through it from Rust and two from Python (the SDK,
# built into .venv), show and compare what was recorded, verify the logs,
# stop the daemon.
# Usage: bash tests/demo.sh [DATA_DIR]   (default: a fresh temporary dir)
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing here reads standard input; an inherited one (a pipe shared with
# other jobs) once reached `rustc -` through cargo and broke a build.
exec </dev/null
cargo build --release -p tracklab-daemon -p tracklab-cli -p tracklab-client \
  --bin tracklab-daemon --bin tracklab --example demo
data="${1:-$(mktemp -d -t tracklab-demo.XXXXXX)}"
export TRACKLAB_DIR="$data"
tl=./target/release/tracklab
step() { printf '\n$ %s\n' "$*"; "$@"; }

step $tl daemon start --port 0
trap '$tl daemon stop >/dev/null 2>&1 || true' EXIT
./target/release/examples/demo "$data" 3e-4
./target/release/examples/demo "$data" 1e-3
step $tl ls
step $tl show tiny-mlp-lr0.001
step $tl compare tiny-mlp-lr0.0003 tiny-mlp-lr0.001
# The Python SDK (import tracklab as wandb): a training loop, read back.
bash tests/python-env.sh >/dev/null
step .venv/bin/python clients/python/examples/train.py 0.05
step .venv/bin/python clients/python/examples/train.py 0.2
step $tl compare linreg-lr0.05 linreg-lr0.2
step $tl log verify "$data/runs"
step $tl daemon stop
echo
echo "data dir: $data"
