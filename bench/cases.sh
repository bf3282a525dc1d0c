#!/usr/bin/env bash
# Petition cases at province scale (issue 20): 10 million cases bulk-loaded into the real schema,
# then, warm, what the API sends (`Store::list_cases`, `Store::case_stats`) for a randomly drawn
# city, county and township: the first page without a filter (newest first) and the next page,
# the overdue page of a county, the cases due in 3 days of a county, a city's quarterly
# statistics; p50 / p99 and CPU per request, on SQLite and on PostgreSQL (a scratch database on
# the server below; unset the URL to skip it). About 20 minutes and 20 GB of disk at 10M.
#   bench/cases.sh [CASES]   (default 10000000; crates/yingji-store/benches/cases.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
export YINGJI_TEST_POSTGRES_URL=${YINGJI_TEST_POSTGRES_URL-postgres://postgres@127.0.0.1:5432/postgres}
cargo bench -p yingji-store --bench cases -- "$@"
