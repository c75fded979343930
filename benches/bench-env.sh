#!/usr/bin/env bash
# Shared by the Python benches: a release daemon and CLI, and .venv-bench
# with a release wheel of the SDK installed into the venv's site-packages.
# It is a regular (not editable) install on purpose: `maturin develop`, which
# the test suite runs in debug mode, writes the native module into the source
# tree, and an editable bench venv would pick up that debug build.
# Sourced from the repository root.
# rustc probes read standard input; never let them see an inherited one.
cargo build --release -q -p tracklab-daemon -p tracklab-cli </dev/null
[ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
.venv-bench/bin/pip install -q --disable-pip-version-check "maturin>=1.9,<2"
rm -rf target/bench-wheel
.venv-bench/bin/maturin build --release -q --manifest-path clients/python/Cargo.toml </dev/null \
  -o target/bench-wheel >/dev/null 2>&1
.venv-bench/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps \
  target/bench-wheel/*.whl
.venv-bench/bin/python - <<'PY'
import pathlib, tracklab
here = pathlib.Path(tracklab.__file__).resolve()
assert "site-packages" in str(here), f"bench venv imports tracklab from the source tree: {here}"
PY
