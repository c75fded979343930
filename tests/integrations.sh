#!/usr/bin/env bash
# Opt-in: trains tiny models with Hugging Face's Trainer and Lightning's
# WandbLogger, unchanged, through TrackLab's `wandb` shim, and reads the runs
# back (clients/python/tests/test_integrations_real.py).
#
# Builds a virtualenv (INTEG_VENV, default .venv-integrations) with torch,
# transformers and lightning from PyPI: about 5.6 GiB and 3 minutes here (the
# PyPI torch wheel brings its CUDA libraries; nothing uses a GPU), then
# installs TrackLab there (maturin develop) and the shim into its
# site-packages. Needs the debug binaries (cargo build --workspace --bins).
#   bash tests/integrations.sh            or
#   TRACKLAB_TEST_INTEGRATIONS=1 bash tests/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${INTEG_VENV:-.venv-integrations}
py=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
venv=$(cd "$venv" && pwd)
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "maturin>=1.9,<2" pytest numpy torch transformers accelerate lightning
VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
  maturin develop -q --manifest-path clients/python/Cargo.toml 2>&1 | grep -v "^Ignoring" || true
"$venv/bin/python" -m tracklab wandb-shim install
TRACKLAB_TEST_INTEGRATIONS=1 TRACKLAB_DAEMON_BIN="$PWD/target/debug/tracklab-daemon" \
  HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
  "$venv/bin/python" -m pytest -q clients/python/tests/test_integrations_real.py "$@"
