import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Bus, KAFKA_DEFAULT_MAX_MESSAGE_BYTES, Topics, type TopicSpec } from '@support/bus';
import { create, InboundMessageSchema } from '@support/contracts';
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

  it('marks an effect done inside an exactly-once handler only once its transaction commits: a failed attempt is run again, once', async () => {
    const input: TopicSpec<typeof InboundMessageSchema> = {
      name: `test.once.in.${randomUUID()}`,
      partitions: 1,
      retentionMs: 3_600_000,
      cleanupPolicy: 'delete',
      external: false,
      description: 'test',
      key: 'test',
      schema: InboundMessageSchema,
      maxMessageBytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
    };
    await bus.ensureTopics([input, { ...input, name: `${input.name}.dlq` }]);
    const conversationId = randomUUID();
    const at = await appendEvent(conversationId, randomUUID());
    const key = `test:${randomUUID()}`;
    const eventId = randomUUID();
    let attempts = 0;
    await bus.consume({
      group: `once-${randomUUID().slice(0, 8)}`,
      topic: input,
      exactlyOnce: true,
      handle: async () => {
        attempts++;
        const check: LogCheck = {
          contains: (p, o, ids) => logContains(bus, p, o, ids),
          ...at,
          eventIds: [eventId],
        };
        await onceChecked(redis, key, check, () =>
          bus.publish({
            topic: Topics.events,
            key: conversationId,
            eventId,
            value: conversationEvent(conversationId, eventId, 'handoffQueued', {
              handoffId: 'h',
              queue: 'general',
            }),
          }),
        );
        // The first attempt fails after its effect: its transaction publishes nothing.
        if (attempts === 1) throw new Error('not yet');
      },
    });
    await bus.publish({
      topic: input,
      key: 'k',
      value: create(InboundMessageSchema, { channel: 'web', text: 'go' }),
    });
    const deadline = Date.now() + 30_000;
    while (!(await redis.exists(`done:${key}`)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(attempts).toBe(2);
    expect(await redis.exists(`done:${key}`, `pending:${key}`)).toBe(1);
    // The retry published the event, and a read-committed reader finds it.
    expect(await logContains(bus, at.partition, at.afterOffset, [eventId])).toBe(true);
  });
});
