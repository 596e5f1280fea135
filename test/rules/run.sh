#!/usr/bin/env bash
# npm run test:rules: promtool (Debian's `prometheus` package) checks both rule files of manifests/monitoring/ -
# the plain rules file and the PrometheusRule's spec - and runs the alert unit tests in test/rules/*.test.yaml.
# Fails (never skips) when promtool is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v promtool >/dev/null || { echo "error: promtool not found: install Debian's prometheus package (apt-get install prometheus)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The PrometheusRule's spec is a rules file; promtool reads it once taken out of the custom resource.
node -e '
  const { parse, stringify } = require("yaml");
  const fs = require("fs");
  const doc = parse(fs.readFileSync(process.argv[1], "utf8"));
  if (doc.kind !== "PrometheusRule" || !doc.spec) { console.error("not a PrometheusRule: " + process.argv[1]); process.exit(1); }
  fs.writeFileSync(process.argv[2], stringify(doc.spec));
' manifests/monitoring/prometheusrule.yaml "$tmp/prometheusrule-spec.yaml"
promtool check rules manifests/monitoring/rules.yaml "$tmp/prometheusrule-spec.yaml"
cmp -s <(node -e 'const {parse}=require("yaml");const fs=require("fs");console.log(JSON.stringify(parse(fs.readFileSync(process.argv[1],"utf8"))))' manifests/monitoring/rules.yaml) \
       <(node -e 'const {parse}=require("yaml");const fs=require("fs");console.log(JSON.stringify(parse(fs.readFileSync(process.argv[1],"utf8"))))' "$tmp/prometheusrule-spec.yaml") \
  || { echo "error: manifests/monitoring/rules.yaml and the PrometheusRule's spec differ (npm run manifests)" >&2; exit 1; }
cd test/rules
promtool test rules ./*.test.yaml
