#!/usr/bin/env bash
# Load benchmark of durable incident intake (POST /api/v1/incidents, 64 connections from
# loopback) on SQLite and PostgreSQL, next to two baselines measured in the same run:
#   - a trivial JSON endpoint of the same server (GET /healthz),
#   - the store's raw durable commit rate: one single-row INSERT per transaction
#     (SQLite: WAL + synchronous=FULL, one writer; PostgreSQL: pgbench at the same concurrency).
# It also reports the CPU time each report costs (the server's threads, and PostgreSQL's
# processes), read from /proc: a figure that moves less than req/s on a shared, noisy machine.
# Usage: bash bench/intake.sh [SECONDS]   (needs wrk; PostgreSQL at 127.0.0.1:5432 for that half)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=64
command -v wrk >/dev/null || { echo "install wrk (apt-get install -y wrk)"; exit 1; }
cargo build --release -q -p yingji
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/yingji
work=$(mktemp -d)
port=18480
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer demo-duty-officer"
wrk.body = os.getenv("BODY")
LUA

wait_up() { for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.1; done; echo "server did not start"; exit 1; }

body_for() {
  local j
  j=$(curl -s -H 'Authorization: Bearer demo-duty-officer' "http://127.0.0.1:$port/api/v1/me" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jurisdiction"]["id"])')
  printf '{"jurisdiction_id":"%s","plan_id":"linxiang-city-mass-petition","kind":"event","title":"压测","headcount":120,"fields":{"unit":"测试单位","address":"测试地址","time":"现在","demands":"测试诉求"}}' "$j"
}

# wrk output → "req/s p50_ms p99_ms non2xx"
cat > "$work/summ.py" <<'PY'
import re, sys
t = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
def lat(p):
    m = re.search(r"\s" + p + r"%\s+([\d.]+)(us|ms|s)\b", t)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else (v * 1000 if u == "s" else v)
non2 = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
print("%.0f %.2f %.2f %s" % (rps, lat("50"), lat("99"), non2.group(1) if non2 else "0"))
if len(sys.argv) > 1:
    # CPU per request: clock ticks used during the run (from /proc) over the requests served.
    n = int(re.search(r"(\d+) requests in", t).group(1))
    print("%.0f" % (float(sys.argv[1]) / float(sys.argv[2]) * 1e6 / max(n, 1)), file=sys.stderr)
PY
summ() { python3 "$work/summ.py"; }
hz=$(getconf CLK_TCK)
# CPU clock ticks used so far by a process (all its threads) / by all PostgreSQL processes.
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
pg_ticks() { for p in $(pgrep -x postgres); do awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s+=$1} END {print s+0}'; }
# Runs wrk against intake and prints its summary; the server's CPU µs per request goes to $work/cpu.
run_intake() {
  local pid=$1 pg0 t0 out
  shift
  t0=$(ticks "$pid"); pg0=$(pg_ticks)
  out=$(run_wrk -s "$work/post.lua" "$@")
  echo "$out" | python3 "$work/summ.py" $(( $(ticks "$pid") - t0 )) "$hz" 2>"$work/cpu"
  echo "$out" | python3 "$work/summ.py" $(( $(pg_ticks) - pg0 )) "$hz" 2>"$work/pgcpu" >/dev/null
}

run_wrk() { wrk -t2 -c$conns -d${secs}s --latency "$@" 2>&1; }

echo "== SQLite"
"$bin" serve --data "$work/sqlite" --listen 127.0.0.1:$port >"$work/sqlite.log" 2>&1 &
server=$!
wait_up
export BODY; BODY=$(body_for)
trivial=$(run_wrk "http://127.0.0.1:$port/healthz" | summ)
run_intake "$server" "http://127.0.0.1:$port/api/v1/incidents" >"$work/sq"
sqlite_intake=$(cat "$work/sq"); sqlite_cpu=$(cat "$work/cpu")
kill %1; wait %1 2>/dev/null || true
sqlite_raw=$(python3 - "$work/raw.db" "$secs" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
n, end = 0, time.time() + float(sys.argv[2])
while time.time() < end:
    db.execute("BEGIN"); db.execute("INSERT INTO t (v) VALUES ('x')"); db.execute("COMMIT"); n += 1
print(f"{n / float(sys.argv[2]):.0f}")
PY
)

pg_intake="skipped"; pg_raw="skipped"; pg_cpu="skipped"
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "== PostgreSQL"
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS yingji_bench WITH (FORCE)" -c "CREATE DATABASE yingji_bench" postgres
  # PostgreSQL has no data directory for a generated data key: use a throwaway one.
  YINGJI_DATA_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))') \
  "$bin" serve --database-url postgres://postgres@127.0.0.1:5432/yingji_bench --listen 127.0.0.1:$port >"$work/pg.log" 2>&1 &
  server=$!
  wait_up
  BODY=$(body_for)
  run_intake "$server" "http://127.0.0.1:$port/api/v1/incidents" >"$work/pq"
  pg_intake=$(cat "$work/pq"); pg_cpu="$(cat "$work/cpu") µs in yingji + $(cat "$work/pgcpu") µs in PostgreSQL"
  kill %1; wait %1 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -qc "CREATE TABLE raw (id BIGSERIAL PRIMARY KEY, v TEXT)" yingji_bench
  echo "INSERT INTO raw (v) VALUES ('x');" > "$work/insert.sql"
  pg_raw=$(pgbench -h 127.0.0.1 -U postgres -n -c $conns -j 2 -T "$secs" -f "$work/insert.sql" yingji_bench 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n1)
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS yingji_bench WITH (FORCE)" postgres
fi

echo
echo "results (${secs}s each, $conns connections, loopback; req/s, p50 ms, p99 ms, non-2xx):"
echo "  trivial JSON endpoint (GET /healthz):      $trivial"
echo "  SQLite raw durable commits/s (1 row/tx):   $sqlite_raw"
echo "  SQLite durable intake:                     $sqlite_intake"
echo "  PostgreSQL pgbench single-row insert tps:  $pg_raw"
echo "  PostgreSQL durable intake:                 $pg_intake"
echo "  CPU per report, SQLite:                    $sqlite_cpu µs in yingji"
echo "  CPU per report, PostgreSQL:                $pg_cpu"
python3 - "$sqlite_raw" "$sqlite_intake" "$pg_raw" "$pg_intake" <<'PY'
import sys
raw, intake, praw, pintake = sys.argv[1:]
print(f"  SQLite intake / raw commit rate:          {float(intake.split()[0]) / float(raw):.2f}x (goal >= 1.5x)")
if praw not in ("skipped", "") and pintake != "skipped":
    print(f"  PostgreSQL intake / pgbench insert rate:  {float(pintake.split()[0]) / float(praw):.2f}x (goal >= 0.8x)")
PY
