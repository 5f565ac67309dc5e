/**
 * Against the real broker: a rebuild folds the log only up to where the
 * service's consumer group stands, so that the records after it are left to
 * the live consumer, which reacts to them when it resumes.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Bus, HeaderNames, headersToStrings, Outbox, Topics, type Incoming } from '@support/bus';
import type { ConversationEvent, ConversationEventSchema } from '@support/contracts';
import { conversationEvent, type Projection } from '@support/conversation';
import { projectionNamespace, type OfConversation } from './projection';
import { PartitionCatchUp } from './catch-up';
import { LogPartitionRestorer } from './restore';
import { foldHandled, logPositions, replayLog } from './replay';
import { applyLogRecord, type Applied } from './apply';
import { SnapshotStore, type Snapshot } from './snapshots';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const message = (conversationId: string, n: number) =>
  conversationEvent(conversationId, `e-${conversationId}-${n}`, 'customerMessageReceived', {
    // Unique across conversations, as ingest's are: the other services' tests read this log too.
    messageId: `m-${conversationId}-${n}`,
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
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
  afterAll(async () => {
    await bus.close();
    await redis.quit();
  });

  /** An exactly-once consumer's restorer and catch-up over a store, as the log consumer wires them. */
  const exactlyOnce = <S extends OfConversation>(store: SnapshotStore<S>) => {
    const restorer: LogPartitionRestorer<S> = new LogPartitionRestorer(bus, store, {
      committedBefore: (p) => catchUps.committedBefore(p),
    });
    const catchUps = new PartitionCatchUp(bus, store, restorer);
    return { restorer, catchUps };
  };

  /** Publishes `count` messages of a new conversation; returns them as the log delivers them. */
  async function conversation(count: number) {
    await bus.ensureTopics([Topics.events]);
    const id = randomUUID();
    for (let n = 1; n <= count; n++)
      await bus.publish({ topic: Topics.events, key: id, value: message(id, n) });
    const records: Incoming<typeof ConversationEventSchema>[] = [];
    await replayLog(bus, async (event: ConversationEvent, partition, offset) => {
      if (event.conversationId === id)
        records.push({
          topic: Topics.events.name,
          partition,
          offset,
          key: id,
          value: event,
          meta: {} as never,
          raw: {} as never,
        });
    });
    expect(records).toHaveLength(count);
    return { id, records };
  }

  it('restores the snapshots of a partition that Redis lost before applying the next record, with no manual step', async () => {
    const { id, records } = await conversation(4);
    const namespace = `test-restore-${randomUUID()}`;
    const react = async () => undefined;
    const live = new SnapshotStore(redis, namespace);
    for (const r of records.slice(0, 3))
      await applyLogRecord(live, r, react, new LogPartitionRestorer(bus, live));
    expect(await live.partitionIntact(records[0].partition)).toBe(true);
    await live.flush();

    // Redis loses everything this service kept; the process starts again with no cache.
    const keys = await redis.keys(`snap*:${namespace}:*`);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    await redis.del(...keys);
    const restarted = new SnapshotStore(redis, namespace);
    const reactions: Applied[] = [];
    await applyLogRecord(
      restarted,
      records[3],
      async (a) => void reactions.push(a),
      new LogPartitionRestorer(bus, restarted),
    );

    // The fourth message is judged with the three before it, and each is applied once.
    expect(reactions).toHaveLength(1);
    expect(reactions[0].before.messages.map((m) => m.text)).toEqual([
      'question 1',
      'question 2',
      'question 3',
    ]);
    await restarted.flush();
    const snapshot = await new SnapshotStore(redis, namespace).get(id);
    expect(snapshot?.state.messages).toHaveLength(4);
    expect(snapshot?.offset).toBe(records[3].offset);
    expect(await restarted.partitionIntact(records[0].partition)).toBe(true);
  });

  it("catches an exactly-once consumer's partition up from its checkpoint to the committed offset before it applies the next record", async () => {
    const { id, records } = await conversation(4);
    const partition = records[0].partition;
    const namespace = `test-catch-up-${randomUUID()}`;
    const react = async () => undefined;
    const live = new SnapshotStore(redis, namespace);
    await applyLogRecord(live, records[0], react);
    await applyLogRecord(live, records[1], react);
    await live.flushCommitted(new Map([[partition, BigInt(records[1].offset) + 1n]]));
    // The third record's transaction commits, and the process dies before its checkpoint.
    await applyLogRecord(live, records[2], react);

    const restarted = new SnapshotStore(redis, namespace);
    const { restorer, catchUps } = exactlyOnce(restarted);
    // Handled beside others, the record is refused: the catch-up runs with the partition alone.
    await expect(catchUps.catchUp(partition, records[3].offset, false)).rejects.toThrow(
      /handled one at a time/,
    );
    await catchUps.catchUp(partition, records[3].offset);
    expect(await restarted.checkpoint(partition)).toBe(BigInt(records[3].offset));
    const reactions: Applied[] = [];
    await applyLogRecord(restarted, records[3], async (a) => void reactions.push(a), restorer);
    expect(reactions[0].before.messages.map((m) => m.text)).toEqual([
      'question 1',
      'question 2',
      'question 3',
    ]);
    // Caught up once per assignment: the next record of the partition reads no checkpoint.
    await redis.del(`snap-partition:${namespace}:${partition}`);
    await catchUps.catchUp(partition, records[3].offset, false);
    expect((await restarted.get(id))?.state.messages).toHaveLength(4);
    await restarted.clear();
  });

  it("restores an exactly-once consumer's lost snapshots without writing to Redis what it handled but has not committed, so a new owner handles that again", async () => {
    const { id, records } = await conversation(3);
    const partition = records[0].partition;
    const namespace = `test-restore-ahead-${randomUUID()}`;
    const react = async () => undefined;
    const live = new SnapshotStore(redis, namespace);
    const { restorer, catchUps } = exactlyOnce(live);
    // Assigned the partition with the group at the first record; its transaction commits.
    await catchUps.catchUp(partition, records[0].offset);
    await applyLogRecord(live, records[0], react, restorer);
    const committed = new Map([[partition, BigInt(records[1].offset)]]);
    catchUps.committed(committed);
    await live.flushCommitted(committed);
    // The second record is handled; its transaction has not committed when Redis loses everything.
    await applyLogRecord(live, records[1], react, restorer);
    await redis.del(...(await redis.keys(`snap*:${namespace}:*`)));
    // A record of another conversation misses its snapshot: the partition is restored.
    await restorer.ensure(partition, records[2].offset);

    expect(await live.checkpoint(partition)).toBe(BigInt(records[1].offset));
    expect((await new SnapshotStore(redis, namespace).get(id))?.offset).toBe(records[0].offset);
    expect((await live.get(id))?.state.messages).toHaveLength(2);

    // The transaction fails and the partition moves: its new owner handles the second record again.
    const next = new SnapshotStore(redis, namespace);
    const nextRestorer = exactlyOnce(next);
    await nextRestorer.catchUps.catchUp(partition, records[1].offset);
    const reactions: Applied[] = [];
    await applyLogRecord(
      next,
      records[1],
      async (a) => void reactions.push(a),
      nextRestorer.restorer,
    );
    expect(reactions.map((a) => a.before.messages.map((m) => m.text))).toEqual([['question 1']]);

    // Had it committed instead, the first process's checkpoint reaches Redis after the commit.
    const later = new Map([[partition, BigInt(records[2].offset)]]);
    catchUps.committed(later);
    await live.flushCommitted(later);
    expect(await live.checkpoint(partition)).toBe(BigInt(records[2].offset));
    expect((await new SnapshotStore(redis, namespace).get(id))?.state.messages).toHaveLength(2);
    await live.clear();
  });

  it('keeps, through a restore, what a snapshot in memory knows beyond the log read so far (the events its reaction appended)', async () => {
    const { id, records } = await conversation(2);
    const partition = records[0].partition;
    const namespace = `test-restore-own-${randomUUID()}`;
    const live = new SnapshotStore(redis, namespace);
    const { restorer, catchUps } = exactlyOnce(live);
    await catchUps.catchUp(partition, records[0].offset);
    // The reaction appends an event of its own: folded at once, in the log only further on.
    const own = message(id, 99);
    await applyLogRecord(live, records[0], async () => [own], restorer);
    const committed = new Map([[partition, BigInt(records[1].offset)]]);
    catchUps.committed(committed);
    await live.flushCommitted(committed);
    // Redis loses everything before this process has read its own event from the log.
    await redis.del(...(await redis.keys(`snap*:${namespace}:*`)));
    await restorer.ensure(partition, records[1].offset);

    const texts = (s?: Snapshot) => s?.state.messages.map((m) => m.text);
    expect(texts(await live.get(id))).toEqual(['question 1', 'question 99']);
    expect(texts(await new SnapshotStore(redis, namespace).get(id))).toEqual([
      'question 1',
      'question 99',
    ]);
    await live.clear();
  });

  it('catches up with an event its reaction appended that the log holds only past the committed offset', async () => {
    const { id, records } = await conversation(2);
    const partition = records[0].partition;
    const namespace = `test-catch-up-own-${randomUUID()}`;
    const live = new SnapshotStore(redis, namespace);
    await exactlyOnce(live).catchUps.catchUp(partition, records[0].offset);
    // The reaction to the first record appends an event (a decision), which lands in the log
    // after the second record; the transaction commits, and the process dies before its
    // checkpoint.
    const own = message(id, 99);
    const outbox = new Outbox();
    await outbox.capture(partition, BigInt(records[0].offset), () =>
      applyLogRecord(live, records[0], async () => {
        await bus.publish({ topic: Topics.events, key: id, value: own });
        return [own];
      }),
    );
    const { records: held } = outbox.take(new Map([[partition, BigInt(records[1].offset)]]));
    expect(held.map((r) => r.headers?.[HeaderNames.foldedInto]?.toString())).toEqual([namespace]);
    await bus.publishRaw(Topics.events.name, id, held[0].value!, headersToStrings(held[0].headers));

    const restarted = new SnapshotStore(redis, namespace);
    const { restorer, catchUps } = exactlyOnce(restarted);
    await catchUps.catchUp(partition, records[1].offset);
    const reactions: Applied[] = [];
    await applyLogRecord(restarted, records[1], async (a) => void reactions.push(a), restorer);
    // The second record is judged knowing the decision, as the process that died knew it.
    expect(reactions[0].before.messages.map((m) => m.text)).toEqual(['question 1', 'question 99']);
    await restarted.clear();
  });

  it('restores a projection of its own through its own evolve, in its own namespace, and reacts only to what changes it', async () => {
    const { id, records } = await conversation(3);
    // A projection that keeps only how many messages there were, and the last text.
    const counting: Projection<{ conversationId: string; count: number; last: string }> = {
      name: `count-${randomUUID()}`,
      initial: (conversationId) => ({ conversationId, count: 0, last: '' }),
      evolve: (state, event) =>
        event.payload.case === 'customerMessageReceived' && event.payload.value.text !== state.last
          ? { ...state, count: state.count + 1, last: event.payload.value.text }
          : state,
    };
    const namespace = projectionNamespace(service, counting);
    expect(namespace).toBe(`${service}.${counting.name}`);
    const store = new SnapshotStore(redis, namespace, counting);
    const seen: number[] = [];
    // A new namespace has no partition marks: its first record restores the partition up to it.
    await applyLogRecord(
      store,
      records[2],
      async ({ after }) => void seen.push(after.count),
      new LogPartitionRestorer(bus, store),
    );
    expect(seen).toEqual([3]);
    await store.flush();
    expect(JSON.parse((await redis.get(`snap:${namespace}:${id}`))!)).toEqual({
      state: { conversationId: id, count: 3, last: 'question 3' },
      partition: records[2].partition,
      offset: records[2].offset,
    });
    // The same event at a later offset leaves the projection as it is: no reaction.
    await applyLogRecord(
      store,
      { ...records[2], offset: (BigInt(records[2].offset) + 1000n).toString() },
      async ({ after }) => void seen.push(after.count),
    );
    expect(seen).toEqual([3]);
  });

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
