#!/usr/bin/env bash
# npm run bench:rollout: rollouts on the test cluster (docs/benchmarks.md, "Rollouts on the test cluster").
# The test cluster is a singleton: like the e2e runs, take the e2e lock (CDK_E2E_LOCK, default /work/e2e.lock),
# replace the running cluster by one built from this checkout (down; the global setup runs up), then run.
# Needs root (bridge, network namespaces). BENCH_COPY_SCALE (default 100) speeds the simulated copies up.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
lock="${CDK_E2E_LOCK:-/work/e2e.lock}"
exec 9>"$lock"
echo "bench:rollout: waiting for the e2e lock $lock..." >&2
flock 9
echo "bench:rollout: got the lock at $(date +%T)" >&2
test/cluster/down >/dev/null 2>&1 || true
exec npx vitest run --config bench/rollout.config.ts "$@"
