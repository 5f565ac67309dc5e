#!/usr/bin/env bash
# One command to run the whole system locally: infrastructure, every service, demo data.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh  # Node 24 (.nvmrc), fetched from the npm registry where the machine has an older one
bash scripts/ensure.sh
exec node scripts/run-all.mjs
