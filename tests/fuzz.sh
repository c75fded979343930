#!/usr/bin/env bash
# Fuzzes each target in tests/fuzz for FUZZ_SECONDS (default 60) with
# cargo-fuzz (libFuzzer), starting from the committed corpus. New inputs are
# merged back into tests/fuzz/corpus/<target>/ (minimised with `cargo fuzz
# cmin`), and any crash input is copied into tests/fuzz/regressions/<target>/,
# where `cargo test -p tracklab-fuzz` replays it from then on; a crash fails
# this script. Run by `TRACKLAB_SOAK=1 bash tests/run-all.sh`.
#   FUZZ_SECONDS=10 bash tests/fuzz.sh frame_payload     # one target, briefly
set -euo pipefail
cd "$(dirname "$0")/fuzz"
if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked
fi
# cargo-fuzz passes nightly -Z flags (sanitizer, coverage); this machine has
# one stable toolchain, which accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
secs=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frame_payload log_file apply)
failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "regressions/$t"
  echo "fuzzing $t for ${secs}s"
  # A crash ends the run with an error; it is judged by its artifacts below.
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
    -print_final_stats=1 2>&1 | grep -E "^(stat::|Done|SUMMARY)|panicked" || true
  if compgen -G "artifacts/$t/crash-*" >/dev/null || compgen -G "artifacts/$t/oom-*" >/dev/null \
      || compgen -G "artifacts/$t/timeout-*" >/dev/null; then
    cp artifacts/"$t"/{crash,oom,timeout}-* "regressions/$t/" 2>/dev/null || true
    failed+=("$t")
  fi
  cargo fuzz cmin "$t" "corpus/$t" >/dev/null 2>&1 || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found failing inputs for: ${failed[*]} (copied into tests/fuzz/regressions/)" >&2
  exit 1
fi
echo "fuzzing: no crash in ${targets[*]} (${secs}s each)"
