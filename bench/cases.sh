#!/usr/bin/env bash
# Petition-case queries over 10 million cases, on SQLite and PostgreSQL (not run by CI).
#
# The schema is the real one (`yingji migrate`, migration 0003). The rows are bulk-loaded with SQL
# (a recursive CTE on SQLite, generate_series on PostgreSQL) after dropping the secondary indexes,
# which are then rebuilt; `case_stats` is filled with the aggregate the server maintains in each
# write. The tree: 1 province › 10 cities › 100 counties › 1,000 townships; cases accepted from
# 2025-01-01 to "now" (2026-06-01 00:00 UTC) in the townships, due 60 days after acceptance; the
# due ones are replied except every 50th case (2 %, in any township), which stays open and overdue. The case body is a short JSON
# text (the real one is longer; these queries never read it).
#
# Measured warm: after a warm-up run, PostgreSQL: median of 20 runs (psql \\timing); SQLite: mean of
# 50 runs in one connection, less the same number of `SELECT 1` (sqlite3's timer has 1 ms steps), with exactly the SQL
# `yingji-store` sends (crates/yingji-store/src/cases.rs):
#   1. the first page (50) of open cases due in the next 3 days for one county,
#   2. the first page (50) of overdue open cases for one county,
#   3. the quarterly statistics of one city, by department.
#
# Usage: bash bench/cases.sh [ROWS]   (default 10000000; needs sqlite3, psql, PostgreSQL at
#        127.0.0.1:5432 with trust auth, about 10 GB of free disk)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
work=${BENCH_DIR:-$(mktemp -d)}
pg_admin=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_db=yingji_bench_cases
trap 'rm -rf "$work"' EXIT
command -v sqlite3 >/dev/null || { echo "install sqlite3"; exit 1; }
command -v psql >/dev/null || { echo "install psql"; exit 1; }

cargo build --release -q -p yingji
bin=${CARGO_TARGET_DIR:-target}/release/yingji

now_ms=1780272000000          # 2026-06-01T00:00:00Z
start_ms=1735689600000        # 2025-01-01T00:00:00Z
day_ms=86400000
span_ms=$((now_ms - start_ms))
due_off=$((60 * day_ms))

# Jurisdiction ids are fixed-width texts shaped like UUIDs; paths are /province/city/county/town/.
jid() { printf '00000000-0000-7000-8000-%012d' "$1"; }
# The measured county and city are drawn at random (BENCH_CITY, BENCH_COUNTY: 1–10 to choose).
c=${BENCH_CITY:-$((RANDOM % 10 + 1))}; k=${BENCH_COUNTY:-$((RANDOM % 10 + 1))}
county_id=$(jid $((1000 + c * 100 + k)))
city_id=$(jid $((10 + c)))
echo "measuring county $k of city $c"
city_path="/$(jid 1)/$city_id/"
county_path="$city_path$county_id/"
lo_c=$county_path; hi_c=${county_path%/}0
lo_y=$city_path;   hi_y=${city_path%/}0

# --- common SQL (both backends) --------------------------------------------------------------
jurisdictions_sql() {
  cat <<SQL
INSERT INTO jurisdictions (id, parent_id, name, kind, code, path, created_at)
VALUES ('$(jid 1)', NULL, '测试省', 'province', NULL, '/$(jid 1)/', '2025-01-01T00:00:00.000000Z');
SQL
  for c in $(seq 1 10); do
    cid=$(jid $((10 + c)))
    echo "INSERT INTO jurisdictions VALUES ('$cid', '$(jid 1)', '测试市$c', 'city', NULL, '/$(jid 1)/$cid/', '2025-01-01T00:00:00.000000Z');"
    for k in $(seq 1 10); do
      kid=$(jid $((1000 + c * 100 + k)))
      echo "INSERT INTO jurisdictions VALUES ('$kid', '$cid', '测试县$c-$k', 'county', NULL, '/$(jid 1)/$cid/$kid/', '2025-01-01T00:00:00.000000Z');"
      for t in $(seq 1 10); do
        tid=$(jid $((100000 + c * 1000 + k * 10 + t)))
        echo "INSERT INTO jurisdictions VALUES ('$tid', '$kid', '测试镇$c-$k-$t', 'township', NULL, '/$(jid 1)/$cid/$kid/$tid/', '2025-01-01T00:00:00.000000Z');"
      done
    done
  done
}

# A case n (1..rows): township from a hash of n; accepted time spread over the span in id order.
# Expressions use only operators both backends share. h = a pseudo-random 0..999999 from n.
case_cols="id, jurisdiction_id, jurisdiction_path, case_number, status, is_open, channel, form, case_type, category, topic, department, title, received_at, accepted_on, due_on, due_ms, overdue, extended, supervision_step, next_due_ms, updated_at, body"

q_due="SELECT id, jurisdiction_id, case_number, status, channel, category, topic, department, title, accepted_on, due_on, due_ms, overdue, extended, supervision_step FROM cases WHERE jurisdiction_path >= '$lo_c' AND jurisdiction_path < '$hi_c' AND is_open = 1 AND due_ms >= $now_ms AND due_ms < $((now_ms + 3 * day_ms)) ORDER BY is_open, due_ms, jurisdiction_path LIMIT 51"
q_overdue="SELECT id, jurisdiction_id, case_number, status, channel, category, topic, department, title, accepted_on, due_on, due_ms, overdue, extended, supervision_step FROM cases WHERE jurisdiction_path >= '$lo_c' AND jurisdiction_path < '$hi_c' AND is_open = 1 AND due_ms >= -4611686018427387904 AND due_ms < $now_ms ORDER BY is_open, due_ms, jurisdiction_path LIMIT 51"
sums=""
for c in received replied on_time overdue extended satisfied basically_satisfied dissatisfied; do
  sums="$sums${sums:+, }CAST(COALESCE(SUM($c), 0) AS BIGINT)"
done
q_stats="SELECT department, $sums FROM case_stats WHERE quarter IN ('2026Q1') AND jurisdiction_path >= '$lo_y' AND jurisdiction_path < '$hi_y' GROUP BY department ORDER BY department"

stats_fill="INSERT INTO case_stats SELECT jurisdiction_path, substr(accepted_on, 1, 4) || 'Q' || CAST(((CAST(substr(accepted_on, 6, 2) AS INTEGER) - 1) / 3 + 1) AS TEXT), COALESCE(department, ''), COALESCE(category, 'unclassified'), channel, COUNT(*), SUM(1 - is_open), SUM(CASE WHEN is_open = 0 AND overdue = 0 THEN 1 ELSE 0 END), SUM(overdue), SUM(extended), SUM(CASE WHEN is_open = 0 AND overdue = 0 THEN 1 ELSE 0 END), 0, 0 FROM cases GROUP BY 1, 2, 3, 4, 5"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# --- SQLite ----------------------------------------------------------------------------------
echo "== SQLite: $rows cases in $work"
"$bin" migrate --data "$work/sqlite" >/dev/null
db=$work/sqlite/yingji.db
t0=$(date +%s)
{
  echo "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000;"
  echo "BEGIN;"
  jurisdictions_sql
  echo "DROP INDEX cases_scope; DROP INDEX cases_open_due; DROP INDEX cases_next_due;"
  cat <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows),
g AS (SELECT i, (i * 2654435761) % 1000003 AS h, $start_ms + (i - 1) * ($span_ms / $rows) AS acc FROM n),
t AS (SELECT i, h, acc, acc + $due_off AS due,
        100000 + ((h % 10) + 1) * 1000 + (((h / 10) % 10) + 1) * 10 + ((h / 100) % 10) + 1 AS town,
        10 + (h % 10) + 1 AS city, 1000 + ((h % 10) + 1) * 100 + ((h / 10) % 10) + 1 AS county FROM g)
INSERT INTO cases ($case_cols)
SELECT printf('%08x-0000-7000-8000-%012d', i, i),
       printf('00000000-0000-7000-8000-%012d', town),
       printf('/00000000-0000-7000-8000-%012d/00000000-0000-7000-8000-%012d/00000000-0000-7000-8000-%012d/00000000-0000-7000-8000-%012d/', 1, city, county, town),
       printf('BENCH-%010d', i),
       CASE WHEN due >= $now_ms OR i % 50 = 0 THEN 'handling' ELSE 'closed' END,
       CASE WHEN due >= $now_ms OR i % 50 = 0 THEN 1 ELSE 0 END,
       CASE h % 5 WHEN 0 THEN 'letter' WHEN 1 THEN 'phone' WHEN 2 THEN 'online' WHEN 3 THEN 'fax' ELSE 'visit' END,
       'single', 'general',
       CASE (h / 7) % 3 WHEN 0 THEN 'administrative' WHEN 1 THEN 'judicial' ELSE 'other' END,
       '城乡建设', '部门' || ((h / 13) % 10), '测试信访事项',
       strftime('%Y-%m-%dT%H:%M:%S.000000Z', acc / 1000, 'unixepoch'),
       strftime('%Y-%m-%d', acc / 1000, 'unixepoch'),
       strftime('%Y-%m-%d', due / 1000, 'unixepoch'),
       due,
       CASE WHEN due < $now_ms AND i % 50 = 0 THEN 1 ELSE 0 END,
       CASE WHEN h % 20 = 0 THEN 1 ELSE 0 END,
       NULL,
       CASE WHEN due >= $now_ms OR i % 50 = 0 THEN due ELSE NULL END,
       strftime('%Y-%m-%dT%H:%M:%S.000000Z', acc / 1000, 'unixepoch'),
       '{"bench":true,"title":"测试信访事项","grievance":"测试诉求"}'
FROM t;
SQL
  echo "CREATE INDEX cases_scope ON cases (jurisdiction_path, id);"
  echo "CREATE INDEX cases_open_due ON cases (is_open, due_ms, jurisdiction_path);"
  echo "CREATE INDEX cases_next_due ON cases (next_due_ms) WHERE next_due_ms IS NOT NULL;"
  echo "$stats_fill;"
  echo "COMMIT; ANALYZE;"
} | sqlite3 "$db" >/dev/null
echo "loaded in $(( $(date +%s) - t0 )) s; $(du -sh "$db" | cut -f1)"

sqlite_time() {
  # sqlite3's .timer shows whole milliseconds only: time N runs of the query in one connection
  # (after a warm-up run) against N runs of `SELECT 1`, and print the mean per query in ms.
  local n=50 a b
  a=$( { echo "$1;"; for _ in $(seq 1 $n); do echo "$1;"; done; } > "$work/qa.sql"
       s=$(date +%s%N); sqlite3 "$db" < "$work/qa.sql" >/dev/null; echo $(( $(date +%s%N) - s )) )
  b=$( { echo "$1;"; for _ in $(seq 1 $n); do echo "SELECT 1;"; done; } > "$work/qb.sql"
       s=$(date +%s%N); sqlite3 "$db" < "$work/qb.sql" >/dev/null; echo $(( $(date +%s%N) - s )) )
  awk -v a="$a" -v b="$b" -v n=$n 'BEGIN { d = (a - b) / n / 1e6; if (d < 0) d = 0; print d }'
}
sqlite_rows() { sqlite3 "$db" "$1;" | wc -l; }
printf 'sqlite  due in 3 days, one county : %6.2f ms  (%s rows)\n' "$(sqlite_time "$q_due")" "$(sqlite_rows "$q_due")"
printf 'sqlite  overdue, one county       : %6.2f ms  (%s rows)\n' "$(sqlite_time "$q_overdue")" "$(sqlite_rows "$q_overdue")"
printf 'sqlite  quarter stats, one city   : %6.2f ms  (%s rows)\n' "$(sqlite_time "$q_stats")" "$(sqlite_rows "$q_stats")"
rm -rf "$work/sqlite"

# --- PostgreSQL ------------------------------------------------------------------------------
echo "== PostgreSQL: $rows cases"
psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" -c "CREATE DATABASE $pg_db" >/dev/null
pg_url=${pg_admin%/*}/$pg_db
"$bin" migrate --database-url "$pg_url" >/dev/null
t0=$(date +%s)
{
  echo "SET synchronous_commit = off; SET maintenance_work_mem = '1GB';"
  echo "BEGIN;"
  jurisdictions_sql
  echo "DROP INDEX cases_scope; DROP INDEX cases_open_due; DROP INDEX cases_next_due;"
  cat <<SQL
INSERT INTO cases ($case_cols)
SELECT lpad(to_hex(i), 8, '0') || '-0000-7000-8000-' || lpad(i::text, 12, '0'),
       '00000000-0000-7000-8000-' || lpad(town::text, 12, '0'),
       '/00000000-0000-7000-8000-000000000001/00000000-0000-7000-8000-' || lpad(city::text, 12, '0') || '/00000000-0000-7000-8000-' || lpad(county::text, 12, '0') || '/00000000-0000-7000-8000-' || lpad(town::text, 12, '0') || '/',
       'BENCH-' || lpad(i::text, 10, '0'),
       CASE WHEN due >= $now_ms OR i % 50 = 0 THEN 'handling' ELSE 'closed' END,
       CASE WHEN due >= $now_ms OR i % 50 = 0 THEN 1 ELSE 0 END,
       CASE h % 5 WHEN 0 THEN 'letter' WHEN 1 THEN 'phone' WHEN 2 THEN 'online' WHEN 3 THEN 'fax' ELSE 'visit' END,
       'single', 'general',
       CASE (h / 7) % 3 WHEN 0 THEN 'administrative' WHEN 1 THEN 'judicial' ELSE 'other' END,
       '城乡建设', '部门' || ((h / 13) % 10), '测试信访事项',
       to_char(to_timestamp(acc / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(to_timestamp(acc / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
       to_char(to_timestamp(due / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
       due,
       CASE WHEN due < $now_ms AND i % 50 = 0 THEN 1 ELSE 0 END,
       CASE WHEN h % 20 = 0 THEN 1 ELSE 0 END,
       NULL,
       CASE WHEN due >= $now_ms OR i % 50 = 0 THEN due ELSE NULL END,
       to_char(to_timestamp(acc / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       '{"bench":true,"title":"测试信访事项","grievance":"测试诉求"}'
FROM (SELECT i, h, acc, acc + $due_off AS due,
        100000 + ((h % 10) + 1) * 1000 + (((h / 10) % 10) + 1) * 10 + ((h / 100) % 10) + 1 AS town,
        10 + (h % 10) + 1 AS city, 1000 + ((h % 10) + 1) * 100 + ((h / 10) % 10) + 1 AS county
      FROM (SELECT i, (i * 2654435761) % 1000003 AS h, $start_ms + (i - 1) * ($span_ms / $rows) AS acc
            FROM generate_series(1::bigint, $rows::bigint) AS i) g) t;
SQL
  echo "CREATE INDEX cases_scope ON cases (jurisdiction_path, id);"
  echo "CREATE INDEX cases_open_due ON cases (is_open, due_ms, jurisdiction_path);"
  echo "CREATE INDEX cases_next_due ON cases (next_due_ms) WHERE next_due_ms IS NOT NULL;"
  echo "$stats_fill;"
  echo "COMMIT;"
  echo "VACUUM ANALYZE cases; VACUUM ANALYZE case_stats;"
} | psql -q -v ON_ERROR_STOP=1 "$pg_url" >/dev/null
echo "loaded in $(( $(date +%s) - t0 )) s; $(psql -tA "$pg_url" -c "SELECT pg_size_pretty(pg_database_size('$pg_db'))")"

pg_time() {
  { echo "$1;"; echo '\timing on'; for _ in $(seq 1 20); do echo "$1;"; done; } |
    psql -q "$pg_url" 2>&1 | grep '^Time:' | awk '{print $2}' | median
}
pg_rows() { psql -tA "$pg_url" -c "$1" | wc -l; }
printf 'postgres due in 3 days, one county: %6.2f ms  (%s rows)\n' "$(pg_time "$q_due")" "$(pg_rows "$q_due")"
printf 'postgres overdue, one county      : %6.2f ms  (%s rows)\n' "$(pg_time "$q_overdue")" "$(pg_rows "$q_overdue")"
printf 'postgres quarter stats, one city  : %6.2f ms  (%s rows)\n' "$(pg_time "$q_stats")" "$(pg_rows "$q_stats")"
psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null
