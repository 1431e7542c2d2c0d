#!/usr/bin/env bash
# Regenerates every generated file from its source of truth: each workspace package's "generate" script
# (for example JSON Schemas -> TypeScript types and CRD YAML), then formats the output.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm_bin="${PNPM:-pnpm}"
"$pnpm_bin" -r --if-present run generate
