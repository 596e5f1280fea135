#!/usr/bin/env bash
# Loads the runner image (dist/runner.mjs + Node) into the cluster's state when it has been built.
set -euo pipefail
if [[ -s "$REPO/dist/runner.mjs" ]]; then
  "$REPO/test/cluster/load-runner-image"
else
  echo "runner image not loaded: dist/runner.mjs missing (npm run build, then test/cluster/load-runner-image)"
fi
