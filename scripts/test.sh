#!/usr/bin/env bash
# One command to test: unit, integration (real Kafka, PostgreSQL, Redis) and
# end-to-end (the six services as processes). Installs and starts what it needs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure.sh
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
# Unit and integration tests of every library and service, one project at a time (two cores).
npx nx run-many -t test --parallel=1 --excludeTaskDependencies --outputStyle=stream --exclude=e2e
# End to end: all six services as separate processes.
npx nx run e2e:test --excludeTaskDependencies --outputStyle=stream
