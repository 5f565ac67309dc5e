import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Bus, Topics } from '@support/bus';
import { conversationEvent } from '@support/conversation';
import { onceChecked, type LogCheck } from './once';
import { logContains } from './replay';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
const bus = new Bus({
  service: `once-test-${randomUUID().slice(0, 6)}`,
  brokers,
  logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
});

afterAll(async () => {
  await bus.close();
  await redis.quit();
});

/** Publishes one event for a fresh conversation and returns where the log's partition stood before it. */
async function appendEvent(conversationId: string, eventId: string) {
  const admin = bus.kafka.admin();
  await admin.connect();
  await bus.ensureTopics();
  const event = conversationEvent(conversationId, eventId, 'handoffQueued', {
    handoffId: 'h',
    queue: 'general',
  });
  const before = await admin.fetchTopicOffsets(Topics.events.name);
  await bus.publish({ topic: Topics.events, key: conversationId, value: event, eventId });
  const after = await admin.fetchTopicOffsets(Topics.events.name);
  await admin.disconnect();
  const moved = after.find(
    (p) => p.high !== before.find((b) => b.partition === p.partition)!.high,
  )!;
  return { partition: moved.partition, afterOffset: String(BigInt(moved.high) - 2n) };
}

describe('exactly-once effects checked against the log', () => {
  it('finds an event after an offset in its partition, and nothing that is not there', async () => {
    const eventId = randomUUID();
    const at = await appendEvent(randomUUID(), eventId);
    expect(await logContains(bus, at.partition, at.afterOffset, ['other', eventId])).toBe(true);
    expect(await logContains(bus, at.partition, at.afterOffset, [randomUUID()])).toBe(false);
  });

  it('does not repeat an effect whose events reached the log before the process died', async () => {
    const key = `test:${randomUUID()}`;
    const eventId = randomUUID();
    // A first attempt marked itself pending, published, and died before marking done.
    const at = await appendEvent(randomUUID(), eventId);
    await redis.set(`pending:${key}`, `${at.partition}:${at.afterOffset}`);
    let effects = 0;
    const check: LogCheck = {
      contains: (p, o, ids) => logContains(bus, p, o, ids),
      ...at,
      eventIds: [eventId],
    };
    expect(await onceChecked(redis, key, check, async () => void effects++)).toBe(false);
    expect(effects).toBe(0);
    expect(await redis.exists(`done:${key}`, `pending:${key}`)).toBe(1);
  });

  it('runs the effect when a pending attempt died before publishing', async () => {
    const key = `test:${randomUUID()}`;
    const at = await appendEvent(randomUUID(), randomUUID());
    await redis.set(`pending:${key}`, `${at.partition}:${at.afterOffset}`);
    let effects = 0;
    const check: LogCheck = {
      contains: (p, o, ids) => logContains(bus, p, o, ids),
      ...at,
      eventIds: [randomUUID()],
    };
    expect(await onceChecked(redis, key, check, async () => void effects++)).toBe(true);
    expect(await onceChecked(redis, key, check, async () => void effects++)).toBe(false);
    expect(effects).toBe(1);
  });
});
