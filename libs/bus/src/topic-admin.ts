/**
 * Topic administration: creating the catalogue's topics with their settings
 * (replicated as the cluster's size allows), and reading what an existing
 * topic actually takes.
 */
import { ConfigResourceTypes, type Admin, type Consumer } from 'kafkajs';
import type { BusLogger } from './logger.js';
import { maxMessageBytesOf, type TopicSpec } from './topics.js';

/** How a topic is replicated: copies of each partition, and how many must have a write before it counts. */
export interface Replication {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/**
 * The replication of a new topic on a cluster of `brokers` brokers: three copies of which two
 * must have every write (acks=all) on three brokers or more, so that one broker may die, or be
 * restarted, with no write lost and none refused; on a smaller cluster a copy on each broker and
 * writes taken by one (a single development broker).
 */
export function replicationFor(brokers: number): Replication {
  if (brokers >= 3) return { replicationFactor: 3, minInsyncReplicas: 2 };
  return { replicationFactor: Math.max(1, Math.floor(brokers)), minInsyncReplicas: 1 };
}

/**
 * Creates the topics that do not exist yet (retention, clean-up policy,
 * max.message.bytes; replication by the number of brokers the cluster
 * reports, replicationFor) and waits for their leaders. Returns the ones created, and
 * the existing ones whose max.message.bytes is smaller than their spec says (a
 * topic created before its limit was declared, or changed by hand), so that
 * the bus keeps to it and the broker never has to refuse a request.
 */
export async function createMissingTopics(
  admin: Admin,
  specs: TopicSpec[],
  logger: BusLogger,
): Promise<{ created: string[]; smaller: Map<string, number> }> {
  const existing = new Set(await admin.listTopics());
  const smaller = await smallerLimits(
    admin,
    specs.filter((s) => existing.has(s.name)),
    logger,
  );
  const missing = specs.filter((s) => !existing.has(s.name));
  if (missing.length === 0) return { created: [], smaller };
  const { brokers } = await admin.describeCluster();
  const { replicationFactor, minInsyncReplicas } = replicationFor(brokers.length);
  logger.log('creating topics', {
    topics: missing.map((s) => s.name),
    brokers: brokers.length,
    replicationFactor,
    minInsyncReplicas,
  });
  try {
    // Not kafkajs's own wait for leaders: it gives up on the first "unknown topic" from a broker
    // that has not yet heard of the new topics (a cluster's metadata spreads in a moment), where
    // waitForLeaders below asks again.
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor,
        configEntries: [
          { name: 'retention.ms', value: String(s.retentionMs) },
          { name: 'cleanup.policy', value: s.cleanupPolicy },
          { name: 'max.message.bytes', value: String(maxMessageBytesOf(s)) },
          { name: 'min.insync.replicas', value: String(minInsyncReplicas) },
        ],
      })),
    });
  } catch (err) {
    // Another service may have created them at the same moment.
    if (!String((err as Error).message).includes('already exists')) throw err;
  }
  await waitForLeaders(
    admin,
    missing.map((s) => s.name),
  );
  return { created: missing.map((s) => s.name), smaller };
}

async function smallerLimits(
  admin: Admin,
  specs: TopicSpec[],
  logger: BusLogger,
): Promise<Map<string, number>> {
  const smaller = new Map<string, number>();
  if (specs.length === 0) return smaller;
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: specs.map((s) => ({
        type: ConfigResourceTypes.TOPIC,
        name: s.name,
        configNames: ['max.message.bytes'],
      })),
    });
    for (const r of resources) {
      const actual = Number(r.configEntries[0]?.configValue);
      const spec = specs.find((s) => s.name === r.resourceName);
      const declared = spec ? maxMessageBytesOf(spec) : actual;
      if (actual > 0 && actual < declared) {
        smaller.set(r.resourceName, actual);
        logger.warn('topic takes smaller records than its spec states', {
          topic: r.resourceName,
          maxMessageBytes: actual,
          declared,
        });
      }
    }
  } catch (err) {
    logger.warn('topic limits not read; keeping the specs', { error: (err as Error).message });
  }
  return smaller;
}

/** Each partition's offsets of a topic, as kafkajs's admin reads them. */
export type TopicEnds = Awaited<ReturnType<Admin['fetchTopicOffsets']>>;

/**
 * A topic's first and next offsets per partition (kafkajs's `fetchTopicOffsets`), asked again
 * while the brokers answer with a retriable error: kafkajs gives up at once on "not the leader"
 * for a partition whose leadership is still moving, which a topic another service has just
 * created, or a broker that has just died, gives for a moment. Throws anything else, and the
 * last retriable error after `timeoutMs`.
 */
export async function fetchTopicEnds(
  admin: Admin,
  topic: string,
  timeoutMs = 30_000,
): Promise<TopicEnds> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() + wait > deadline) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Waits until every partition of the topics has a leader that serves it (new topics take a moment in KRaft). */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
        await Promise.all(topics.map((t) => fetchTopicEnds(admin, t, deadline - Date.now())));
        return;
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`topics not ready after ${timeoutMs} ms: ${topics.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Fails a kafkajs consumer's read with `fail` when the consumer crashes for good. A crash that
 * kafkajs restarts from (a retriable error such as "not the leader" while a new topic's
 * leadership settles) is not the end of the read: the consumer joins again and goes on.
 */
export function failOnFatalCrash(consumer: Consumer, fail: (err: Error) => void): void {
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(payload.error);
  });
}
