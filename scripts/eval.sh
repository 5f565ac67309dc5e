#!/usr/bin/env bash
# Quality of the AI parts: the sentiment scorer on VADER's ground truth and TweetEval, its emotion
# heads on GoEmotions test (frustration, Ekman's classes, the decider's frustration thresholds), the
# intent classifier engine on CLINC150 and Banking77, the escalation decider's detection of a request
# for a person on the Bitext customer-support dev split (from
# ../shared/data, skipped with a message when absent), then the AI responder on the questions
# written for the demo knowledge base (reliability table, safe threshold) and the support intent
# classifier on its held-out set. `-- --write` refits the shipped confidence model.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh  # Node 24 (.nvmrc), fetched from the npm registry where the machine has an older one
bash scripts/ensure.sh --no-infra
echo "==> sentiment scorer on public data sets"
node bench/eval-sentiment.mjs
echo
echo "==> sentiment scorer's emotion heads on GoEmotions test"
node bench/eval-emotions.mjs
echo
echo "==> intent classifier engine on public data sets"
node bench/eval-intents.mjs
echo
echo "==> escalation decider: an explicit request for a person, on the Bitext dev split"
node bench/eval-human-request.mjs
echo
echo "==> AI responder on the demo knowledge base (PostgreSQL: \${EVAL_DATABASE_URL:-support_eval})"
node services/ai-responder/dist/eval/calibrate.js "$@"
