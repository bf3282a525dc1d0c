#!/usr/bin/env bash
# Activation of a response calling 200 people through the webhook channel to a receiver on
# loopback: time from the activation request to the last message received, p50/p99 over
# repeated runs (SQLite, release build). Goal: all 200 within 1 s.
#   NOTIFY_BENCH_RUNS=30 NOTIFY_BENCH_PEOPLE=200 bench/notify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUST_LOG=${RUST_LOG:-warn} cargo bench -p yingji-server --bench notify
