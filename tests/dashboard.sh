#!/usr/bin/env bash
# The dashboard's own checks, run by tests/run-all.sh after the Python suite:
#  1. daemon/ui/dist (embedded in the daemon) is exactly what daemon/ui/src
#     builds to (npm ci + tsc + vite, from the lock file);
#  2. the end-to-end test in headless Debian Chromium (tests/dashboard/e2e.mjs,
#     playwright-core), against the debug daemon and the .venv SDK.
# Installs what it needs: Debian's chromium (apt) when /usr/bin/chromium is
# missing, and the npm packages of daemon/ui and tests/dashboard.
# Screenshots land in target/dashboard-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
if [ ! -x /usr/bin/chromium ]; then
  as_root=()
  [ "$(id -u)" = 0 ] || as_root=(sudo -n)
  echo "installing Debian's chromium for the dashboard test"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq chromium >/dev/null
fi

(cd daemon/ui && npm ci --loglevel=error)
built=$(mktemp -d -t tracklab-ui.XXXXXX)
trap 'rm -rf "$built"' EXIT
(cd daemon/ui && npx tsc --noEmit && npx vite build --outDir "$built" --emptyOutDir --logLevel error)
if ! diff -r daemon/ui/dist "$built" >/dev/null; then
  diff -r daemon/ui/dist "$built" | head -20 || true
  echo "daemon/ui/dist does not match daemon/ui/src: run \`npm run build\` in daemon/ui and commit dist/" >&2
  exit 1
fi
echo "ok  daemon/ui/dist matches its sources"

(cd tests/dashboard && npm ci --loglevel=error)
TRACKLAB_DAEMON_BIN="$PWD/target/debug/tracklab-daemon" PYTHON="$PWD/.venv/bin/python" \
  node tests/dashboard/e2e.mjs
