#!/usr/bin/env bash
# What a report costs in storage, on SQLite and PostgreSQL: the bytes yingji writes per report
# (SQLite: the server process's write() bytes — WAL frames and checkpoints — from /proc;
# PostgreSQL: the WAL bytes the database generated, from pg_stat_wal) and the bytes stored per
# 1,000 incidents (SQLite: the database file after a truncating checkpoint, per table and index
# from dbstat; PostgreSQL: pg_total_relation_size per table), measured around N reports
# (default 2,000) sent by C concurrent clients (default 8) through the API, the release build.
# Usage: bash bench/storage.sh [N] [C]   (PostgreSQL at 127.0.0.1:5432 for that half)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
c=${2:-8}
cargo build --release -q -p yingji
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/yingji
work=$(mktemp -d)
port=18490
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

wait_up() { for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.1; done; echo "server did not start"; exit 1; }

# Sends N reports from C threads; fails on any answer but 201.
cat > "$work/send.py" <<'PY'
import http.client, json, sys, threading
port, n, c = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
H = {"Authorization": "Bearer demo-duty-officer", "Content-Type": "application/json"}
conn = http.client.HTTPConnection("127.0.0.1", port)
conn.request("GET", "/api/v1/me", headers=H)
jid = json.loads(conn.getresponse().read())["jurisdiction"]["id"]
left, lock, bad = [n], threading.Lock(), []
def work(k):
    h = http.client.HTTPConnection("127.0.0.1", port)
    while True:
        with lock:
            if left[0] == 0:
                return
            left[0] -= 1
            i = left[0]
        body = json.dumps({"jurisdiction_id": jid, "plan_id": "linxiang-city-mass-petition",
            "kind": "event", "title": f"测试上访事件{i}", "headcount": 20 + i % 400,
            "fields": {"unit": "测试单位", "address": "测试地址某路12号", "time": "上午九时",
                       "demands": "要求答复拖欠工程款问题"}})
        h.request("POST", "/api/v1/incidents", body=body, headers=H)
        r = h.getresponse(); r.read()
        if r.status != 201:
            bad.append(r.status)
ts = [threading.Thread(target=work, args=(k,)) for k in range(c)]
for t in ts: t.start()
for t in ts: t.join()
if bad:
    sys.exit(f"{len(bad)} reports refused: {sorted(set(bad))}")
PY

io() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/io"; }

# Per object: "name bytes", from dbstat, after a truncating checkpoint (the server stopped).
sqlite_sizes() {
  sqlite3 "$1" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  sqlite3 "$1" "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name;" | tr '|' ' '
}
pg_sizes() {
  psql -h 127.0.0.1 -U postgres -At -F' ' -c "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace" yingji_storage
}
wal_lsn() { psql -h 127.0.0.1 -U postgres -At -c "SELECT pg_current_wal_insert_lsn() - '0/0'" postgres; }

# Prints the growth per 1,000 reports, largest first: "before after" files of "name bytes".
growth() {
  python3 - "$1" "$2" "$n" <<'PY'
import sys
def load(p): return {l.split()[0]: int(l.split()[1]) for l in open(p) if l.strip()}
a, b, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
d = sorted(((b.get(k, 0) - a.get(k, 0), k) for k in set(a) | set(b)), reverse=True)
tot = sum(x for x, _ in d)
print(f"  stored: {tot / n * 1000 / 1e6:.2f} MB per 1,000 reports ({tot / n:.0f} bytes each); largest:")
for x, k in d[:10]:
    if x > 0:
        print(f"    {k:40s} {x / n:8.0f} bytes per report")
PY
}

echo "== SQLite ($n reports, $c clients)"
"$bin" serve --data "$work/sqlite" --listen 127.0.0.1:$port >"$work/sqlite.log" 2>&1 &
server=$!
wait_up
kill "$server"; wait "$server" 2>/dev/null || true
sqlite_sizes "$work/sqlite/yingji.db" > "$work/sq0"
"$bin" serve --data "$work/sqlite" --listen 127.0.0.1:$port >>"$work/sqlite.log" 2>&1 &
server=$!
wait_up
sleep 2
w0=$(io "$server" wchar); b0=$(io "$server" write_bytes)
python3 "$work/send.py" $port "$n" "$c"
sleep 2
w1=$(io "$server" wchar); b1=$(io "$server" write_bytes)
kill "$server"; wait "$server" 2>/dev/null || true
sqlite_sizes "$work/sqlite/yingji.db" > "$work/sq1"
echo "  written: $(( (w1 - w0) / n )) bytes per report by write() ($(( (b1 - b0) / n )) reached the block layer)"
growth "$work/sq0" "$work/sq1"

if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "== PostgreSQL ($n reports, $c clients)"
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS yingji_storage WITH (FORCE)" -c "CREATE DATABASE yingji_storage" postgres
  export YINGJI_DATA_KEY; YINGJI_DATA_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
  "$bin" serve --database-url postgres://postgres@127.0.0.1:5432/yingji_storage --listen 127.0.0.1:$port >"$work/pg.log" 2>&1 &
  server=$!
  wait_up
  sleep 2
  pg_sizes > "$work/pg0"
  l0=$(wal_lsn)
  python3 "$work/send.py" $port "$n" "$c"
  sleep 2
  l1=$(wal_lsn)
  pg_sizes > "$work/pg1"
  kill "$server"; wait "$server" 2>/dev/null || true
  echo "  written: $(( (l1 - l0) / n )) WAL bytes per report (the whole cluster's WAL: keep other work off it)"
  growth "$work/pg0" "$work/pg1"
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS yingji_storage WITH (FORCE)" postgres
fi
