#!/usr/bin/env bash
# One command to run the whole system locally: infrastructure, every service, demo data.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure.sh
exec node scripts/run-all.mjs
