#!/usr/bin/env bash
# Loads the runner image (dist/lib/runner.mjs + Node) into the cluster's state when it has been built.
set -euo pipefail
if [[ -s "$REPO/dist/lib/runner.mjs" ]]; then
  "$REPO/test/cluster/load-runner-image"
else
  echo "runner image not loaded: dist/lib/runner.mjs missing (npm run build, then test/cluster/load-runner-image)"
fi
