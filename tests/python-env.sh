#!/usr/bin/env bash
# Sets up .venv (Python >= 3.10) with the test tools (and the packages the
# media and bridge tests read back with: Pillow, matplotlib, plotly,
# TensorBoard, MLflow) and the tracklab
# Python SDK built from clients/python (maturin develop: an editable
# install whose native module is built with cargo). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check \
  "maturin>=1.9,<2" pytest ruff numpy pandas pillow matplotlib plotly tensorboard mlflow-skinny
VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH" \
  maturin develop -q --manifest-path clients/python/Cargo.toml 2>&1 | grep -v "^Ignoring" || true
.venv/bin/python -c "import tracklab" # fails loudly if the build did not install
# The real wandb, for the test that imports a .wandb file it wrote: kept out
# of .venv (where `import wandb` must stay TrackLab's shim or nothing) and
# put on PYTHONPATH only by that test.
if [ ! -d target/wandb-pkg/wandb ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --target target/wandb-pkg wandb
fi
