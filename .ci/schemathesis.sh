#!/usr/bin/env bash
# Property-based API testing: schemathesis generates requests from /api/v1/openapi.json of a
# running demo server and fails on any 5xx answer. Bounded: ST_MAX_EXAMPLES per operation and
# ST_SECONDS in all. Usage: .ci/schemathesis.sh path/to/yingji
set -euo pipefail
bin="${1:?the yingji binary}"
venv="${ST_VENV:-$(dirname "$0")/.venv}"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis
fi
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$bin" serve --data "$data" --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
status=0
set -o pipefail
timeout "${ST_SECONDS:-240}" "$venv/bin/st" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer demo-province-admin" \
  --checks not_a_server_error \
  --max-examples "${ST_MAX_EXAMPLES:-25}" \
  --request-timeout 10 \
  --generation-deterministic \
  --workers 2 2>&1 | tee "$data/st.log" || status=$?
if [ "$status" -eq 124 ]; then
  echo "schemathesis: time budget reached"; status=0
fi
# Fail on what the server did (a check failure such as a 5xx); schemathesis's own internal
# errors (it exits 1 for those too) are reported but do not fail the run.
if grep -q "^Failures:" "$data/st.log"; then
  status=1
elif [ "$status" -ne 0 ] && grep -q "Runtime Error" "$data/st.log"; then
  echo "schemathesis: internal runtime error in the generator (not a server failure); see above"; status=0
fi
if grep -q "panicked" "$data/server.log"; then
  echo "the server panicked:"; grep -A5 panicked "$data/server.log"; status=1
fi
exit "$status"
