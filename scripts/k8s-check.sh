#!/usr/bin/env bash
# Renders the Kubernetes manifests (deploy/k8s) from the code's topic catalogue and service list,
# validates every object against the Kubernetes, Strimzi and KEDA schemas (the typed models of
# kubernetes-models and @kubernetes-models/*, from the npm registry; nothing else to install)
# and checks that every topic and service has its manifests. Exits 1 naming each problem.
# The Jest tests of deploy/k8s (run by `npm test`) check the same and more.
#   bash scripts/k8s-check.sh [OUT_DIR] [--values FILE]   # OUT_DIR: where the YAML goes (default: a temp dir)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh # Node 24 (.nvmrc)

out="$(mktemp -d)/k8s"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  out="$1"
  shift
fi

if [ ! -d node_modules/kubernetes-models ] || [ ! -d node_modules/@kubernetes-models/keda ]; then
  echo "==> installing npm dependencies (the Kubernetes models)"
  ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
fi
# The generator reads the topic catalogue from @support/bus (libs/bus/dist).
if [ ! -f libs/bus/dist/index.js ] || [ ! -f libs/contracts/dist/index.js ]; then
  echo "==> building the libraries"
  npm run --silent build
fi

echo "==> k8s: compiling the generator and type-checking its tests"
npx tsc -p deploy/k8s/tsconfig.json
npx tsc -p deploy/k8s/tsconfig.spec.json

echo "==> k8s: rendering and validating into $out"
node deploy/k8s/dist/main.js --out "$out" "$@"
