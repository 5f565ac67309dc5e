/**
 * Against the real broker: a rebuild folds the log only up to where the
 * service's consumer group stands, so that the records after it are left to
 * the live consumer, which reacts to them when it resumes.
 */
import { randomUUID } from 'node:crypto';
import { Bus, Topics } from '@support/bus';
import { conversationEvent } from '@support/conversation';
import { foldHandled, logPositions, replayLog } from './snapshots';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const message = (conversationId: string, n: number) =>
  conversationEvent(conversationId, `e-${conversationId}-${n}`, 'customerMessageReceived', {
    messageId: `m-${n}`,
    channel: 'web',
    externalConversationId: conversationId,
    customerId: 'c',
    text: `question ${n}`,
    locale: 'en',
    pageUrl: '',
    idempotencyKey: `${conversationId}-${n}`,
    accountId: '',
    sentAt: '',
  });

describe('a rebuild of snapshots from the log', () => {
  const service = `test-rebuild-${randomUUID()}`;
  const bus = new Bus({ service, brokers });
  afterAll(() => bus.close());

  it('folds up to the offsets its consumer group committed, and nothing where it committed none', async () => {
    await bus.ensureTopics([Topics.events]);
    const id = randomUUID();
    for (let n = 1; n <= 4; n++)
      await bus.publish({ topic: Topics.events, key: id, value: message(id, n) });
    const ours: { partition: number; offset: string }[] = [];
    await replayLog(bus, async (event, partition, offset) => {
      if (event.conversationId === id) ours.push({ partition, offset });
    });
    expect(ours).toHaveLength(4);
    const { partition } = ours[0];

    // Nothing committed yet: the consumer will read everything itself, so nothing is folded.
    expect((await foldHandled(bus)).snapshots.has(id)).toBe(false);

    // The consumer handled the first two messages (its next offset is the third's).
    const admin = bus.kafka.admin();
    await admin.connect();
    await admin.setOffsets({
      groupId: `${service}.log`,
      topic: Topics.events.name,
      partitions: [{ partition, offset: ours[2].offset }],
    });
    await admin.disconnect();
    expect((await logPositions(bus)).get(partition)).toBe(BigInt(ours[2].offset));

    const folded = await foldHandled(bus);
    const snapshot = folded.snapshots.get(id);
    expect(snapshot?.state.messages.map((m) => m.text)).toEqual(['question 1', 'question 2']);
    expect(snapshot).toMatchObject({ partition, offset: ours[1].offset });
  });
});
