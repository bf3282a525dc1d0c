#!/usr/bin/env bash
# Bounded fuzzing of every parser of outside text with cargo-fuzz on the nightly toolchain:
# plan files (load + check + classify/simulate; a revision diff), the petition-case
# configuration, working-day calendar files, the notification configuration and duty rosters as
# the API receives them. FUZZ_SECONDS per target (default 20; six targets ≈ 2 minutes plus the
# build). A crash fails the run and leaves its input in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
seconds="${FUZZ_SECONDS:-20}"
seed() { # target, files…
  local t="$1"; shift
  mkdir -p "fuzz/corpus/$t"
  for f in "$@"; do [ -f "$f" ] && cp -n "$f" "fuzz/corpus/$t/" 2>/dev/null || true; done
}
seed plan_load examples/plans/*.toml
seed plan_set_diff examples/plans/*.toml
seed case_config config/cases.toml
seed calendar calendars/*.toml
mkdir -p fuzz/corpus/notify_config fuzz/corpus/roster_json
[ -f fuzz/corpus/notify_config/seed.toml ] || printf '%s\n' \
  'base_url = "https://yingji.example.org"' 'holidays = ["2026-10-01"]' \
  '[channels.sms]' 'per_second = 5' 'burst = 10' > fuzz/corpus/notify_config/seed.toml
[ -f fuzz/corpus/roster_json/seed.json ] || printf '%s\n' \
  '{"time_zone":"Asia/Shanghai","start_date":"2026-03-02","shifts":[{"id":"day","name":"day","start":"08:30","end":"17:30"},{"id":"night","name":"night","start":"17:30","end":"08:30"}],"rotation":[{"person_id":"01a20a09-1832-70de-9aaf-b74ae6ccfb8a","name":"A"}],"holiday_rotation":[],"overrides":[],"swaps":[]}' \
  > fuzz/corpus/roster_json/seed.json
# libFuzzer's own output (its progress lines and the recommended dictionary) goes to a log
# file: it would otherwise bury the rest of the CI log. A crash prints the log's tail.
logs="$(mktemp -d)"
for target in plan_load plan_set_diff case_config calendar notify_config roster_json; do
  echo "-- fuzz $target for ${seconds}s"
  if ! cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time="$seconds" \
    -rss_limit_mb=2048 -max_len=65536 -timeout=10 -print_final_stats=1 >"$logs/$target.log" 2>&1; then
    tail -n 60 "$logs/$target.log"
    echo "fuzz $target FAILED; its input is in fuzz/artifacts/$target/"
    exit 1
  fi
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$logs/$target.log" || tail -n 3 "$logs/$target.log"
done
