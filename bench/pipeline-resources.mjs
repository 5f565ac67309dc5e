// Helpers of bench/pipeline.mjs around the pipeline: the raw batched Kafka produce and consume
// references, the wait for the services' consumer groups to catch up, and the memory figures (the
// processes' RSS and Redis).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sleep } from './pipeline-paced.mjs';

const require = createRequire(import.meta.url);
const Redis = require('ioredis');
const { Topics } = require('@support/bus');

/**
 * The raw consume reference: a topic read once from the beginning by a plain kafkajs consumer of
 * a throwaway group, nothing done with the records, until `expected` have come.
 */
export async function rawConsume(kafka, topic, expected) {
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const started = performance.now();
  let seen = 0;
  await new Promise((resolve, reject) => {
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          if (seen >= expected) resolve();
        },
      })
      .catch(reject);
  });
  const ms = performance.now() - started;
  await consumer.disconnect();
  return { seen, ms };
}

/**
 * Raw batched produce throughput with kafkajs on the pipeline's broker: an idempotent producer,
 * acks=all, `records` records of `bytes` bytes, `batch` per send, one send after the other, on a
 * throwaway topic of 6 partitions deleted after.
 */
export async function rawBatchedProduce(kafka, { records, batch, bytes = 200 }) {
  const topic = `bench.raw-produce.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6 }] });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await producer.connect();
    const value = randomBytes(bytes);
    const start = performance.now();
    for (let i = 0; i < records; i += batch)
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: Math.min(batch, records - i) }, (_, j) => ({
          key: `conversation-${(i + j) % 997}`,
          value,
        })),
      });
    const seconds = (performance.now() - start) / 1000;
    return { records, batch, bytes, seconds, perSecond: records / seconds };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** The topics the pipeline's consumer groups read, for their lag. */
const pipelineTopics = [
  Topics.inbound.name,
  Topics.events.name,
  Topics.outbound.name,
  Topics.handoffRequests.name,
  Topics.handoffAssignments.name,
];

/**
 * Records not yet committed by the services' consumer groups that have members (the benchmark's
 * own `bench-*` groups and empty groups, e.g. throwaway replays, are left out) on the pipeline's
 * topics.
 */
async function servicesLag(admin) {
  const high = new Map();
  for (const topic of pipelineTopics)
    for (const p of await admin.fetchTopicOffsets(topic))
      high.set(`${topic}:${p.partition}`, Number(p.high));
  const { groups } = await admin.listGroups();
  const ids = groups.map((g) => g.groupId).filter((id) => !id.startsWith('bench'));
  const { groups: described } = await admin.describeGroups(ids);
  let lag = 0;
  for (const g of described.filter((d) => d.members.length > 0)) {
    const offsets = await admin.fetchOffsets({ groupId: g.groupId, topics: pipelineTopics });
    for (const { topic, partitions } of offsets)
      for (const p of partitions)
        if (p.offset !== '-1')
          lag += Math.max(0, high.get(`${topic}:${p.partition}`) - Number(p.offset));
  }
  return lag;
}

/**
 * Waits until the services' consumer groups have committed every record of the pipeline's
 * topics (they commit at least once a second), or `ms` has passed; resolves with the lag left.
 */
export async function waitIdle(kafka, ms) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + ms;
    let lag = await servicesLag(admin);
    while (lag > 0 && Date.now() < deadline) {
      await sleep(500);
      lag = await servicesLag(admin);
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

/** A process's CPU time so far (user + system) in seconds, from /proc; undefined once it has exited. */
export function cpuSecondsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ: hundredths of a second
  } catch {
    return undefined;
  }
}

/** A process's resident set (VmRSS) in bytes, from /proc; undefined once it has exited. */
export function rssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return kb ? Number(kb[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Redis memory: the instance's `used_memory` (INFO memory: every database of the instance, and
 * whatever else uses it), and the keys of the services' database with the sum of their
 * `MEMORY USAGE`.
 */
export async function redisMemory(url) {
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  try {
    const info = await redis.info('memory');
    const usedMemory = Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
    let keys = 0;
    let bytes = 0;
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      if (batch.length === 0) continue;
      const pipe = redis.pipeline();
      for (const key of batch) pipe.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
      for (const [err, size] of await pipe.exec()) if (!err && size !== null) bytes += size;
      keys += batch.length;
    } while (cursor !== '0');
    return { usedMemory, keys, bytes, db: redis.options.db ?? 0 };
  } finally {
    redis.disconnect();
  }
}
