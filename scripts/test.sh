#!/usr/bin/env bash
# One command to test: unit, integration (real Kafka, PostgreSQL, Redis) and
# end-to-end (the six services as processes). Installs and starts what it needs.
#
# Tests get infrastructure of their own, fresh on every run, so they never see
# (or disturb) what `npm start` runs: a second Kafka broker on 127.0.0.1:19092
# with its data in deploy/local/.data/test, Redis database 1, and the
# PostgreSQL database support_test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh  # Node 24 (.nvmrc), fetched from the npm registry where the machine has an older one
bash scripts/ensure.sh --no-infra
bash scripts/ensure-browser.sh

export KAFKA_PORT="${TEST_KAFKA_PORT:-19092}" KAFKA_CONTROLLER_PORT="${TEST_KAFKA_CONTROLLER_PORT:-19093}"
export INFRA_DATA_DIR="$PWD/deploy/local/.data/test" PGDATABASE=support_test
export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
export REDIS_URL="redis://127.0.0.1:6379/${TEST_REDIS_DB:-1}"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$PGDATABASE"
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
# Jest loads ES-module-only packages (the Kafka client) with require(esm), which it supports on
# Node 24.9+ with the VM modules flag.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--experimental-vm-modules --disable-warning=ExperimentalWarning"

echo "==> fresh test infrastructure (Kafka $KAFKA_BROKERS, $REDIS_URL, $DATABASE_URL)"
bash deploy/local/infra.sh reset
bash deploy/local/infra.sh up
redis-cli -u "$REDIS_URL" flushdb >/dev/null
trap 'bash deploy/local/infra.sh down >/dev/null 2>&1 || true' EXIT

node scripts/check-graph.mjs
log="$(mktemp)"
status=0
{
  # Unit and integration tests of every library and service, one project at a time (two cores).
  npx nx run-many -t test --parallel=1 --excludeTaskDependencies --outputStyle=stream --exclude=e2e &&
  # End to end: all six services as separate processes.
  npx nx run e2e:test --excludeTaskDependencies --outputStyle=stream
} 2>&1 | tee "$log" || status=1
# One closing line over every project's Jest summary.
sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '/Tests:/ {
    for (i = 1; i <= NF; i++) {
      if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^skipped/) s += $i
    }
  } END { printf "%d passed, %d failed, %d skipped\n", p, f, s }'
rm -f "$log"
exit "$status"
