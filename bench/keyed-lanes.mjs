// node bench/keyed-lanes.mjs [--records 3000] [--keys 300] [--wait-ms 20] [--cpu-ms 0.2] [--parallel-keys 16]
// What handling a partition's conversations side by side (ConsumeOptions.parallelKeys, the log
// consumers' keyed lanes) buys when a handler waits on I/O (a model call, a produce round trip, a
// Redis read), measured through libs/bus on the real broker, in one run:
// - the reference: the same records consumed by a handler that does nothing (one at a time);
// - one record at a time per partition, each handler waiting `--wait-ms` and burning `--cpu-ms`;
// - the same with `--parallel-keys` records of different keys in flight per partition.
// `--records` records over `--keys` keys in 6 partitions, published before the groups join (a
// backlog, as after a restart; the consumer holds up to 512 fetched records, so one at a time,
// only the partitions whose records it holds move at once).
// Every topic is created for the run and deleted after it. KAFKA_BROKERS (default 127.0.0.1:9092).
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');
const { Bus } = require('@support/bus');
const { create, InboundMessageSchema, DeadLetterSchema } = require('@support/contracts');

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '3000' },
    keys: { type: 'string', default: '300' },
    'wait-ms': { type: 'string', default: '20' },
    'cpu-ms': { type: 'string', default: '0.2' },
    'parallel-keys': { type: 'string', default: '16' },
  },
});
const N = Number(args.records);
const KEYS = Number(args.keys);
const WAIT_MS = Number(args['wait-ms']);
const CPU_MS = Number(args['cpu-ms']);
const PARALLEL = Number(args['parallel-keys']);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const run = `${process.pid}-${Date.now()}`;
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

const base = {
  partitions: 6,
  retentionMs: 3_600_000,
  cleanupPolicy: 'delete',
  external: false,
  description: 'bench',
  key: 'bench',
  maxMessageBytes: 1_048_588,
};
const topic = {
  ...base,
  name: `bench.keyed.${run}`,
  schema: InboundMessageSchema,
  deadLetter: `bench.keyed.${run}.dlq`,
};
const dlq = { ...base, name: `bench.keyed.${run}.dlq`, schema: DeadLetterSchema };

const burn = (ms) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

const producer = new Bus({ service: `bench-keyed-${run}`, brokers, logger: quiet });
await producer.ensureTopics([topic, dlq]);
const records = [];
for (let i = 0; i < N; i++)
  records.push({
    topic,
    key: `conversation-${i % KEYS}`,
    value: create(InboundMessageSchema, {
      channel: 'web',
      externalConversationId: `c${i % KEYS}`,
      customerId: 'bench',
      text: `message ${i}`,
      idempotencyKey: `${run}-${i}`,
    }),
  });
for (let i = 0; i < N; i += 500) await producer.publish(...records.slice(i, i + 500));

/** Consumes the whole topic with a new group; returns records/s and whether each key kept its order. */
async function consume(name, { parallelKeys, handle }) {
  const bus = new Bus({ service: `bench-keyed-${name}-${run}`, brokers, logger: quiet });
  const lastByKey = new Map();
  let inOrder = true;
  let handled = 0;
  let first = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  await bus.consume({
    group: 'g',
    topic,
    ...(parallelKeys ? { parallelKeys } : {}),
    handle: async (r) => {
      first ||= performance.now();
      const n = Number(r.value.text.split(' ')[1]);
      if ((lastByKey.get(r.key) ?? -1) > n) inOrder = false;
      lastByKey.set(r.key, n);
      await handle();
      if (++handled === N) done();
    },
  });
  await finished;
  const seconds = (performance.now() - first) / 1000;
  await bus.close();
  return { name, parallelKeys: parallelKeys ?? 1, perSecond: N / seconds, seconds, inOrder };
}

const waitAndBurn = async () => {
  await new Promise((r) => setTimeout(r, WAIT_MS));
  burn(CPU_MS);
};
const results = [
  await consume('reference', { handle: async () => undefined }),
  await consume('one-at-a-time', { handle: waitAndBurn }),
  await consume('keyed', { parallelKeys: PARALLEL, handle: waitAndBurn }),
];

const admin = new Kafka({ clientId: 'bench-keyed', brokers, logLevel: logLevel.NOTHING }).admin();
await admin.connect();
await admin.deleteTopics({ topics: [topic.name, dlq.name] }).catch(() => undefined);
await admin.disconnect();
await producer.close();

console.log(
  `## Keyed lanes: a partition's keys side by side (${cpus().length} cores; ${N} records, ` +
    `${KEYS} keys, 6 partitions; handler waits ${WAIT_MS} ms and burns ${CPU_MS} ms CPU)`,
);
console.log(
  '| consumer | records in flight per partition | records/s | seconds | each key in order |',
);
console.log('|---|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.name === 'reference' ? 'reference: handler does nothing' : r.name} | ${r.parallelKeys} | ` +
      `${r.perSecond.toFixed(0)} | ${r.seconds.toFixed(2)} | ${r.inOrder ? 'yes' : 'NO'} |`,
  );
const [, one, keyed] = results;
console.log(`keyed : one at a time = ${(keyed.perSecond / one.perSecond).toFixed(1)} : 1`);
