#!/usr/bin/env bash
# Bounded fuzzing of the parsers of outside text (plan files): FUZZ_SECONDS per target
# (default 60) with cargo-fuzz on the nightly toolchain. A crash fails the run and leaves its
# input in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
for target in plan_load plan_set_diff; do
  mkdir -p "fuzz/corpus/$target"
  cp -n examples/plans/*.toml "fuzz/corpus/$target/" 2>/dev/null || true
  echo "-- fuzz $target for ${FUZZ_SECONDS:-60}s"
  cargo +nightly fuzz run "$target" -- -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
done
