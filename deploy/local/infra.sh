#!/usr/bin/env bash
# Local infrastructure without Docker: Kafka (KRaft, from Maven jars; one node, or a cluster of
# several), plus checks for the already-installed PostgreSQL and Redis.
#
# Usage: deploy/local/infra.sh {up|down|status|reset|brokers|pid N|start-broker N|stop-broker N|
#                               kill-broker N|help} [--brokers N]
#
#   up      ensure PostgreSQL + Redis answer (start them if not), create the database
#           ${PGDATABASE:-support} if missing, download Kafka jars (once), format KRaft
#           storage (once) and start the broker(s) in the background. Idempotent.
#   down    stop the Kafka broker(s) (SIGTERM, up to 30s, then SIGKILL). PG/Redis untouched.
#   status  one line per component (kafka, or kafka-N per broker / postgres / redis). Exit 1 if
#           any is down.
#   reset   stop Kafka, wipe its data dir(s), drop + recreate the PostgreSQL database.
#           Kafka is left stopped; run `up` afterwards.
#   brokers print the bootstrap list (host:port,host:port,...), e.g. for KAFKA_BROKERS.
#   pid N   print the pid of broker N (1-based); exit 1 if it is not running.
#   start-broker N  start broker N again (after a crash or kill-broker) and wait until it is ready.
#   stop-broker N   stop broker N gracefully (SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT).
#   kill-broker N   SIGKILL broker N (a crash, for failover tests).
#
# A cluster: `up --brokers 3` (or KAFKA_CLUSTER_SIZE=3) starts three processes, each broker and
# controller (a combined KRaft quorum of all of them) with a shared cluster id: broker N listens on
# KAFKA_PORT+N-1 and its controller on KAFKA_CONTROLLER_PORT+N-1 (default, in a cluster:
# KAFKA_PORT+size, so 9092-9094 and 9095-9097), its data in $INFRA_DATA_DIR/broker-N/. Internal
# topics get replication factor min(size, 3) and, with three brokers or more, min.insync.replicas 2
# (the broker default too). The size is remembered in the data dir: later commands
# (down/status/reset/pid...) need no flag. One broker (the default) is laid out as before.
#
# Environment overrides:
#   KAFKA_PORT (9092)  KAFKA_CONTROLLER_PORT (9093)  KAFKA_HEAP (512m -> -Xmx512m, or full JVM flags
#   such as "-Xms256m -Xmx1g")  KAFKA_OPTS (extra JVM flags)  KAFKA_START_TIMEOUT (120s)
#   KAFKA_STOP_TIMEOUT (30s)  PGDATABASE (support)  INFRA_DATA_DIR (deploy/local/.data; a second
#   broker, e.g. the tests', needs its own together with its own ports)  KAFKA_CLUSTER_SIZE (1)
#
# Files (all git-ignored):
#   deploy/local/.cache/kafka-libs/   jars from kafka/pom.xml (+ .pom.sha256 stamp)
#   deploy/local/.cache/kafka-tools/  compiled readiness probe (kafka/KafkaReady.java)
#   deploy/local/.data/kafka/         KRaft metadata + topic data (wiped by `reset`)
#   deploy/local/.data/config/        generated server.properties + logging config
#   deploy/local/.data/kafka.log      broker log (log4j, rotated at 20MB x 3)
#   deploy/local/.data/kafka.out      JVM stdout/stderr (crashes, early startup errors)
#   deploy/local/.data/kafka.pid      broker pid
#   deploy/local/.data/broker-N/      a cluster's broker N: the same files (kafka/, config/,
#                                     kafka.log, kafka.out, kafka.pid) for each broker
#   deploy/local/.data/cluster.size   a cluster's size; cluster.id its shared KRaft cluster id
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly KAFKA_POM="$SCRIPT_DIR/kafka/pom.xml"
readonly READY_SRC="$SCRIPT_DIR/kafka/KafkaReady.java"
readonly CACHE_DIR="$SCRIPT_DIR/.cache"
readonly LIBS_DIR="$CACHE_DIR/kafka-libs"
readonly LIBS_STAMP="$LIBS_DIR/.pom.sha256"
readonly TOOLS_DIR="$CACHE_DIR/kafka-tools"
readonly TOOLS_STAMP="$TOOLS_DIR/.stamp"
readonly DATA_DIR="${INFRA_DATA_DIR:-$SCRIPT_DIR/.data}"
readonly CLUSTER_SIZE_FILE="$DATA_DIR/cluster.size"
readonly CLUSTER_ID_FILE="$DATA_DIR/cluster.id"

readonly KAFKA_HOST="127.0.0.1"
readonly KAFKA_BASE_PORT="${KAFKA_PORT:-9092}"
readonly KAFKA_CONTROLLER_PORT_SET="${KAFKA_CONTROLLER_PORT:-}"
readonly KAFKA_HEAP="${KAFKA_HEAP:-512m}"
readonly KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
readonly KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

# The cluster's size (set by resolve_cluster_size) and the broker the functions below act on (set
# by select_node): its node id, ports, and files. One broker keeps the original single-node layout.
CLUSTER_SIZE=1
CONTROLLER_BASE_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
NODE_ID=1
NODE_DIR="$DATA_DIR"
KAFKA_DATA_DIR="$DATA_DIR/kafka"
KAFKA_LOG_DIRS="$KAFKA_DATA_DIR/kraft-combined-logs"
CONFIG_DIR="$DATA_DIR/config"
SERVER_PROPERTIES="$CONFIG_DIR/server.properties"
PID_FILE="$DATA_DIR/kafka.pid"
KAFKA_LOG="$DATA_DIR/kafka.log"
KAFKA_OUT="$DATA_DIR/kafka.out"
KAFKA_PORT="$KAFKA_BASE_PORT"
KAFKA_CONTROLLER_PORT="$CONTROLLER_BASE_PORT"
KAFKA_BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

readonly PG_HOST="127.0.0.1"
readonly PG_PORT="5432"
readonly PG_USER="postgres"
readonly PG_DB="${PGDATABASE:-support}"
readonly REDIS_HOST="127.0.0.1"
readonly REDIS_PORT="6379"

log() { printf '[infra] %s\n' "$*"; }
warn() { printf '[infra] WARN: %s\n' "$*" >&2; }
die() {
  printf '[infra] ERROR: %s\n' "$*" >&2
  exit 1
}

require_cmd() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || die "required command '$cmd' not found in PATH"
  done
}

# --------------------------------------------------------------------------- helpers

# True if something accepts TCP connections on host:port.
port_open() {
  # shellcheck disable=SC2016 # $1/$2 are expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

file_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# The number of brokers: --brokers N, else KAFKA_CLUSTER_SIZE, else what the data dir was started
# as (cluster.size), else 1. A data dir holds one size: another one needs `reset` first.
resolve_cluster_size() {
  local flag="${1:-}" saved="" size
  [[ -f "$CLUSTER_SIZE_FILE" ]] && saved="$(cat "$CLUSTER_SIZE_FILE" 2>/dev/null || true)"
  size="${flag:-${KAFKA_CLUSTER_SIZE:-${saved:-1}}}"
  [[ "$size" =~ ^[1-9][0-9]*$ ]] || die "cluster size must be a positive integer, got '$size'"
  if [[ -n "$saved" && "$saved" != "$size" ]]; then
    die "${DATA_DIR#"$SCRIPT_DIR/"} holds a cluster of $saved brokers, not $size: run 'reset' first or use another INFRA_DATA_DIR"
  fi
  CLUSTER_SIZE="$size"
  if ((CLUSTER_SIZE > 1)); then
    # Broker ports KAFKA_PORT.., controller ports right after them unless set.
    CONTROLLER_BASE_PORT="${KAFKA_CONTROLLER_PORT_SET:-$((KAFKA_BASE_PORT + CLUSTER_SIZE))}"
    if ((CONTROLLER_BASE_PORT < KAFKA_BASE_PORT + CLUSTER_SIZE &&
      KAFKA_BASE_PORT < CONTROLLER_BASE_PORT + CLUSTER_SIZE)); then
      die "broker ports $KAFKA_BASE_PORT-$((KAFKA_BASE_PORT + CLUSTER_SIZE - 1)) and controller ports $CONTROLLER_BASE_PORT-$((CONTROLLER_BASE_PORT + CLUSTER_SIZE - 1)) overlap: set KAFKA_CONTROLLER_PORT to at least $((KAFKA_BASE_PORT + CLUSTER_SIZE)), or leave it unset"
    fi
  fi
  select_node 1
}

# Points the Kafka functions at broker n (1-based) of the cluster.
select_node() {
  local n="$1"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] && ((n <= CLUSTER_SIZE)) ||
    die "no broker '$n' in a cluster of $CLUSTER_SIZE (brokers are numbered 1..$CLUSTER_SIZE)"
  NODE_ID="$n"
  if ((CLUSTER_SIZE == 1)); then
    NODE_DIR="$DATA_DIR"
  else
    NODE_DIR="$DATA_DIR/broker-$n"
  fi
  KAFKA_DATA_DIR="$NODE_DIR/kafka"
  KAFKA_LOG_DIRS="$KAFKA_DATA_DIR/kraft-combined-logs"
  CONFIG_DIR="$NODE_DIR/config"
  SERVER_PROPERTIES="$CONFIG_DIR/server.properties"
  PID_FILE="$NODE_DIR/kafka.pid"
  KAFKA_LOG="$NODE_DIR/kafka.log"
  KAFKA_OUT="$NODE_DIR/kafka.out"
  KAFKA_PORT=$((KAFKA_BASE_PORT + n - 1))
  KAFKA_CONTROLLER_PORT=$((CONTROLLER_BASE_PORT + n - 1))
  KAFKA_BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"
}

# host:port of every broker, comma-separated.
bootstrap_list() {
  local i list=""
  for ((i = 0; i < CLUSTER_SIZE; i++)); do
    list+="${list:+,}$KAFKA_HOST:$((KAFKA_BASE_PORT + i))"
  done
  printf '%s\n' "$list"
}

# "kafka" for a single broker, "kafka-N" for broker N of a cluster (logs and status lines).
node_label() {
  if ((CLUSTER_SIZE == 1)); then printf 'kafka\n'; else printf 'kafka-%s\n' "$NODE_ID"; fi
}

# Pid of the broker started from this checkout: from the pid file if that process is alive
# and really is kafka.Kafka, else (pid file lost) by its unique server.properties path.
kafka_pid() {
  local pid=""
  [[ -f "$PID_FILE" ]] && pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; then
    printf '%s\n' "$pid"
    return 0
  fi
  pid="$(pgrep -f -- "kafka\.Kafka $SERVER_PROPERTIES" 2>/dev/null | head -n 1 || true)"
  [[ -n "$pid" ]] || return 1
  printf '%s\n' "$pid"
}

kafka_version() {
  local jar
  for jar in "$LIBS_DIR"/kafka_2.13-*.jar; do
    [[ -e "$jar" ]] || return 1
    jar="${jar##*/kafka_2.13-}"
    printf '%s\n' "${jar%.jar}"
    return 0
  done
  return 1
}

heap_opts() {
  if [[ "$KAFKA_HEAP" == -* ]]; then
    printf '%s\n' "$KAFKA_HEAP"
  else
    printf '%s\n' "-Xmx$KAFKA_HEAP"
  fi
}

# ------------------------------------------------------------------ PostgreSQL / Redis

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }

# Run SQL from stdin against the maintenance DB; `-v db=...` allows :"db" / :'db' quoting.
pg_sql() {
  psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres \
    -v db="$PG_DB" -tA
}

pg_db_exists() {
  [[ "$(printf "SELECT 1 FROM pg_database WHERE datname = :'db';\n" | pg_sql)" == "1" ]]
}

ensure_postgres() {
  require_cmd pg_isready psql
  if pg_ready; then
    log "postgres: up on $PG_HOST:$PG_PORT"
  else
    require_cmd pg_ctlcluster
    local version
    # shellcheck disable=SC2012 # plain directory names, one per installed major version
    version="$(ls /etc/postgresql)"
    log "postgres: not answering on $PG_HOST:$PG_PORT, starting cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    local i
    for ((i = 0; i < 30; i++)); do
      pg_ready && break
      sleep 1
    done
    pg_ready || die "postgres did not become ready on $PG_HOST:$PG_PORT within 30s"
    log "postgres: started"
  fi
  if pg_db_exists; then
    log "postgres: database '$PG_DB' exists"
  else
    printf 'CREATE DATABASE :"db";\n' | pg_sql
    log "postgres: created database '$PG_DB'"
  fi
}

redis_ready() {
  [[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null || true)" == "PONG" ]]
}

ensure_redis() {
  require_cmd redis-cli
  if redis_ready; then
    log "redis: up on $REDIS_HOST:$REDIS_PORT"
    return 0
  fi
  require_cmd redis-server
  log "redis: not answering on $REDIS_HOST:$REDIS_PORT, starting redis-server"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  local i
  for ((i = 0; i < 20; i++)); do
    redis_ready && break
    sleep 0.5
  done
  redis_ready || die "redis did not become ready on $REDIS_HOST:$REDIS_PORT within 10s"
  log "redis: started"
}

# ----------------------------------------------------------------------------- Kafka

ensure_kafka_libs() {
  local want have=""
  want="$(file_sha256 "$KAFKA_POM")"
  [[ -f "$LIBS_STAMP" ]] && have="$(cat "$LIBS_STAMP")"
  if [[ "$want" == "$have" ]] && compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null; then
    return 0
  fi
  require_cmd mvn
  log "kafka: resolving jars from ${KAFKA_POM#"$SCRIPT_DIR/"} with Maven (first run only)..."
  local tmp="$LIBS_DIR.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$CACHE_DIR"
  local mvn_log="$CACHE_DIR/mvn.log"
  if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    rm -rf "$tmp"
    sed 's/\x1b\[[0-9;]*m//g' "$mvn_log" | grep -v '^[[:space:]]*$' | head -n 30 >&2 || true
    die "maven could not resolve the Kafka jars (full output: ${mvn_log#"$SCRIPT_DIR/"})"
  fi
  printf '%s\n' "$want" >"$tmp/.pom.sha256"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  log "kafka: $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars cached in ${LIBS_DIR#"$SCRIPT_DIR/"}"
}

# Compiles the tiny admin-client readiness probe once per (source, jar set).
ensure_ready_probe() {
  command -v javac >/dev/null 2>&1 || return 1
  local want have=""
  want="$(cat "$READY_SRC" "$LIBS_STAMP" | sha256sum | cut -d' ' -f1)"
  [[ -f "$TOOLS_STAMP" ]] && have="$(cat "$TOOLS_STAMP")"
  if [[ "$want" == "$have" && -f "$TOOLS_DIR/KafkaReady.class" ]]; then
    return 0
  fi
  rm -rf "$TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  javac -nowarn -d "$TOOLS_DIR" -cp "$LIBS_DIR/*" "$READY_SRC" || return 1
  printf '%s\n' "$want" >"$TOOLS_STAMP"
}

write_logging_config() {
  mkdir -p "$CONFIG_DIR"
  # Kafka 4.x: SLF4J -> Log4j 2 (log4j-slf4j-impl + log4j-core).
  cat >"$CONFIG_DIR/log4j2.properties" <<EOF
# Generated by deploy/local/infra.sh - do not edit.
status = error
name = local-kafka
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = $KAFKA_LOG
appender.file.filePattern = $KAFKA_LOG.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
EOF
  # Kafka 3.x fallback: SLF4J -> reload4j (slf4j-reload4j), only read if those jars are used.
  cat >"$CONFIG_DIR/log4j.properties" <<EOF
# Generated by deploy/local/infra.sh - do not edit.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$KAFKA_LOG
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
EOF
  # Command-line tools (readiness probe, StorageTool): quiet.
  cat >"$CONFIG_DIR/tools-log4j2.properties" <<'EOF'
status = error
name = local-kafka-tools
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m (%c)%n
rootLogger.level = ERROR
rootLogger.appenderRef.err.ref = STDERR
EOF
  cat >"$CONFIG_DIR/tools-log4j.properties" <<'EOF'
log4j.rootLogger=ERROR, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=%p %m (%c)%n
EOF
}

# One broker of the cluster (NODE_ID of CLUSTER_SIZE; a single broker is node 1 of 1): every node is
# broker and controller, the controllers form one quorum. Internal topics get up to three replicas,
# two in sync from three brokers on.
write_server_properties() {
  local version major i voters="" rf isr=1 node_id=1
  version="$(kafka_version)" || die "no kafka_2.13 jar in $LIBS_DIR"
  major="${version%%.*}"
  mkdir -p "$CONFIG_DIR"
  rf=$((CLUSTER_SIZE < 3 ? CLUSTER_SIZE : 3))
  ((CLUSTER_SIZE >= 3)) && isr=2
  if ((CLUSTER_SIZE > 1)); then
    node_id=$NODE_ID
    for ((i = 1; i <= CLUSTER_SIZE; i++)); do
      voters+="${voters:+,}$i@$KAFKA_HOST:$((CONTROLLER_BASE_PORT + i - 1))"
    done
  else
    voters="1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT"
  fi
  cat >"$SERVER_PROPERTIES" <<EOF
# Generated by deploy/local/infra.sh for Kafka $version - do not edit (rewritten on every start).
# Broker $node_id of a cluster of $CLUSTER_SIZE.
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_LOG_DIRS
num.partitions=3
default.replication.factor=$rf
min.insync.replicas=$isr
unclean.leader.election.enable=false
auto.create.topics.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=10
# A transaction a killed producer left open holds back every read-committed consumer of its
# partitions until the broker aborts it (the producer's 5 s timeout): looked for every second,
# not every 10 s (the default), so that a crash costs readers 5-6 s, not up to 15.
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.replica.fetchers=1
log.retention.hours=168
log.segment.bytes=104857600
EOF
  if ((major >= 4)); then
    cat >>"$SERVER_PROPERTIES" <<EOF
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
EOF
  fi
}

# Java invocation shared by the broker and the tools.
#   $1 = "broker" | "tool"
logging_opts() {
  if [[ "$1" == broker ]]; then
    printf '%s\n' "-Dlog4j2.configurationFile=$CONFIG_DIR/log4j2.properties" \
      "-Dlog4j.configuration=file:$CONFIG_DIR/log4j.properties" \
      "-Dkafka.logs.dir=$NODE_DIR"
  else
    printf '%s\n' "-Dlog4j2.configurationFile=$CONFIG_DIR/tools-log4j2.properties" \
      "-Dlog4j.configuration=file:$CONFIG_DIR/tools-log4j.properties"
  fi
}

format_storage_if_needed() {
  if [[ -f "$KAFKA_LOG_DIRS/meta.properties" ]]; then
    return 0
  fi
  local cluster_id
  # Kafka cluster ids are 16 random bytes, base64url without padding. One that starts with "-"
  # would be read as an option by kafka-storage's argument parser, so draw again.
  cluster_id="-"
  # The brokers of a cluster share one id, drawn for the first of them to be formatted.
  if ((CLUSTER_SIZE > 1)) && [[ -s "$CLUSTER_ID_FILE" ]]; then
    cluster_id="$(cat "$CLUSTER_ID_FILE")"
  fi
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  if ((CLUSTER_SIZE > 1)); then
    printf '%s\n' "$cluster_id" >"$CLUSTER_ID_FILE"
  fi
  log "kafka: formatting KRaft storage in ${KAFKA_LOG_DIRS#"$SCRIPT_DIR/"} (cluster id $cluster_id)"
  mkdir -p "$KAFKA_LOG_DIRS"
  local -a log_opts
  mapfile -t log_opts < <(logging_opts tool)
  java -Xmx256m "${log_opts[@]}" -cp "$LIBS_DIR/*" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$SERVER_PROPERTIES" >/dev/null ||
    die "kafka storage format failed"
}

# 0 = broker answers admin requests (or, without javac, logged "Kafka Server started").
kafka_ready() {
  port_open "$KAFKA_HOST" "$KAFKA_PORT" || return 1
  if [[ -f "$TOOLS_DIR/KafkaReady.class" ]]; then
    local -a log_opts
    mapfile -t log_opts < <(logging_opts tool)
    java -Xmx64m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${log_opts[@]}" \
      -cp "$TOOLS_DIR:$LIBS_DIR/*" KafkaReady "$KAFKA_BOOTSTRAP" 8000 2>/dev/null
  else
    grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null
  fi
}

start_kafka() {
  require_cmd java sha256sum timeout setsid
  ensure_kafka_libs
  ensure_ready_probe || warn "javac unavailable or probe failed to compile; readiness falls back to the broker log"
  mkdir -p "$DATA_DIR" "$NODE_DIR" "$KAFKA_DATA_DIR"
  write_logging_config
  write_server_properties
  format_storage_if_needed

  if port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; then
    die "controller port $KAFKA_HOST:$KAFKA_CONTROLLER_PORT is already in use by another process"
  fi

  local -a heap log_opts
  read -r -a heap <<<"$(heap_opts)"
  mapfile -t log_opts < <(logging_opts broker)
  local -a extra=()
  if [[ -n "${KAFKA_OPTS:-}" ]]; then
    read -r -a extra <<<"$KAFKA_OPTS"
  fi
  local -a java_cmd=(java "${heap[@]}" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true "${log_opts[@]}" ${extra[@]+"${extra[@]}"}
    -cp "$LIBS_DIR/*" kafka.Kafka "$SERVER_PROPERTIES")

  log "$(node_label): starting Kafka $(kafka_version) on $KAFKA_BOOTSTRAP (controller :$KAFKA_CONTROLLER_PORT, heap: $(heap_opts))"
  rm -f "$PID_FILE"
  {
    printf '\n===== %s starting: %s\n' "$(date '+%F %T')" "${java_cmd[*]}"
  } >>"$KAFKA_OUT"
  # New session so the broker outlives this shell / terminal; the inner shell records its
  # own pid and then becomes the JVM via exec, so the pid file holds the JVM's pid.
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PID_FILE" "${java_cmd[@]}" \
    </dev/null >>"$KAFKA_OUT" 2>&1 &
  disown || true
}

wait_for_kafka() {
  local started=$SECONDS pid label
  label="$(node_label)"
  log "$label: waiting for the broker to become ready (timeout ${KAFKA_START_TIMEOUT}s)..."
  while ((SECONDS - started < KAFKA_START_TIMEOUT)); do
    if ! pid="$(kafka_pid)"; then
      # The pid file is written by the child right after fork: a pid file whose process
      # is gone means the JVM died; no pid file at all gets a few seconds of grace.
      if [[ -s "$PID_FILE" ]] || ((SECONDS - started > 5)); then
        warn "$label process exited during startup; last lines of the logs:"
        tail -n 20 "$KAFKA_OUT" >&2 2>/dev/null || true
        tail -n 30 "$KAFKA_LOG" >&2 2>/dev/null || true
        die "$label failed to start (logs: ${KAFKA_LOG#"$SCRIPT_DIR/"}, ${KAFKA_OUT#"$SCRIPT_DIR/"})"
      fi
    elif kafka_ready >/dev/null; then
      log "$label: ready on $KAFKA_BOOTSTRAP (pid $pid, $((SECONDS - started))s)"
      return 0
    fi
    sleep 1
  done
  tail -n 30 "$KAFKA_LOG" >&2 2>/dev/null || true
  die "$label not ready after ${KAFKA_START_TIMEOUT}s (logs: ${KAFKA_LOG#"$SCRIPT_DIR/"})"
}

# A cluster is ready when every one of its brokers is registered and unfenced (the readiness
# probe's count): only then are topics created with their full replication factor.
wait_for_cluster() {
  local started=$SECONDS out="" count
  if [[ ! -f "$TOOLS_DIR/KafkaReady.class" ]]; then
    warn "no readiness probe (javac): not checking that all $CLUSTER_SIZE brokers registered"
    return 0
  fi
  local -a log_opts
  mapfile -t log_opts < <(logging_opts tool)
  while ((SECONDS - started < KAFKA_START_TIMEOUT)); do
    out="$(java -Xmx64m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${log_opts[@]}" \
      -cp "$TOOLS_DIR:$LIBS_DIR/*" KafkaReady "$(bootstrap_list)" 8000 2>/dev/null || true)"
    count="$(sed -n 's/.*brokers=\([0-9][0-9]*\).*/\1/p' <<<"$out")"
    if [[ -n "$count" ]] && ((count >= CLUSTER_SIZE)); then
      log "kafka: cluster of $CLUSTER_SIZE ready on $(bootstrap_list) ($((SECONDS - started))s)"
      return 0
    fi
    sleep 1
  done
  die "kafka: only ${count:-0} of $CLUSTER_SIZE brokers registered after ${KAFKA_START_TIMEOUT}s (${out:-no answer})"
}

stop_kafka() {
  local pid label
  label="$(node_label)"
  if ! pid="$(kafka_pid)"; then
    rm -f "$PID_FILE"
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      warn "$KAFKA_BOOTSTRAP answers but it is not a broker started by this script; leaving it alone"
    else
      log "$label: not running"
    fi
    return 0
  fi
  log "$label: stopping pid $pid (SIGTERM, up to ${KAFKA_STOP_TIMEOUT}s)..."
  kill -TERM "$pid" 2>/dev/null || true
  local started=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS - started >= KAFKA_STOP_TIMEOUT)); then
      warn "$label did not stop within ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
  done
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  rm -f "$PID_FILE"
  log "$label: stopped ($((SECONDS - started))s)"
}

# Stops every broker of a cluster together: one at a time, the last ones would wait for a
# controller quorum that has already gone.
stop_cluster() {
  local n pid
  local -a pids=() labels=()
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    select_node "$n"
    if pid="$(kafka_pid)"; then
      pids+=("$pid")
      labels+=("$(node_label)")
      log "$(node_label): stopping pid $pid (SIGTERM, up to ${KAFKA_STOP_TIMEOUT}s)..."
      kill -TERM "$pid" 2>/dev/null || true
    else
      rm -f "$PID_FILE"
      log "$(node_label): not running"
    fi
  done
  # Brokers left without a quorum of controllers cannot finish a controlled shutdown: they get a
  # few seconds more, then SIGKILL (their logs are recovered on the next start).
  local started=$SECONDS i alive quorum=$((CLUSTER_SIZE / 2 + 1)) quorum_lost=-1 reason
  for (( ; ; )); do
    alive=0
    for i in "${!pids[@]}"; do
      if kill -0 "${pids[$i]}" 2>/dev/null; then alive=$((alive + 1)); fi
    done
    ((alive > 0)) || break
    if ((alive < quorum && quorum_lost < 0)); then quorum_lost=$SECONDS; fi
    reason=""
    if ((SECONDS - started >= KAFKA_STOP_TIMEOUT)); then
      reason="did not stop within ${KAFKA_STOP_TIMEOUT}s"
    elif ((quorum_lost >= 0 && SECONDS - quorum_lost >= 5)); then
      reason="cannot finish its shutdown without a controller quorum"
    fi
    if [[ -n "$reason" ]]; then
      for i in "${!pids[@]}"; do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
          warn "${labels[$i]} $reason; sending SIGKILL"
          kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
      done
      for i in "${!pids[@]}"; do
        while kill -0 "${pids[$i]}" 2>/dev/null; do sleep 0.2; done
      done
      break
    fi
    sleep 0.5
  done
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    select_node "$n"
    rm -f "$PID_FILE"
  done
  ((${#pids[@]} == 0)) || log "kafka: cluster stopped ($((SECONDS - started))s)"
}

# -------------------------------------------------------------------------- commands

cmd_up() {
  ensure_postgres
  ensure_redis
  if ((CLUSTER_SIZE > 1)); then
    cluster_up
    return 0
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    local pid
    if pid="$(kafka_pid)"; then
      log "kafka: already running on $KAFKA_BOOTSTRAP (pid $pid), nothing to do"
    else
      log "kafka: $KAFKA_BOOTSTRAP already answers (not started by this script), nothing to do"
    fi
    return 0
  fi
  if kafka_pid >/dev/null; then
    log "kafka: process from a previous 'up' is still starting"
  else
    start_kafka
  fi
  wait_for_kafka
}

cluster_up() {
  mkdir -p "$DATA_DIR"
  printf '%s\n' "$CLUSTER_SIZE" >"$CLUSTER_SIZE_FILE"
  local n pid
  local -a waiting=()
  # All brokers start before any is waited for: none is ready before a quorum of controllers is.
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    select_node "$n"
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      pid="$(kafka_pid)" ||
        die "$KAFKA_BOOTSTRAP already answers but it is not broker $n of this cluster (another process holds the port)"
      log "$(node_label): already running on $KAFKA_BOOTSTRAP (pid $pid)"
    elif kafka_pid >/dev/null; then
      log "$(node_label): process from a previous 'up' is still starting"
      waiting+=("$n")
    else
      start_kafka
      waiting+=("$n")
    fi
  done
  for n in ${waiting[@]+"${waiting[@]}"}; do
    select_node "$n"
    wait_for_kafka
  done
  wait_for_cluster
}

cmd_down() {
  if ((CLUSTER_SIZE > 1)); then
    stop_cluster
  else
    stop_kafka
  fi
  log "postgres and redis left running"
}

# One status line for the selected broker; returns 1 if it is down.
status_kafka() {
  local pid detail label
  label="$(node_label)"
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    if pid="$(kafka_pid)"; then
      detail="pid $pid, Kafka $(kafka_version || echo '?'), data ${KAFKA_DATA_DIR#"$SCRIPT_DIR/"}"
    else
      detail="not started by this script"
    fi
    printf '%-9s up    %s (%s)\n' "$label" "$KAFKA_BOOTSTRAP" "$detail"
  elif pid="$(kafka_pid)"; then
    printf '%-9s down  %s (pid %s is running but the port does not answer yet)\n' "$label" "$KAFKA_BOOTSTRAP" "$pid"
    return 1
  else
    printf '%-9s down  %s\n' "$label" "$KAFKA_BOOTSTRAP"
    return 1
  fi
}

cmd_status() {
  local rc=0 n detail
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    select_node "$n"
    status_kafka || rc=1
  done

  if pg_ready; then
    if pg_db_exists 2>/dev/null; then detail="database '$PG_DB' present"; else detail="database '$PG_DB' MISSING"; fi
    printf '%-9s up    %s:%s (%s)\n' postgres "$PG_HOST" "$PG_PORT" "$detail"
  else
    printf '%-9s down  %s:%s\n' postgres "$PG_HOST" "$PG_PORT"
    rc=1
  fi

  if redis_ready; then
    printf '%-9s up    %s:%s\n' redis "$REDIS_HOST" "$REDIS_PORT"
  else
    printf '%-9s down  %s:%s\n' redis "$REDIS_HOST" "$REDIS_PORT"
    rc=1
  fi
  return "$rc"
}

cmd_reset() {
  log "reset: 1/3 stopping Kafka"
  if ((CLUSTER_SIZE > 1)); then
    stop_cluster
    log "reset: 2/3 wiping the data dirs of the cluster's $CLUSTER_SIZE brokers in ${DATA_DIR#"$SCRIPT_DIR/"} (topics, offsets, KRaft metadata)"
    local n
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
      select_node "$n"
      rm -rf "$KAFKA_DATA_DIR"
    done
    rm -f "$CLUSTER_ID_FILE" "$CLUSTER_SIZE_FILE"
  else
    stop_kafka
    log "reset: 2/3 wiping Kafka data dir ${KAFKA_DATA_DIR#"$SCRIPT_DIR/"} (topics, offsets, KRaft metadata)"
    rm -rf "$KAFKA_DATA_DIR"
  fi
  log "reset: 3/3 dropping and recreating PostgreSQL database '$PG_DB' on $PG_HOST:$PG_PORT"
  require_cmd pg_isready psql
  pg_ready || die "postgres is not answering on $PG_HOST:$PG_PORT (run '$0 up' first)"
  printf 'DROP DATABASE IF EXISTS :"db" WITH (FORCE);\n' | pg_sql
  printf 'CREATE DATABASE :"db";\n' | pg_sql
  log "reset: done. Redis was not touched. Kafka is stopped; run '$0 up' to start it again"
}

cmd_pid() {
  select_node "${1:-1}"
  kafka_pid || {
    printf '[infra] %s is not running\n' "$(node_label)" >&2
    return 1
  }
}

cmd_start_broker() {
  select_node "${1:-1}"
  local pid
  if pid="$(kafka_pid)"; then
    log "$(node_label): already running on $KAFKA_BOOTSTRAP (pid $pid)"
  else
    [[ -f "$KAFKA_LOG_DIRS/meta.properties" ]] || ((CLUSTER_SIZE == 1)) ||
      die "$(node_label) has no data yet: start the cluster with 'up' first"
    start_kafka
  fi
  wait_for_kafka
  if ((CLUSTER_SIZE > 1)); then wait_for_cluster; fi
}

cmd_stop_broker() {
  select_node "${1:-1}"
  stop_kafka
}

cmd_kill_broker() {
  select_node "${1:-1}"
  local pid
  pid="$(kafka_pid)" || die "$(node_label) is not running"
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  log "$(node_label): killed pid $pid (SIGKILL); '$0 start-broker $NODE_ID' starts it again"
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-help}" brokers="" node=""
  (($# > 0)) && shift
  while (($# > 0)); do
    case "$1" in
      --brokers)
        (($# > 1)) || die "--brokers needs a number"
        brokers="$2"
        shift 2
        ;;
      --brokers=*)
        brokers="${1#--brokers=}"
        shift
        ;;
      *)
        [[ -z "$node" ]] || die "unexpected argument '$1'"
        node="$1"
        shift
        ;;
    esac
  done
  case "$cmd" in
    help | -h | --help)
      usage
      return 0
      ;;
  esac
  resolve_cluster_size "$brokers"
  case "$cmd" in
    up) cmd_up ;;
    down | stop) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    brokers) bootstrap_list ;;
    pid) cmd_pid "$node" ;;
    start-broker) cmd_start_broker "$node" ;;
    stop-broker) cmd_stop_broker "$node" ;;
    kill-broker) cmd_kill_broker "$node" ;;
    *)
      usage >&2
      die "unknown command '$cmd'"
      ;;
  esac
}

main "$@"
