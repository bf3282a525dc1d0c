#!/usr/bin/env bash
# Property-based API testing: schemathesis generates requests from /api/v1/openapi.json of a
# running demo server and fails on any 5xx answer, on any answer whose body does not match the
# schema the document gives its status (response_schema_conformance), and on any status the
# document does not list for the operation (status_code_conformance). Operations on one record
# use the demo's own identifiers (see .ci/schemathesis.toml), so they answer with real records.
# Bounded: ST_MAX_EXAMPLES per operation and ST_SECONDS in all.
# Usage: .ci/schemathesis.sh path/to/yingji
set -euo pipefail
bin="${1:?the yingji binary}"
venv="${ST_VENV:-$(dirname "$0")/.venv}"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis
fi
venv="$(cd "$venv" && pwd)"
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$bin" serve --data "$data" --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
# The demo's identifiers, for the operations on one record.
ids="$(python3 - "http://127.0.0.1:$port/api/v1" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer demo-province-admin"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
none = "00000000-0000-0000-0000-000000000000"
first = lambda items, key="id": items[0][key] if items else none
by_name = lambda items, name: next((i["id"] for i in items if i["name"] == name), none)
incidents = get("/incidents")["items"]
active = [i for i in incidents if i["status"] == "active"]
ended = [i for i in incidents if i["status"] == "ended"]
incident = first(active or incidents)
ended_incident = first(ended or incidents)
obligations = get(f"/incidents/{ended_incident}")["obligations"] if ended_incident != none else []
disputes = get("/disputes")["items"]
jurisdictions = get("/jurisdictions")["items"]
people = get("/people")["items"]
out = {
    "ST_INCIDENT": incident,
    "ST_ENDED_INCIDENT": ended_incident,
    "ST_OBLIGATION": first(obligations),
    "ST_TASK": first(get("/tasks?state=open")["items"]),
    "ST_CASE": first(get("/cases")["items"]),
    "ST_DISPUTE": first(disputes),
    "ST_ROUND": first(disputes, "round_id") if disputes and disputes[0].get("round_id") else none,
    "ST_COUNTY": by_name(jurisdictions, "临溪市"),
    "ST_TOWN": by_name(jurisdictions, "青石镇"),
    "ST_PERSON": by_name(people, "王晓明"),
    "ST_PLAN": "linxiang-city-mass-petition",
    "ST_CALL": first(get(f"/incidents/{incident}/calls")["items"]) if incident != none else none,
    "ST_DELIVERY": first(get("/deliveries")["items"]),
}
for k, v in out.items():
    print(f"export {k}={v}")
PY
)"
eval "$ids"
echo "$ids"
status=0
set -o pipefail
# Run inside the temporary directory, so that schemathesis's caches go with it.
config="$(cd "$(dirname "$0")" && pwd)/schemathesis.toml"
(cd "$data" && timeout "${ST_SECONDS:-240}" "$venv/bin/st" --config-file "$config" \
  run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer demo-province-admin" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance \
  --max-examples "${ST_MAX_EXAMPLES:-25}" \
  --request-timeout 10 \
  --generation-deterministic \
  --workers 2) 2>&1 | tee "$data/st.log" || status=$?
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
