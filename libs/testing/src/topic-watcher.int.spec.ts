import { randomUUID } from 'node:crypto';
import { Bus, Topics, type TopicSpec } from '@support/bus';
import { ConversationEventSchema } from '@support/contracts';
import { customerMessageReceived } from './events';
import { TopicWatcher } from './topic-watcher';

jest.setTimeout(60_000);

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

describe('TopicWatcher on the real Kafka', () => {
  // A topic of this test's own, shaped like the log, removed afterwards.
  const topic: TopicSpec<typeof ConversationEventSchema> = {
    ...Topics.events,
    name: `itest.watcher.${randomUUID()}`,
    partitions: 3,
    retentionMs: 60 * 60 * 1000,
  };
  const other: TopicSpec<typeof ConversationEventSchema> = {
    ...topic,
    name: `${topic.name}.other`,
  };
  let bus: Bus;

  const event = (conversationId: string, text = 'hello') =>
    customerMessageReceived(conversationId, { messageId: randomUUID(), text });
  const publish = (conversationId: string, text?: string, correlationId?: string) =>
    bus.publish({
      topic,
      key: conversationId,
      value: event(conversationId, text),
      correlationId,
    });

  beforeAll(async () => {
    bus = new Bus({
      service: 'testing-itest',
      brokers,
      logger: { log: () => undefined, warn: () => undefined, error: console.error },
    });
    await bus.ensureTopics([topic, other]);
  });

  afterAll(async () => {
    const admin = bus?.kafka.admin();
    await admin?.connect();
    await admin?.deleteTopics({ topics: [topic.name, other.name] }).catch(() => undefined);
    await admin?.disconnect();
    await bus?.close();
  });

  it('sees what is written after it started, decoded, with key, headers, partition and offset', async () => {
    const before = randomUUID();
    await publish(before);
    const watcher = await TopicWatcher.start(bus.kafka, [topic], { group: 'testing-itest' });
    try {
      const conversationId = randomUUID();
      const correlationId = randomUUID();
      await publish(conversationId, 'first', correlationId);
      await publish(conversationId, 'second', correlationId);
      await publish(randomUUID(), 'someone else');

      const mine = await watcher.waitFor(topic, (r) => r.key === conversationId, { count: 2 });
      expect(mine.map((r) => r.value.payload.value)).toEqual([
        expect.objectContaining({ text: 'first' }),
        expect.objectContaining({ text: 'second' }),
      ]);
      const [first, second] = mine;
      expect(first.topic).toBe(topic.name);
      expect(first.value.conversationId).toBe(conversationId);
      expect(first.meta).toEqual(
        expect.objectContaining({
          correlationId,
          producer: 'testing-itest',
          eventType: 'support.v1.CustomerMessageReceived',
        }),
      );
      expect(first.headers).toEqual(
        expect.objectContaining({
          'correlation-id': correlationId,
          'event-type': 'support.v1.CustomerMessageReceived',
          producer: 'testing-itest',
        }),
      );
      expect(second.partition).toBe(first.partition);
      expect(BigInt(second.offset)).toBe(BigInt(first.offset) + 1n);
      expect(first.raw.length).toBeGreaterThan(0);

      await watcher.waitFor(topic, (r) => r.key !== conversationId);
      expect(watcher.records(topic).map((r) => r.key)).not.toContain(before);
      expect(watcher.records(topic)).toHaveLength(3);
    } finally {
      await watcher.stop();
    }
  });

  it('has read what came before a match on every watched topic when waitFor resolves', async () => {
    const watcher = await TopicWatcher.start(bus.kafka, [topic, other], { group: 'testing-itest' });
    try {
      const conversationIds = Array.from({ length: 30 }, () => randomUUID());
      await bus.publish(
        ...conversationIds.map((id) => ({ topic: other, key: id, value: event(id) })),
      );
      const last = randomUUID();
      await publish(last);
      await watcher.waitFor(topic, (r) => r.key === last);
      expect(
        watcher
          .records(other)
          .map((r) => r.key)
          .sort(),
      ).toEqual([...conversationIds].sort());
    } finally {
      await watcher.stop();
    }
  });

  it('keeps undecodable records apart, times out naming the topic and deletes its group on stop', async () => {
    const watcher = await TopicWatcher.start(bus.kafka, [topic, other], { group: 'testing-itest' });
    let stopped = false;
    try {
      await bus.publishRaw(other.name, 'garbage', Buffer.from([0xff, 0xff, 0xff, 0x01]));
      const conversationId = randomUUID();
      await publish(conversationId);
      await watcher.waitFor(topic, (r) => r.key === conversationId);

      await expect(
        watcher.waitFor(other, (r) => r.key === 'garbage', { timeoutMs: 1_000 }),
      ).rejects.toThrow(`on ${other.name}; saw 0 matching of 0`);
      expect(watcher.undecodable()).toEqual([
        expect.objectContaining({ topic: other.name, key: 'garbage', error: expect.any(String) }),
      ]);
      await expect(watcher.waitFor(Topics.events, () => true)).rejects.toThrow(/is not watched/);

      await watcher.stop();
      stopped = true;
      const admin = bus.kafka.admin();
      await admin.connect();
      const { groups } = await admin.listGroups();
      await admin.disconnect();
      expect(groups.map((g) => g.groupId)).not.toContain(watcher.groupId);
    } finally {
      if (!stopped) await watcher.stop();
    }
  });
});
