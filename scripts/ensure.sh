#!/usr/bin/env bash
# Shared by `npm start`, `npm test` and `npm run bench`: installs what is missing
# (npm dependencies, the sentence encoder's model, generated contracts, the build) and, unless --no-infra,
# brings up the local infrastructure (Kafka from Maven jars, PostgreSQL, Redis).
# Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh  # Node 24 (.nvmrc), fetched from the npm registry where the machine has an older one

if [ ! -d node_modules/.bin ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm dependencies"
  # npm install, not npm ci, on a developer's machine: the lock is complete for linux-x64 (CI
  # and the Docker image install it with npm ci), but the registry these machines reach lacks
  # some other platforms' optional binaries (e.g. buf for darwin), so elsewhere npm ci refuses it.
  # onnxruntime-node's install script only downloads GPU (CUDA) libraries, which the CPU encoder
  # does not use: skipped here for npm versions that run install scripts (package.json's
  # allowScripts denies it to those that ask).
  ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
fi
# The sentence encoder's model (libs/encoder) from Maven Central, once; quiet when cached.
bash deploy/local/models/fetch.sh
echo "==> generating contracts and building"
npm run --silent build
if [ "${1:-}" != "--no-infra" ]; then
  echo "==> local infrastructure"
  bash deploy/local/infra.sh up
fi
