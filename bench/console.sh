#!/usr/bin/env bash
# Server-side render time of the web console: the duty desk (demo data: 4 incidents, ~30 tasks)
# and an incident room, signed in, 8 connections from loopback for SECONDS each, plus the
# per-request time of a single connection (latency with no queueing).
# Usage: bash bench/console.sh [SECONDS]   (needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { echo "install wrk (apt-get install -y wrk)"; exit 1; }
cargo build --release -q -p yingji
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/yingji
work=$(mktemp -d)
port=18490
"$bin" serve --data "$work/data" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
cookie="yj_session=demo-duty-officer"
room=$(curl -s -b "$cookie" "http://127.0.0.1:$port/" | grep -o 'href="/incidents/[^"]*"' | sed -n 3p | sed 's/href="//;s/"//')
for path in / "$room" /plans/linxiang-city-mass-petition; do
  for c in 1 8; do
    printf '%-60s %s conn: ' "$path" "$c"
    wrk -t1 -c"$c" -d"${secs}s" --latency -H "Cookie: $cookie" "http://127.0.0.1:$port$path" \
      | awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%s req/s, p50 %s, p99 %s\n", rps, p50, p99}'
  done
done
