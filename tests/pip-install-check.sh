#!/usr/bin/env bash
# Installs the Python package the way a user does (`pip install
# ./clients/python`: a PEP 517 build by maturin, release mode) into a fresh
# virtualenv, then logs a run with no daemon running and no daemon binary
# given: init() must start the daemon the package ships, and the run must
# read back. Opt-in (a release build): TRACKLAB_TEST_WHEEL=1 bash tests/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d -t tracklab-pip.XXXXXX)
cleanup() {
  if [ -f "$work/data/daemon.json" ]; then
    pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$work/data/daemon.json")
    kill -TERM "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check ./clients/python
cd "$work"
env -u TRACKLAB_DAEMON_BIN TRACKLAB_DIR="$work/data" TRACKLAB_PORT=0 "$work/venv/bin/python" - <<'PY'
import tracklab

run = tracklab.init(project="pip-check", config={"lr": 0.1})
for i in range(100):
    run.log({"loss": 1.0 / (i + 1)})
run.finish()
r = tracklab.Api().run(run.id)
assert r.state == "finished" and r.config == {"lr": 0.1}, (r.state, r.config)
assert [x["loss"] for x in r.scan_history(keys=["loss"])] == [1.0 / (i + 1) for i in range(100)]
print(f"pip install check: ok (tracklab {tracklab.__version__}, run {run.id})")
PY
