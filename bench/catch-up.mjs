// node bench/catch-up.mjs [-- --events 20000 --services ingest,router --base-port 5501]
// Each service alone catching up with a log it has never read: a synthetic log of N events
// (bench/metrics-log.mjs) on conversation.events of a broker of its own (scripts/bench.sh starts
// one, so the log the system runs on is never touched); then each service started on its own,
// with nothing else running, until every one of its consumer groups on the log has committed up
// to the log's end (what the service itself appended while it ran included). Prints, per service:
// the events it read, the time to catch up and events/s, the CPU it used per event (user + system,
// from /proc), its RSS at the end; beside a raw kafkajs consume of the same log (no decoding, no
// work) in the same run. This is the live path (fetch, decode, fold, react, publish, checkpoint,
// commit) at full speed, the cost of every record the services read, and how fast a service
// comes back after an outage. With CPU_PROFILE_DIR set, each service writes its profile there.
// KAFKA_BROKERS, REDIS_URL (its database is flushed first) and DATABASE_URL (dropped first, the
// services create it again) come from the environment; scripts/bench.sh gives it ones of its own.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { localEnv, serviceArgs, services, waitHealthy } from '../scripts/services.mjs';
import { syntheticLog } from './metrics-log.mjs';
import { cpuSecondsOf, rawConsume, rssOf } from './pipeline-resources.mjs';

const require = createRequire(import.meta.url);
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');
const { Bus, Topics } = require('@support/bus');
const { toBinary, ConversationEventSchema } = require('@support/contracts');
const { Redis } = require('ioredis');
const { Client } = require('pg');

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: process.env.CATCH_UP_EVENTS ?? '20000' },
    services: { type: 'string', default: services.map((s) => s.name).join(',') },
    'base-port': { type: 'string', default: '5501' },
    'timeout-s': { type: 'string', default: '600' },
  },
});
const N = Number(args.events);
const chosen = args.services.split(',');
for (const name of chosen)
  if (!services.some((s) => s.name === name)) throw new Error(`no service ${name}`);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9392').split(',');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/6';
const databaseUrl =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support_bench_catchup';
const kafka = new Kafka({ clientId: 'catch-up-bench', brokers, logLevel: logLevel.NOTHING });
const topic = Topics.events.name;

const perSecond = (n, ms) => Math.round(n / (ms / 1000)).toLocaleString('en');

/** Drops the database the services will use (they create it again, empty, when they start). */
async function dropDatabase(url) {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const client = new Client({ connectionString: target.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
  } finally {
    await client.end();
  }
}

async function produceLog() {
  const bus = new Bus({ service: 'catch-up-bench', brokers });
  await bus.ensureTopics(Object.values(Topics));
  await bus.close();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let batch = [];
  const flush = async () => {
    if (!batch.length) return;
    await producer.send({ topic, compression: CompressionTypes.None, messages: batch });
    batch = [];
  };
  for (const event of syntheticLog({ events: N, days: 7 })) {
    batch.push({
      key: event.conversationId,
      value: Buffer.from(toBinary(ConversationEventSchema, event)),
    });
    if (batch.length === 2000) await flush();
  }
  await flush();
  await producer.disconnect();
}

/** The log's end offsets, summed over its partitions. */
async function logEnd(admin) {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

/** What the service's groups on the log have yet to read (-1 while one has committed nothing). */
async function lagOf(admin, service) {
  const { groups } = await admin.listGroups();
  const ours = groups.map((g) => g.groupId).filter((g) => g.startsWith(`${service}.`));
  const ends = new Map(
    (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]),
  );
  let lag = 0;
  let onLog = 0;
  for (const groupId of ours) {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    if (!committed || committed.partitions.every((p) => p.offset === '-1')) continue;
    onLog++;
    for (const p of committed.partitions)
      lag += ends.get(p.partition) - Math.max(0, Number(p.offset));
  }
  return onLog === 0 ? -1 : lag;
}

async function catchUp(admin, name, port) {
  const key = `bench-${randomBytes(8).toString('hex')}`;
  const env = {
    ...process.env,
    ...localEnv(),
    KAFKA_BROKERS: brokers.join(','),
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    KAFKA_INSTANCE_ID: `${name}-catch-up`,
    INGEST_API_KEYS: key,
    ROUTER_API_KEYS: key,
    AI_RESPONDER_API_KEYS: key,
    DECIDER_API_KEYS: key,
    DESK_API_KEYS: key,
    METRICS_API_KEYS: key,
  };
  const t0 = performance.now();
  const child = spawn(process.execPath, serviceArgs(name), {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await waitHealthy(port);
    const healthy = performance.now() - t0;
    const cpuAtHealthy = cpuSecondsOf(child.pid);
    const deadline = t0 + Number(args['timeout-s']) * 1000;
    let caughtUp;
    // Caught up: no lag twice in a row, a second apart (a reaction may still be on its way).
    for (let zero = 0; zero < 2;) {
      if (performance.now() > deadline) throw new Error(`${name}: not caught up in time`);
      await new Promise((r) => setTimeout(r, zero ? 1000 : 250));
      const lag = await lagOf(admin, name);
      if (lag === 0) {
        caughtUp ??= performance.now();
        zero++;
      } else {
        caughtUp = undefined;
        zero = 0;
      }
    }
    const cpu = cpuSecondsOf(child.pid);
    const rss = rssOf(child.pid);
    return {
      healthy,
      ms: caughtUp - t0,
      events: await logEnd(admin),
      cpu,
      cpuCatchUp: cpu - cpuAtHealthy,
      rss,
    };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main() {
  console.log(
    `catch-up benchmark: ${N.toLocaleString('en')} synthetic events, services ${chosen.join(', ')}; ` +
      `Kafka ${brokers.join(',')}, Redis ${redisUrl}, ${cpus().length} CPUs, Node ${process.version}`,
  );
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  await redis.quit();
  await dropDatabase(databaseUrl);
  await produceLog();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const produced = await logEnd(admin);
    const raw = await rawConsume(kafka, topic, produced);
    console.log(
      `  reference  raw kafkajs consume  ${raw.seen.toLocaleString('en')} records in ${(raw.ms / 1000).toFixed(1)} s, ${perSecond(raw.seen, raw.ms)}/s\n`,
    );
    console.log(
      '| service | events read | up (HTTP 200) | caught up | events/s | CPU per event | CPU (whole run) | RSS |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    let port = Number(args['base-port']);
    for (const name of chosen) {
      const r = await catchUp(admin, name, port++);
      const catchingUp = r.ms - r.healthy;
      console.log(
        `| ${name} | ${r.events.toLocaleString('en')} | ${(r.healthy / 1000).toFixed(1)} s | ${(r.ms / 1000).toFixed(1)} s | ` +
          `${perSecond(r.events, Math.max(1, catchingUp))} | ${((r.cpuCatchUp * 1e6) / r.events).toFixed(0)} µs | ` +
          `${r.cpu.toFixed(1)} s | ${Math.round(r.rss / 1048576)} MiB |`,
      );
    }
  } finally {
    await admin.disconnect();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
