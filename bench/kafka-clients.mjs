// node bench/kafka-clients.mjs [--records 50000] [--batch 500] [--round-trips 200]
// The Kafka clients the stream runtime may stand on (issue 15), measured on the same broker in one
// run, client after client, so that the machine's load weighs on both:
// - kafkajs (today's client behind libs/bus; its last release was in 2023);
// - @platformatic/kafka (pure TypeScript, maintained; its 1.x line runs on Node 20.19+).
// For each: batched produce throughput (idempotent, acks=all, 200-byte values, `--batch` records
// per send), consume throughput (a new group reading the topic from the start), single-record
// round trip (send one record, wait for it at a consumer already joined; p50/p99), and
// exactly-once throughput: read `--records` records in batches and, per batch, one
// transaction that produces one output per input and commits the input offsets with it
// (read_committed). Every topic is created for the run and deleted after it.
// KAFKA_BROKERS (default 127.0.0.1:9092).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import * as pk from '@platformatic/kafka';
import { parseArgs } from 'node:util';
import { percentile } from './scores.mjs';

const require = createRequire(import.meta.url);
const kafkajs = require('kafkajs');
const versionOf = (name) =>
  JSON.parse(
    readFileSync(
      require
        .resolve(`${name}`)
        .replace(/(node_modules\/(@[^/]+\/)?[^/]+)\/.*$/, '$1/package.json'),
      'utf8',
    ),
  ).version;

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '500' },
    'round-trips': { type: 'string', default: '200' },
  },
});
const N = Number(args.records);
const BATCH = Number(args.batch);
const TRIPS = Number(args['round-trips']);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const PARTITIONS = 6;
const run = `${process.pid}-${Date.now()}`;
const value = Buffer.alloc(200, 'x');
const keyOf = (i) => `conversation-${i % 997}`;
const perSecond = (count, started) => count / ((performance.now() - started) / 1000);
const until = (check, what, ms = 60_000) =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (check()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 2);
  });

const kjs = new kafkajs.Kafka({
  clientId: 'bench-kafkajs',
  brokers,
  logLevel: kafkajs.logLevel.NOTHING,
});
const admin = kjs.admin();
await admin.connect();
const topics = [];
async function topic(name) {
  const full = `bench.${name}.${run}`;
  await admin.createTopics({
    topics: [{ topic: full, numPartitions: PARTITIONS, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  topics.push(full);
  return full;
}

// --- kafkajs ---------------------------------------------------------------------------------

async function kafkajsFigures() {
  const input = await topic('kafkajs.in');
  const output = await topic('kafkajs.out');
  const producer = kjs.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let started = performance.now();
  for (let i = 0; i < N; i += BATCH)
    await producer.send({
      topic: input,
      acks: -1,
      messages: Array.from({ length: Math.min(BATCH, N - i) }, (_, j) => ({
        key: keyOf(i + j),
        value,
      })),
    });
  const produce = perSecond(N, started);

  const reader = kjs.consumer({ groupId: `bench-read-${run}` });
  await reader.connect();
  await reader.subscribe({ topic: input, fromBeginning: true });
  let read = 0;
  started = performance.now();
  await reader.run({
    eachBatch: async ({ batch }) => {
      read += batch.messages.length;
    },
  });
  await until(() => read >= N, 'kafkajs consume');
  const consume = perSecond(N, started);
  await reader.disconnect();

  const tripTopic = await topic('kafkajs.trip');
  const seen = new Map();
  const tripper = kjs.consumer({ groupId: `bench-trip-${run}`, maxWaitTimeInMs: 100 });
  await tripper.connect();
  await tripper.subscribe({ topic: tripTopic, fromBeginning: true });
  let joined = false;
  tripper.on(tripper.events.GROUP_JOIN, () => (joined = true));
  await tripper.run({
    eachMessage: async ({ message }) => {
      seen.set(message.value.toString(), performance.now());
    },
  });
  await until(() => joined, 'kafkajs group join');
  const trips = [];
  for (let i = 0; i < TRIPS; i++) {
    const id = `trip-${i}`;
    const sent = performance.now();
    await producer.send({ topic: tripTopic, acks: -1, messages: [{ key: id, value: id }] });
    await until(() => seen.has(id), 'a round trip');
    trips.push(seen.get(id) - sent);
  }
  await tripper.disconnect();

  // Exactly-once: consume, produce and commit the offsets in one transaction per batch.
  const group = `bench-eos-${run}`;
  const txProducer = kjs.producer({
    transactionalId: `bench-eos-kafkajs-${run}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await txProducer.connect();
  const eos = kjs.consumer({ groupId: group, readUncommitted: false });
  await eos.connect();
  await eos.subscribe({ topic: input, fromBeginning: true });
  let done = 0;
  started = performance.now();
  await eos.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (let i = 0; i < batch.messages.length; i += BATCH) {
        const slice = batch.messages.slice(i, i + BATCH);
        const tx = await txProducer.transaction();
        await tx.send({
          topic: output,
          acks: -1,
          messages: slice.map((m) => ({ key: m.key, value: m.value })),
        });
        const last = slice.at(-1).offset;
        await tx.sendOffsets({
          consumerGroupId: group,
          topics: [
            {
              topic: input,
              partitions: [{ partition: batch.partition, offset: String(BigInt(last) + 1n) }],
            },
          ],
        });
        await tx.commit();
        resolveOffset(last);
        done += slice.length;
        await heartbeat();
      }
    },
  });
  await until(() => done >= N, 'kafkajs transactions', 300_000);
  const exactlyOnce = perSecond(N, started);
  await eos.disconnect();
  await txProducer.disconnect();
  await producer.disconnect();
  return { produce, consume, trips, exactlyOnce };
}

// --- @platformatic/kafka ---------------------------------------------------------------------

async function platformaticFigures() {
  const input = await topic('platformatic.in');
  const output = await topic('platformatic.out');
  const base = { bootstrapBrokers: brokers, clientId: 'bench-platformatic' };
  const producer = new pk.Producer({ ...base, idempotent: true, acks: -1 });
  let started = performance.now();
  for (let i = 0; i < N; i += BATCH)
    await producer.send({
      messages: Array.from({ length: Math.min(BATCH, N - i) }, (_, j) => ({
        topic: input,
        key: Buffer.from(keyOf(i + j)),
        value,
      })),
    });
  const produce = perSecond(N, started);

  const reader = new pk.Consumer({ ...base, groupId: `bench-read-${run}` });
  started = performance.now();
  const stream = await reader.consume({ topics: [input], mode: 'earliest', autocommit: false });
  let read = 0;
  stream.on('data', () => read++);
  await until(() => read >= N, 'platformatic consume');
  const consume = perSecond(N, started);
  await stream.close();
  await reader.close();

  const tripTopic = await topic('platformatic.trip');
  const seen = new Map();
  const tripper = new pk.Consumer({ ...base, groupId: `bench-trip-${run}`, maxWaitTime: 100 });
  const trip = await tripper.consume({ topics: [tripTopic], mode: 'earliest', autocommit: true });
  trip.on('data', (m) => seen.set(m.value.toString(), performance.now()));
  // The first record tells that the consumer is in its group and fetching.
  await producer.send({
    messages: [{ topic: tripTopic, key: Buffer.from('w'), value: Buffer.from('warm') }],
  });
  await until(() => seen.has('warm'), 'platformatic group join');
  const trips = [];
  for (let i = 0; i < TRIPS; i++) {
    const id = `trip-${i}`;
    const sent = performance.now();
    await producer.send({
      messages: [{ topic: tripTopic, key: Buffer.from(id), value: Buffer.from(id) }],
    });
    await until(() => seen.has(id), 'a round trip');
    trips.push(seen.get(id) - sent);
  }
  await trip.close();
  await tripper.close();

  // Exactly-once: consume, produce and commit the offsets in one transaction per batch.
  const txProducer = new pk.Producer({
    ...base,
    idempotent: true,
    acks: -1,
    transactionalId: `bench-eos-platformatic-${run}`,
    // A transaction begun while the broker still writes the last one's markers is refused
    // (CONCURRENT_TRANSACTIONS) and retried: after 1 s by default, after 20 ms here as the
    // Java client does.
    retries: 50,
    retryDelay: 20,
  });
  const eos = new pk.Consumer({
    ...base,
    groupId: `bench-eos-platformatic-${run}`,
    isolationLevel: pk.FetchIsolationLevels.READ_COMMITTED,
  });
  const eosStream = await eos.consume({
    topics: [input],
    mode: 'earliest',
    autocommit: false,
    isolationLevel: pk.FetchIsolationLevels.READ_COMMITTED,
  });
  let done = 0;
  let pending = [];
  started = performance.now();
  const flush = async (slice) => {
    const tx = await txProducer.beginTransaction();
    await tx.send({
      messages: slice.map((m) => ({ topic: output, key: m.key, value: m.value })),
    });
    await tx.addConsumer(eos);
    // The last record of each partition carries the offset to commit.
    const last = new Map();
    for (const m of slice) last.set(m.partition, m);
    for (const m of last.values()) await tx.addOffset(m);
    await tx.commit();
    done += slice.length;
  };
  for await (const message of eosStream) {
    pending.push(message);
    if (pending.length >= BATCH || done + pending.length >= N) {
      const slice = pending;
      pending = [];
      await flush(slice);
      if (done >= N) break;
    }
  }
  const exactlyOnce = perSecond(N, started);
  await eosStream.close().catch(() => undefined);
  await eos.close(true).catch(() => undefined);
  await txProducer.close().catch(() => undefined);
  await producer.close();
  return { produce, consume, trips, exactlyOnce };
}

try {
  console.log(
    `Kafka clients on one broker: ${N} records of ${value.length} bytes, ${PARTITIONS} partitions, ${BATCH} per send and per transaction, ${TRIPS} round trips; brokers=${brokers.join(',')} cpus=${cpus().length} node=${process.version}`,
  );
  const rows = [
    [`kafkajs ${versionOf('kafkajs')}`, await kafkajsFigures()],
    [`@platformatic/kafka ${versionOf('@platformatic/kafka')}`, await platformaticFigures()],
  ];
  console.log(
    '\n| client | batched produce (rec/s) | consume (rec/s) | round trip p50 / p99 | consume → produce → commit in a transaction (rec/s) |',
  );
  console.log('|---|---|---|---|---|');
  for (const [name, r] of rows)
    console.log(
      `| ${name} | ${r.produce.toFixed(0)} | ${r.consume.toFixed(0)} | ${percentile(r.trips, 50).toFixed(1)} / ${percentile(r.trips, 99).toFixed(1)} ms | ${r.exactlyOnce.toFixed(0)} |`,
    );
} finally {
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}
process.exit(0);
