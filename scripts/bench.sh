#!/usr/bin/env bash
# Benchmark: messages through the running pipeline, beside raw Kafka produce/consume.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure.sh
node bench/eval-sentiment.mjs
echo
exec node bench/pipeline.mjs "$@"
