// node bench/transactions.mjs [-- --rounds 200 --partitions 4]
// What one exactly-once commit costs (libs/bus/src/transactions.ts: the records a handled batch
// published and the offsets past it, in one Kafka transaction), one after another as a consumer
// takes them, beside the reference measured in the same run: the same records produced
// (idempotent, acks=all) and the same offsets committed plainly, which is what an at-least-once
// consumer does. On a throwaway topic pair of the broker at KAFKA_BROKERS.
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { Admin, Consumer, MessagesStreamModes, Producer } from '@platformatic/kafka';
import { TransactionalCommitter } from '../libs/bus/dist/transactions.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '200' },
    partitions: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '20' },
  },
});
const rounds = Number(args.rounds);
const partitions = Number(args.partitions);
const warmup = Number(args.warmup);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const run = randomUUID().slice(0, 8);
const topic = `bench.transactions.${run}`;
const out = `${topic}.out`;

const admin = new Admin({ clientId: 'bench-transactions', bootstrapBrokers: brokers });
await admin.createTopics({ topics: [topic, out], partitions: 6, replicas: 1 });

/** A group member of its own (transactions commit offsets with its generation and member id). */
async function member(groupId) {
  const consumer = new Consumer({
    clientId: 'bench-transactions',
    bootstrapBrokers: brokers,
    groupId,
    autocommit: false,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.LATEST,
    autocommit: false,
  });
  return { consumer, close: async () => (await stream.close(), await consumer.close(true)) };
}

const records = () =>
  Array.from({ length: partitions }, (_, p) => ({
    topic: out,
    key: Buffer.from(`k${p}`),
    value: Buffer.from('x'.repeat(200)),
  }));
const offsets = (i) => new Map(Array.from({ length: partitions }, (_, p) => [p, BigInt(i + 1)]));

async function timed(label, once) {
  const times = [];
  for (let i = 0; i < warmup + rounds; i++) {
    const t = performance.now();
    await once(i);
    if (i >= warmup) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.floor(p * (times.length - 1))];
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { label, p50: q(0.5), p90: q(0.9), p99: q(0.99), mean, perSecond: 1000 / mean };
}

// The reference: produce, then a plain offset commit.
const plain = await member(`bench-plain-${run}`);
const producer = new Producer({
  clientId: 'bench-transactions',
  bootstrapBrokers: brokers,
  idempotent: true,
  acks: -1,
});
const reference = await timed(
  'plain: produce (idempotent, acks=all), then commit offsets',
  async (i) => {
    await producer.send({ messages: records() });
    await plain.consumer.commit({
      offsets: [...offsets(i)].map(([partition, offset]) => ({
        topic,
        partition,
        offset,
        leaderEpoch: -1,
      })),
    });
  },
);
await producer.close();
await plain.close();

// The exactly-once commit, as the bus's consumers take it.
const groupId = `bench-eos-${run}`;
const eos = await member(groupId);
const committer = new TransactionalCommitter({
  service: 'bench-transactions',
  brokers,
  groupId,
  instanceId: 'bench',
  limitOf: () => 1_000_000,
});
const transactional = await timed('transaction: records and offsets committed together', (i) =>
  committer.commit(eos.consumer, topic, offsets(i), records()),
);
await committer.close();
await eos.close();
await admin.deleteTopics({ topics: [topic, out] }).catch(() => undefined);
await admin.close();

const ms = (v) => `${v.toFixed(1)} ms`;
console.log(
  `settings: rounds=${rounds} (after ${warmup} warm-up) records and partitions per commit=${partitions}, 200-byte values, one commit at a time, brokers=${brokers.join(',')} cpus=${cpus().length} node=${process.version}`,
);
console.log('');
console.log('| commit | p50 | p90 | p99 | mean | commits/s |');
console.log('|---|---|---|---|---|---|');
for (const r of [reference, transactional])
  console.log(
    `| ${r.label} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ${ms(r.mean)} | ${r.perSecond.toFixed(0)} |`,
  );
console.log('');
console.log(
  `a transaction takes ${(transactional.mean / reference.mean).toFixed(1)}x the plain produce and commit (mean).`,
);
