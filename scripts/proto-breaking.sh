#!/usr/bin/env bash
# Checks proto/ for breaking changes against the main branch (skipped when main has no proto/ yet).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh  # Node 24 (.nvmrc), fetched from the npm registry where the machine has an older one
base="${PROTO_BASE:-main}"
if ! git rev-parse --verify --quiet "$base" >/dev/null || ! git cat-file -e "$base:proto/buf.yaml" 2>/dev/null; then
  echo "no proto/ on $base yet: nothing to compare against"
  exit 0
fi
npx buf breaking proto --against ".git#branch=$base,subdir=proto"
echo "no breaking changes against $base"
