#!/usr/bin/env bash
# One versus two `serve` processes on one PostgreSQL database (issue 21): N reports (default
# 3,000) sent through the API by C concurrent clients (default 16), spread over the processes
# round-robin (as a load balancer would), the release build. Reports per second, and CPU per
# report: the yingji processes' (from /proc) and PostgreSQL's (every postgres process's, from
# /proc: keep other work off the database meanwhile). Each run starts on a fresh database with
# the demo. On a 2-core machine a second process adds no cores: the figure shows what the
# division of work costs, not a speed-up.
# Usage: bash bench/processes.sh [N] [C]   (PostgreSQL at 127.0.0.1:5432, trust auth)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3000}
c=${2:-16}
cargo build --release -q -p yingji
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/yingji
work=$(mktemp -d)
admin=postgres://postgres@127.0.0.1:5432/postgres
db=yingji_bench_processes
trap 'kill $(jobs -p) 2>/dev/null || true; psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; rm -rf "$work"' EXIT
export YINGJI_DATA_KEY=5a1e0c3b7d9f2a4c6e8b0d1f3a5c7e9b1d3f5a7c9e0b2d4f6a8c0e2b4d6f8a0c
export YINGJI_PUBLIC_URL=http://yingji.bench.test
export RUST_LOG=warn

cat > "$work/send.py" <<'PY'
import http.client, json, sys, threading
ports, n, c = [int(p) for p in sys.argv[1].split(",")], int(sys.argv[2]), int(sys.argv[3])
H = {"Authorization": "Bearer demo-duty-officer", "Content-Type": "application/json"}
conn = http.client.HTTPConnection("127.0.0.1", ports[0])
conn.request("GET", "/api/v1/me", headers=H)
jid = json.loads(conn.getresponse().read())["jurisdiction"]["id"]
left, lock, bad = [n], threading.Lock(), []
def work(k):
    h = http.client.HTTPConnection("127.0.0.1", ports[k % len(ports)])
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

# CPU seconds (user + system) of the given processes.
cpu_of() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0; done | awk -v hz="$(getconf CLK_TCK)" '{s += $1} END {print s / hz}'; }
pg_pids() { pgrep -x postgres || pgrep -f "postgres:" || true; }

for procs in 1 2; do
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  url=${admin%/*}/$db
  pids=(); ports=()
  for i in $(seq 1 "$procs"); do
    port=$((18500 + i))
    "$bin" serve --database-url "$url" --listen "127.0.0.1:$port" --data "$work/d$i" --tick-seconds 5 >/dev/null 2>"$work/s$i.log" &
    pids+=($!); ports+=("$port")
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  done
  sleep 2
  ys=$(cpu_of "${pids[@]}"); ps0=$(cpu_of $(pg_pids)); t0=$(date +%s.%N)
  python3 "$work/send.py" "$(IFS=,; echo "${ports[*]}")" "$n" "$c"
  t1=$(date +%s.%N); ye=$(cpu_of "${pids[@]}"); pe=$(cpu_of $(pg_pids))
  awk -v p="$procs" -v n="$n" -v c="$c" -v t="$(echo "$t1 - $t0" | bc)" -v y="$(echo "$ye - $ys" | bc)" -v g="$(echo "$pe - $ps0" | bc)" \
    'BEGIN { printf "%d process(es), %d reports, %d clients: %.0f reports/s; CPU per report: yingji %.0f µs, PostgreSQL %.0f µs\n", p, n, c, n / t, y / n * 1e6, g / n * 1e6 }'
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
done
