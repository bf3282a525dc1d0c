#!/usr/bin/env bash
# What people read as a province grows (issue 20): the incident and task lists, my tasks, the
# desk and the incident list page through the router for a city, a county and a township, with
# 1k, 10k, 100k and 1M closed incidents beside a day's open ones (p50/p99 and CPU per request),
# then the store's lists (incidents, tasks, deliveries, disputes) at the same sizes. SQLite and
# PostgreSQL (a scratch database on the server below; unset the URL to skip it).
#   bench/province.sh [SIZES…]
set -euo pipefail
cd "$(dirname "$0")/.."
export YINGJI_TEST_POSTGRES_URL=${YINGJI_TEST_POSTGRES_URL-postgres://postgres@127.0.0.1:5432/postgres}
cargo bench -p yingji-server --bench province -- "$@"
cargo bench -p yingji-store --bench lists -- "$@"
