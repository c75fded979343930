#!/usr/bin/env bash
# Sets up .venv (Python >= 3.10) with the test tools and the tracklab
# Python SDK built from clients/python (maturin develop: an editable
# install whose native module is built with cargo). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check \
  "maturin>=1.9,<2" pytest ruff numpy pandas pillow matplotlib plotly
VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH" \
  maturin develop -q --manifest-path clients/python/Cargo.toml 2>&1 | grep -v "^Ignoring" || true
.venv/bin/python -c "import tracklab" # fails loudly if the build did not install
