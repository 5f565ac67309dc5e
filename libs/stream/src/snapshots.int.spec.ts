import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ConversationEventSchema } from '@support/contracts';
import type { Incoming } from '@support/bus';
import { conversationEvent, evolve, fold } from '@support/conversation';
import { applyLogRecord, type Applied } from './apply';
import { SnapshotStore } from './snapshots';
import { once } from './once';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
afterAll(() => redis.quit());

function record(
  conversationId: string,
  offset: number,
  text: string,
  eventId = `e-${offset}`,
): Incoming<typeof ConversationEventSchema> {
  const value = conversationEvent(
    conversationId,
    eventId,
    'customerMessageReceived',
    {
      messageId: `m-${offset}`,
      channel: 'web',
      externalConversationId: 'x',
      customerId: 'c',
      text,
      locale: 'en',
      pageUrl: '',
      idempotencyKey: `k-${offset}`,
      accountId: '',
      sentAt: '',
    },
    `2026-01-01T00:00:${String(offset % 60).padStart(2, '0')}Z`,
  );
  return {
    topic: 'conversation.events',
    partition: 2,
    offset: String(offset),
    key: conversationId,
    value,
    meta: {} as never,
    raw: {} as never,
  };
}

describe('snapshots in Redis', () => {
  it('applies each offset at most once and reacts only to new events', async () => {
    const store = new SnapshotStore(redis, `test-${randomUUID()}`);
    const id = randomUUID();
    const reactions: Applied[] = [];
    const react = async (a: Applied) => void reactions.push(a);
    await applyLogRecord(store, record(id, 10, 'first'), react);
    await applyLogRecord(store, record(id, 11, 'second'), react);
    await applyLogRecord(store, record(id, 11, 'second'), react); // redelivered offset
    await applyLogRecord(store, record(id, 12, 'second', 'e-11'), react); // same event written twice
    const snap = await store.get(id);
    expect(snap?.offset).toBe('12');
    expect(snap?.state.messages.map((m) => m.text)).toEqual(['first', 'second']);
    expect(reactions.map((r) => r.record.offset)).toEqual(['10', '11']);
    expect(snap?.state).toEqual(
      fold(id, [record(id, 10, 'first').value, record(id, 11, 'second').value]),
    );
    expect(await store.flush()).toBe(1);
    expect(await store.clear()).toBe(1);
    expect(await store.get(id)).toBeUndefined();
  });

  it('replays the reaction after a crash between reaction and snapshot, never losing it', async () => {
    const store = new SnapshotStore(redis, `test-${randomUUID()}`);
    const id = randomUUID();
    let calls = 0;
    await expect(
      applyLogRecord(store, record(id, 1, 'q'), async () => {
        calls++;
        throw new Error('crash before the snapshot is saved');
      }),
    ).rejects.toThrow();
    expect(await store.get(id)).toBeUndefined();
    await applyLogRecord(store, record(id, 1, 'q'), async () => void calls++);
    expect(calls).toBe(2);
    expect((await store.get(id))?.offset).toBe('1');
  });

  it('checkpoints to Redis only on flush, keeping what changed during a flush for the next one', async () => {
    const namespace = `test-${randomUUID()}`;
    const store = new SnapshotStore(redis, namespace);
    const other = () => new SnapshotStore(redis, namespace); // another replica, reading Redis
    const [a, b] = [randomUUID(), randomUUID()];
    const react = async () => undefined;
    await applyLogRecord(store, record(a, 1, 'a1'), react);
    await applyLogRecord(store, record(b, 2, 'b1'), react);
    expect(store.unflushed).toBe(2);
    expect(await other().get(a)).toBeUndefined();
    expect((await store.get(a))?.offset).toBe('1'); // this process reads its own at once

    const flushing = store.flush();
    await applyLogRecord(store, record(a, 3, 'a2'), react); // while the batch is on its way
    expect(await flushing).toBe(2);
    expect((await other().get(a))?.offset).toBe('1');
    expect((await other().get(b))?.offset).toBe('2');
    expect(store.unflushed).toBe(1);
    expect(await store.flush()).toBe(1);
    expect((await other().get(a))?.state.messages.map((m) => m.text)).toEqual(['a1', 'a2']);
    expect(await store.flush()).toBe(0);
    await store.clear();
  });

  it("checkpoints an exactly-once consumer's snapshots only as far as its committed offsets", async () => {
    const namespace = `test-${randomUUID()}`;
    const store = new SnapshotStore(redis, namespace);
    const other = () => new SnapshotStore(redis, namespace);
    const [a, b] = [randomUUID(), randomUUID()];
    const react = async () => undefined;
    // Caught up (a restore marks the partition intact before its first record).
    await store.markPartitionIntact(2, 10n);
    await applyLogRecord(store, record(a, 10, 'a1'), react);
    await applyLogRecord(store, record(b, 11, 'b1'), react);
    await applyLogRecord(store, record(b, 13, 'b2'), react); // not committed yet

    // Committed up to 12 (next to read): a is written; b holds 13, so it waits, and the
    // partition's checkpoint stays at b's first record not in Redis (11).
    expect(await store.flushCommitted(new Map([[2, 12n]]))).toBe(1);
    expect((await other().get(a))?.offset).toBe('10');
    expect(await other().get(b)).toBeUndefined();
    expect(await store.checkpoint(2)).toBe(11n);
    expect(store.unflushed).toBe(1);

    expect(await store.flushCommitted(new Map([[2, 14n]]))).toBe(1);
    expect((await other().get(b))?.state.messages.map((m) => m.text)).toEqual(['b1', 'b2']);
    expect(await store.checkpoint(2)).toBe(14n);

    // A partition lost: what this process held of it goes, and it no longer checkpoints it.
    await applyLogRecord(store, record(a, 15, 'a2'), react);
    store.forgetPartitions(new Set([0, 1]));
    expect(store.unflushed).toBe(0);
    expect(await store.flushCommitted(new Map([[2, 16n]]))).toBe(0);
    expect(await store.checkpoint(2)).toBe(14n);
    expect((await store.get(a))?.offset).toBe('10');
    await store.clear();
  });

  it('moves no checkpoint that Redis lost, so a snapshot lost with it is missed (and restored from the log), not started afresh', async () => {
    const namespace = `test-${randomUUID()}`;
    const store = new SnapshotStore(redis, namespace);
    const [a, b] = [randomUUID(), randomUUID()];
    const react = async () => undefined;
    await store.markPartitionIntact(2, 30n);
    await applyLogRecord(store, record(a, 30, 'a1'), react);
    await applyLogRecord(store, record(b, 31, 'b1'), react);
    expect(await store.flushCommitted(new Map([[2, 32n]]))).toBe(2);
    expect(await store.partitionIntact(2)).toBe(true);

    // Redis loses everything; this process still holds b (a record of it came since), not a.
    await redis.del(
      `snap:${namespace}:${a}`,
      `snap:${namespace}:${b}`,
      `snap-partition:${namespace}:2`,
    );
    store.clearCache();
    await applyLogRecord(store, record(b, 33, 'b2'), react);
    expect(await store.flushCommitted(new Map([[2, 34n]]))).toBe(1);
    // Had the mark come back, a's next record would start from nothing, its first message lost.
    expect(await store.partitionIntact(2)).toBe(false);
    expect(await store.checkpoint(2)).toBeUndefined();
    await store.clear();
  });

  it("checkpoints a punctuation's change only once its transaction has committed (settle)", async () => {
    const namespace = `test-${randomUUID()}`;
    const store = new SnapshotStore(redis, namespace);
    const other = () => new SnapshotStore(redis, namespace);
    const [a, b] = [randomUUID(), randomUUID()];
    const react = async () => undefined;
    await store.markPartitionIntact(2, 20n);
    await applyLogRecord(store, record(a, 20, 'a1'), react);
    await applyLogRecord(store, record(b, 21, 'b1'), react);
    expect(await store.flushCommitted(new Map([[2, 22n]]))).toBe(2);

    // A timer's decision on a: folded at once (the next record sees it), not yet committed.
    const decided = await store.get(a);
    const changed = { ...decided!, state: evolve(decided!.state, record(a, 23, 'decided').value) };
    await store.putUnsettled(changed);
    await applyLogRecord(store, record(b, 24, 'b2'), react);
    expect(await store.flushCommitted(new Map([[2, 25n]]))).toBe(1);
    expect((await other().get(a))?.state.messages.map((m) => m.text)).toEqual(['a1']);
    // The checkpoint stays behind a's change (its first record since the last write, 20).
    expect(await store.checkpoint(2)).toBe(20n);
    // A record of a after it holds the change too, and waits with it.
    await applyLogRecord(store, record(a, 26, 'a2'), react);
    expect(await store.flushCommitted(new Map([[2, 27n]]))).toBe(0);
    expect((await store.get(a))?.state.messages.map((m) => m.text)).toEqual([
      'a1',
      'decided',
      'a2',
    ]);

    store.settle(a);
    expect(await store.flushCommitted(new Map([[2, 27n]]))).toBe(1);
    expect((await other().get(a))?.state.messages.map((m) => m.text)).toEqual([
      'a1',
      'decided',
      'a2',
    ]);
    expect(await store.checkpoint(2)).toBe(27n);
    await store.clear();
  });

  it('lets quiet conversations leave memory, and reads them back from their checkpoint', async () => {
    let now = 0;
    const store = new SnapshotStore(redis, `test-${randomUUID()}`, undefined, {
      size: 3,
      idleSeconds: 60,
      now: () => now,
    });
    const react = async () => undefined;
    const [quiet, busy] = [randomUUID(), randomUUID()];
    await applyLogRecord(store, record(quiet, 1, 'q1'), react);
    now = 30_000;
    await applyLogRecord(store, record(busy, 2, 'b1'), react);
    expect(store.cached).toBe(2);

    now = 61_000; // the quiet one was last put 61 s ago, the busy one 31 s ago
    await applyLogRecord(store, record(busy, 3, 'b2'), react);
    expect(store.cached).toBe(1);
    // Not flushed yet: the dirty snapshot is still this process's to give.
    expect((await store.get(quiet))?.offset).toBe('1');
    await store.flush();
    now = 200_000;
    await applyLogRecord(store, record(quiet, 4, 'q2'), react); // it writes again: from Redis
    expect((await store.get(quiet))?.state.messages.map((m) => m.text)).toEqual(['q1', 'q2']);
    expect(store.cached).toBe(1); // the busy one went quiet meanwhile

    for (let i = 0; i < 5; i++)
      await applyLogRecord(store, record(randomUUID(), 10 + i, 'x'), react);
    expect(store.cached).toBe(3); // and never more than its size
    await store.clear();
  });

  it('keeps snapshots dirty when Redis refuses the checkpoint', async () => {
    const namespace = `test-${randomUUID()}`;
    const broken = redis.duplicate();
    const store = new SnapshotStore(broken, namespace);
    const id = randomUUID();
    await applyLogRecord(store, record(id, 1, 'q'), async () => undefined);
    await broken.quit();
    await expect(store.flush()).rejects.toThrow();
    expect(store.unflushed).toBe(1);
    expect((await store.get(id))?.offset).toBe('1');
  });

  it('runs an idempotent side effect once per key, and again if it failed', async () => {
    const key = `test:${randomUUID()}`;
    let effects = 0;
    await expect(once(redis, key, async () => Promise.reject(new Error('down')))).rejects.toThrow(
      'down',
    );
    expect(await once(redis, key, async () => void effects++)).toBe(true);
    expect(await once(redis, key, async () => void effects++)).toBe(false);
    expect(effects).toBe(1);
  });
});
