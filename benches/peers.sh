#!/usr/bin/env bash
# W1 (1 run x 20 000 steps x 10 float metrics) with TrackLab, wandb
# (offline mode) and trackio, 3 rounds, the libraries alternated within each
# round so that they share the machine's noise. Each run is a fresh Python
# process (benches/peer_w1.py). Prints every run, then medians and the
# ratios peer / TrackLab. The peers go into .venv-peers (installed here).
# Usage: bash benches/peers.sh   (STEPS to change W1's length)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/bench-env.sh
[ -x .venv-peers/bin/python ] || python3 -m venv .venv-peers
.venv-peers/bin/pip install -q --disable-pip-version-check wandb trackio
work=$(mktemp -d -t tracklab-peers.XXXXXX)
export TRACKLAB_DIR="$work/tracklab" WANDB_DIR="$work/wandb" TRACKIO_DIR="$work/trackio"
export WANDB_SILENT=true TRACKIO_NO_UI=1
mkdir -p "$WANDB_DIR" "$TRACKIO_DIR"
trap './target/release/tracklab daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
./target/release/tracklab daemon start --port 0 >/dev/null
results="$work/results.jsonl"
for round in 1 2 3; do
  for lib in tracklab wandb trackio; do
    py="$PWD/.venv-peers/bin/python"
    [ "$lib" = tracklab ] && py="$PWD/.venv-bench/bin/python"
    (cd "$work" && "$py" "$OLDPWD/benches/peer_w1.py" "$lib" | tail -1) | tee -a "$results"
  done
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
libs = ["tracklab", "wandb", "trackio"]
keys = ["end_to_end_s", "points_per_s", "log_p50_us", "log_p99_us", "import_ms"]
med = {l: {k: statistics.median(r[k] for r in rows if r["lib"] == l) for k in keys}
       for l in libs if any(r["lib"] == l for r in rows)}
print("\n| measure | " + " | ".join(med) + " | wandb ÷ tracklab | trackio ÷ tracklab |")
print("|---" * (len(med) + 3) + "|")
for k in keys:
    cells = [f"{med[l][k]:.4g}" for l in med]
    ratio = lambda l: f"{med[l][k] / med['tracklab'][k]:.1f}×" if l in med else "-"
    print(f"| {k} | " + " | ".join(cells) + f" | {ratio('wandb')} | {ratio('trackio')} |")
PY
