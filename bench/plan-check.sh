#!/usr/bin/env bash
# Wall time of `yingji plan check examples/plans`, process start included, over repeated runs.
# Usage: bash bench/plan-check.sh [RUNS]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
cargo build --release -q -p yingji
bin=target/release/yingji
"$bin" plan check examples/plans >/dev/null
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine -N --warmup 5 --runs "$runs" "$bin plan check examples/plans"
else
  python3 - "$bin" "$runs" <<'PY'
import subprocess, sys, time, statistics
bin, runs = sys.argv[1], int(sys.argv[2])
ts = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run([bin, "plan", "check", "examples/plans"], stdout=subprocess.DEVNULL, check=True)
    ts.append((time.perf_counter() - t) * 1000)
ts.sort()
print(f"plan check examples/plans over {runs} runs: median {statistics.median(ts):.2f} ms, "
      f"p90 {ts[int(len(ts)*0.9)-1]:.2f} ms, max {ts[-1]:.2f} ms")
PY
fi
