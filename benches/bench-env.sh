#!/usr/bin/env bash
# Shared by the Python benches: a release daemon and CLI, and .venv-bench
# with a release build of the SDK's native module (maturin develop).
# Sourced from the repository root.
cargo build --release -q -p tracklab-daemon -p tracklab-cli
[ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
.venv-bench/bin/pip install -q --disable-pip-version-check "maturin>=1.9,<2"
VIRTUAL_ENV="$PWD/.venv-bench" PATH="$PWD/.venv-bench/bin:$PATH" \
  maturin develop --release -q --manifest-path clients/python/Cargo.toml >/dev/null 2>&1
