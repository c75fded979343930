#!/usr/bin/env bash
# The main job: build, start a tracklab-daemon, log a demo training run
# through it, show what was recorded, stop the daemon.
# Usage: bash tests/demo.sh [DATA_DIR]   (default: a fresh temporary dir)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p tracklab-daemon -p tracklab-client --bin tracklab-daemon --example demo
data="${1:-$(mktemp -d -t tracklab-demo.XXXXXX)}"
out="$(mktemp -t tracklab-daemon-out.XXXXXX)"
./target/release/tracklab-daemon --data-dir "$data" --port 0 --log-level warn >"$out" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$out"' EXIT
# Wait for the daemon's "listening" line (no fixed sleep).
for _ in $(seq 1 600); do
  grep -q "listening on" "$out" && break
  kill -0 $pid 2>/dev/null || { echo "tracklab-daemon failed to start" >&2; exit 1; }
  sleep 0.1
done
grep "listening on" "$out"
./target/release/examples/demo "$data"
echo
echo "data dir: $data"
