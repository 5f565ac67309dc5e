// npm run bench [-- --metrics-events 1000000]   (or alone: node bench/metrics.mjs --events N)
// The metrics read model at scale, on a Kafka broker and PostgreSQL database of its own (started
// by scripts/bench.sh, so the log the system runs on is never touched): a synthetic log of N
// events (bench/metrics-log.mjs) on conversation.events; then, in the same run,
//   - the reference: raw kafkajs produce of the log and a raw consume of it (no decoding, no work);
//   - the rebuild: the metrics service's own rebuildReadModel (replay, fold, replace the tables),
//     its time and peak memory; then the snapshot fold every other service's rebuild runs
//     (@support/stream's foldLog) and the pipelined write of its snapshots to Redis;
//   - the analysts' queries over the rebuilt model (whole range, a week, a segment, and each
//     endpoint's query), median and slowest of several runs after a warm-up.
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { syntheticLog } from './metrics-log.mjs';
import { rawConsume } from './pipeline-resources.mjs';

const require = createRequire(import.meta.url);
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');
const { Bus, Topics } = require('@support/bus');
const { toBinary, ConversationEventSchema } = require('@support/contracts');
const { Redis } = require('ioredis');
const metrics = require('../services/metrics/dist/index.js');

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: process.env.METRICS_BENCH_EVENTS ?? '1000000' },
    days: { type: 'string', default: '30' },
    runs: { type: 'string', default: '5' },
  },
});
const N = Number(args.events);
const DAYS = Number(args.days);
const RUNS = Number(args.runs);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9392').split(',');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support_bench';
const kafka = new Kafka({ clientId: 'metrics-bench', brokers, logLevel: logLevel.NOTHING });

const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes) => `${Math.round(bytes / 1048576)} MB`;

/** Peak resident memory of this process while `work` runs, sampled every 100 ms. */
async function measured(work) {
  let peak = process.memoryUsage().rss;
  const every = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const started = performance.now();
  try {
    const result = await work();
    return { result, ms: performance.now() - started, peak };
  } finally {
    clearInterval(every);
  }
}

async function produceLog() {
  const bus = new Bus({ service: 'metrics-bench', brokers });
  await bus.ensureTopics([Topics.events, Topics.knowledgeEvents]);
  await bus.close();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const end = Date.now();
  let batch = [];
  let sent = 0;
  let bytes = 0;
  const flush = async () => {
    if (!batch.length) return;
    await producer.send({
      topic: Topics.events.name,
      compression: CompressionTypes.None,
      messages: batch,
    });
    sent += batch.length;
    batch = [];
  };
  const { ms } = await measured(async () => {
    for (const event of syntheticLog({ events: N, days: DAYS, end })) {
      const value = Buffer.from(toBinary(ConversationEventSchema, event));
      bytes += value.length;
      batch.push({ key: event.conversationId, value });
      if (batch.length === 2000) await flush();
    }
    await flush();
  });
  await producer.disconnect();
  return { sent, bytes, ms };
}

async function timeQuery(name, run) {
  await run(); // warm-up
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { name, median: times[Math.floor(times.length / 2)], max: times.at(-1) };
}

async function main() {
  console.log(
    `metrics benchmark: ${N.toLocaleString('en')} events over ${DAYS} days, ${RUNS} runs per query; ` +
      `Kafka ${brokers.join(',')}, ${databaseUrl.replace(/\/\/[^@]*@/, '//')}; ${cpus().length} CPUs, Node ${process.version}`,
  );
  const produced = await produceLog();
  console.log(
    `  reference  raw produce      ${produced.sent.toLocaleString('en')} records (${mb(produced.bytes)}) in ${secs(produced.ms)}` +
      `  ${Math.round(produced.sent / (produced.ms / 1000)).toLocaleString('en')}/s`,
  );
  const raw = await rawConsume(kafka, Topics.events.name, produced.sent);
  console.log(
    `  reference  raw consume      ${raw.seen.toLocaleString('en')} records in ${secs(raw.ms)}` +
      `  ${Math.round(raw.seen / (raw.ms / 1000)).toLocaleString('en')}/s`,
  );

  const database = await metrics.openMetricsDatabase(databaseUrl);
  const bus = new Bus({ service: 'metrics-bench', brokers });
  try {
    const before = process.memoryUsage().rss;
    const rebuild = await measured(() => metrics.rebuildReadModel(bus, database));
    const r = rebuild.result;
    console.log(
      `  read model rebuild          ${r.events.toLocaleString('en')} events -> ${r.conversations.toLocaleString('en')} conversations in ${secs(rebuild.ms)}` +
        `  ${Math.round(r.events / (rebuild.ms / 1000)).toLocaleString('en')} events/s` +
        `  (${(rebuild.ms / raw.ms).toFixed(1)}x the raw consume); peak RSS ${mb(rebuild.peak)} (${mb(before)} before)`,
    );

    // Every other service's rebuild folds the same log into snapshots (@support/stream's foldLog) and
    // writes them to Redis, pipelined (a namespace of the bench's own, removed after).
    const kit = require('@support/stream');
    const folded = await measured(() => kit.foldLog(bus));
    const f = folded.result;
    console.log(
      `  snapshot fold               ${f.events.toLocaleString('en')} events -> ${f.snapshots.size.toLocaleString('en')} conversations in ${secs(folded.ms)}` +
        `  ${Math.round(f.events / (folded.ms / 1000)).toLocaleString('en')} events/s` +
        `  (${(folded.ms / raw.ms).toFixed(1)}x the raw consume); peak RSS ${mb(folded.peak)}`,
    );
    const redis = new Redis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/5');
    const store = new kit.SnapshotStore(redis, `bench-${randomUUID()}`, 1);
    const written = await measured(() => store.putAll(f.snapshots.values()));
    const stored = await redis.info('memory');
    console.log(
      `  snapshot write              ${written.result.toLocaleString('en')} snapshots to Redis in ${secs(written.ms)}` +
        `  ${Math.round(written.result / (written.ms / 1000)).toLocaleString('en')}/s;` +
        ` Redis used_memory ${/used_memory_human:(\S+)/.exec(stored)?.[1] ?? '?'}`,
    );
    await store.clear();
    await redis.quit();

    const q = (raw) => {
      const { query, issues } = metrics.parseQuery(raw);
      if (issues.length) throw new Error(JSON.stringify(issues));
      return query;
    };
    const week = new Date(Date.now() - 7 * 86_400_000).toISOString();
    const quiet = 30;
    const results = [
      await timeQuery('overview, whole range', () => metrics.queryOverview(database, q({}), quiet)),
      await timeQuery('overview, last 7 days', () =>
        metrics.queryOverview(database, q({ from: week }), quiet),
      ),
      await timeQuery('overview, channel=web tier=enterprise', () =>
        metrics.queryOverview(database, q({ channel: 'web', tier: 'enterprise' }), quiet),
      ),
      await timeQuery('timeseries, interval=day', () =>
        metrics.queryTimeseries(database, q({ interval: 'day' })),
      ),
      await timeQuery('breakdown, groupBy=topic', () =>
        metrics.queryBreakdown(database, q({ groupBy: 'topic' })),
      ),
      await timeQuery('handoffs by rule and trigger', () => metrics.queryHandoffs(database, q({}))),
      await timeQuery('rules (no policy lookup)', () =>
        metrics.queryRules(database, q({}), () => undefined),
      ),
      await timeQuery('topics, interval=day', () =>
        metrics.queryTopics(database, q({ interval: 'day' })),
      ),
      await timeQuery('churn risk', () => metrics.queryChurnRisk(database, q({}))),
    ];
    for (const { name, median, max } of results)
      console.log(
        `  query      ${name.padEnd(40)} median ${median.toFixed(0)} ms, slowest ${max.toFixed(0)} ms`,
      );
  } finally {
    await bus.close();
    await database.pool.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
