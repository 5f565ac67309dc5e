#!/usr/bin/env bash
# Benchmark: the sentiment figures, the sentence encoder, the responder's and scorer's handling
# time per message, the metrics read model over a million
# events (rebuild and queries) beside raw Kafka produce/consume, then messages through the
# running pipeline, beside raw Kafka produce/consume.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh  # Node 24 (.nvmrc), fetched from the npm registry where the machine has an older one
bash scripts/ensure.sh
node bench/eval-sentiment.mjs
echo
# The sentence encoder the project runs: quality, encode time per message, load time, memory
# (`node bench/encoders.mjs` compares every candidate model).
node bench/encoders.mjs --project
echo
# The AI responder's and the sentiment scorer's own work per message, beside the encoder alone.
node bench/handling.mjs
echo
# The metrics read model at scale (METRICS_BENCH_EVENTS, default a million), on a Kafka broker and
# a PostgreSQL database of its own, wiped first, so the log the system runs on is never touched.
(
  export KAFKA_PORT=9392 KAFKA_CONTROLLER_PORT=9393 PGDATABASE=support_bench
  export INFRA_DATA_DIR="$PWD/deploy/local/.data/bench"
  bash deploy/local/infra.sh reset >/dev/null
  bash deploy/local/infra.sh up >/dev/null
  trap 'bash deploy/local/infra.sh down >/dev/null 2>&1 || true' EXIT
  KAFKA_BROKERS=127.0.0.1:9392 DATABASE_URL=postgres://postgres@127.0.0.1:5432/support_bench \
    node bench/metrics.mjs
)
echo
# Each service alone catching up with a log it has never read (CATCH_UP_EVENTS synthetic events,
# default 20,000), beside a raw consume of the same log: events/s, CPU per event, RSS. On a broker
# of its own, started empty; Redis database 6 is flushed and the database support_bench_catchup
# dropped first.
(
  export KAFKA_PORT=9392 KAFKA_CONTROLLER_PORT=9393 PGDATABASE=support_bench_catchup
  export INFRA_DATA_DIR="$PWD/deploy/local/.data/bench"
  bash deploy/local/infra.sh reset >/dev/null
  bash deploy/local/infra.sh up >/dev/null
  trap 'bash deploy/local/infra.sh down >/dev/null 2>&1 || true' EXIT
  KAFKA_BROKERS=127.0.0.1:9392 REDIS_URL=redis://127.0.0.1:6379/6 \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/support_bench_catchup \
    node bench/catch-up.mjs
)
echo
# The Kafka clients the stream runtime may stand on, raw, on the broker the pipeline runs on.
node bench/kafka-clients.mjs
echo
# One exactly-once commit (records and offsets in a Kafka transaction) beside a plain produce and
# offset commit, on the same broker.
node bench/transactions.mjs
echo
# A partition's conversations handled side by side (the log consumers' keyed lanes) against one
# record at a time, when handlers wait on I/O.
node bench/keyed-lanes.mjs
echo
# A service killed with SIGKILL and started again: static against dynamic group membership.
node bench/failover.mjs
echo
exec node bench/pipeline.mjs "$@"
