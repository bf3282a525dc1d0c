#!/usr/bin/env bash
# The search box over 1 million cases (issue 19): first page for a name, a case number and a
# two-character grievance word, in a province, a county and a township, warm (mean of 30 runs), on
# SQLite and on PostgreSQL (a scratch database on the server below; unset the URL to skip it).
#   bench/search.sh [CASES]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
export YINGJI_TEST_POSTGRES_URL=${YINGJI_TEST_POSTGRES_URL-postgres://postgres@127.0.0.1:5432/postgres}
cargo bench -p yingji-store --bench search -- "$@"
