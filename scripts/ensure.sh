#!/usr/bin/env bash
# Shared by `npm start`, `npm test` and `npm run bench`: installs what is missing
# (npm dependencies, generated contracts, the build) and, unless --no-infra,
# brings up the local infrastructure (Kafka from Maven jars, PostgreSQL, Redis).
# Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -d node_modules/.bin ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm dependencies"
  npm ci --no-audit --no-fund
fi
echo "==> generating contracts and building"
npm run --silent build
if [ "${1:-}" != "--no-infra" ]; then
  echo "==> local infrastructure"
  bash deploy/local/infra.sh up
fi
