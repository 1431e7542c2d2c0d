#!/usr/bin/env bash
# Fails when a generated file differs from what `make generate` writes (run in CI through `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."
hack/generate.sh
# Generated paths: anything under a src/generated folder, the chart's CRDs, NATS permissions and README (its values
# table), the Grafana dashboard.
paths=()
while IFS= read -r dir; do paths+=("$dir"); done < <(find . -path ./node_modules -prune -o \
  \( -type d -name generated -path '*/src/generated' -print \) ; [ -d deploy/charts/kubeplus/crds ] && echo deploy/charts/kubeplus/crds; [ -f deploy/charts/kubeplus/files/nats-permissions.json ] && echo deploy/charts/kubeplus/files/nats-permissions.json; [ -f deploy/charts/kubeplus/README.md ] && echo deploy/charts/kubeplus/README.md; [ -f deploy/grafana/kubeplus-dashboard.json ] && echo deploy/grafana/kubeplus-dashboard.json)
if [ "${#paths[@]}" -eq 0 ]; then
  echo "[verify-generated] no generated files in the workspace yet"
  exit 0
fi
if ! git diff --exit-code --stat -- "${paths[@]}" || [ -n "$(git ls-files --others --exclude-standard -- "${paths[@]}")" ]; then
  echo "[verify-generated] generated files are out of date: run 'make generate' and commit the result" >&2
  git ls-files --others --exclude-standard -- "${paths[@]}" >&2
  exit 1
fi
echo "[verify-generated] ${#paths[@]} generated location(s) up to date"
