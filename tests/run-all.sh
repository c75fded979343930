#!/usr/bin/env bash
# Every test: formatting, lints, then all unit, property, integration and
# end-to-end tests (the e2e tests run the real daemon binary), then the
# Python SDK's lint and pytest suite (against the same daemon binary), then
# the dashboard's bundle check and browser test (tests/dashboard.sh).
# Slow soak variants run with TRACKLAB_SOAK=1 (with 60 s of fuzzing per
# target, tests/fuzz.sh); TRACKLAB_TEST_WHEEL=1 adds a
# `pip install ./clients/python` check in a fresh virtualenv (a release build);
# TRACKLAB_TEST_INTEGRATIONS=1 trains tiny models with Hugging Face's Trainer
# and Lightning through the wandb shim (tests/integrations.sh, 5.6 GiB venv).
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing here reads standard input; an inherited one (a pipe shared with
# other jobs) once reached `rustc -` through cargo and broke a build.
exec </dev/null
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# cargo caches rustc's target information, failures included; a fresh query
# for the build (nothing else running) keeps one bad probe from sticking.
rm -f target/.rustc_info.json
cargo build --workspace --bins
cargo test --workspace
bash tests/python-env.sh
.venv/bin/ruff check clients/python tests/dashboard
.venv/bin/ruff format --check clients/python tests/dashboard
TRACKLAB_DAEMON_BIN="$PWD/target/debug/tracklab-daemon" \
  .venv/bin/python -m pytest -q clients/python/tests
bash tests/dashboard.sh
if [ -n "${TRACKLAB_SOAK:-}" ]; then
  bash tests/fuzz.sh
fi
if [ "${TRACKLAB_TEST_INTEGRATIONS:-}" = 1 ]; then
  bash tests/integrations.sh
fi
if [ "${TRACKLAB_TEST_WHEEL:-}" = 1 ]; then
  bash tests/pip-install-check.sh
fi
