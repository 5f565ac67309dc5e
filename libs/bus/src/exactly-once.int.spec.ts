/**
 * Exactly-once consumers on the real broker (Kafka transactions): what a handler publishes and
 * the offset past its record are committed together, so a process killed with SIGKILL between
 * publishing and committing leaves nothing a read-committed consumer sees, and the records it
 * handled last are handled again by its restart with their outputs published once.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { tracingChannel } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { create, InboundMessageSchema } from '@support/contracts';
import { Bus } from './bus';
import { afterTransaction } from './outbox';
import { startChild, testTopic } from './testing';
import type { TopicSpec } from './topics';

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const child = join(__dirname, '..', 'test', 'exactly-once-child.mjs');
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `groupId` has committed the end of every partition of `topic`, or `timeoutMs`. */
async function committedTheEnd(
  bus: Bus,
  groupId: string,
  topic: string,
  timeoutMs: number,
  who: string,
): Promise<void> {
  const admin = bus.kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const behind = async () => {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return ends.filter((end) => {
        const at = committed?.partitions.find((p) => p.partition === end.partition)?.offset;
        return BigInt(at ?? '-1') < BigInt(end.high);
      });
    };
    await until(
      async () => (await behind()).length === 0,
      timeoutMs,
      () => `${who} to commit the end of every partition`,
    );
  } finally {
    await admin.disconnect();
  }
}

/** Publishes each text as an inbound message on `topic`, keyed over `keys` keys. */
const sendTexts = (
  bus: Bus,
  topic: TopicSpec<typeof InboundMessageSchema>,
  texts: string[],
  keys: number,
) =>
  bus.publish(
    ...texts.map((text, i) => ({
      topic,
      key: `k${i % keys}`,
      value: create(InboundMessageSchema, { channel: 'web', text }),
    })),
  );

/** The copying process, and the lines it printed. */
const start = (args: string[]) => startChild(child, [brokers, ...args]);

describe('exactly-once consumers', () => {
  const procs: ChildProcess[] = [];
  const buses: Bus[] = [];
  const newBus = (service: string, extra: Partial<ConstructorParameters<typeof Bus>[0]> = {}) => {
    const bus = new Bus({ service, brokers: brokers.split(','), logger: quiet, ...extra });
    buses.push(bus);
    return bus;
  };
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(buses.map((b) => b.close()));
  });

  const readers = new Map<string, Bus>();

  /**
   * Waits until the reading group has committed the end of every partition of `topic`: past the
   * transactions' markers, which take offsets but reach no handler.
   */
  async function readToTheEnd(topic: TopicSpec<typeof InboundMessageSchema>) {
    const reader = readers.get(topic.name)!;
    await committedTheEnd(reader, `${reader.service}.read`, topic.name, 15_000, 'the reader');
  }

  /** Everything a read-committed consumer finds on `topic`, until `expected` records and a quiet second after. */
  async function readCommitted(topic: TopicSpec<typeof InboundMessageSchema>, expected: number) {
    const texts: string[] = [];
    const reader = newBus(`test-eos-reader-${randomUUID().slice(0, 8)}`);
    readers.set(topic.name, reader);
    await reader.consume({
      group: 'read',
      topic,
      handle: async (r) => void texts.push(r.value.text),
    });
    await until(
      () => texts.length >= expected,
      60_000,
      () => `${expected} records on ${topic.name} (${texts.length} read)`,
    );
    await new Promise((r) => setTimeout(r, 1_500));
    return texts;
  }

  it('publishes the outputs of records handled by processes killed before they committed once, when their restarts handle them again', async () => {
    const from = testTopic(`test.eos.in.${randomUUID()}`);
    const to = testTopic(`test.eos.out.${randomUUID()}`);
    const service = `test-eos-${randomUUID().slice(0, 8)}`;
    const producer = newBus('test-eos-producer');
    await producer.ensureTopics([from, to]);
    const sent = Array.from({ length: 300 }, (_, i) => `m${i}`);
    await sendTexts(producer, from, sent, 20);

    const handled = (lines: string[]) => lines.filter((l) => l !== 'joined').length;
    // Killed as its first transaction commits (a transaction left open, its records sent; on a
    // fresh broker that one may carry every record)...
    const first = start([from.name, to.name, service, 'copy-0', 'eos', '', '1']);
    procs.push(first.proc);
    await first.exited;
    // ... then in the handler of its 60th record, after publishing (nothing of it committed).
    const second = start([from.name, to.name, service, 'copy-0', 'eos', '60']);
    procs.push(second.proc);
    await second.exited;
    expect(handled(second.lines)).toBe(60);

    const third = start([from.name, to.name, service, 'copy-0', 'eos']);
    procs.push(third.proc);
    const texts = await readCommitted(to, sent.length * 2);
    // The restarts handled again what the killed processes had handled but not committed.
    const all = [first, second, third].reduce((n, p) => n + handled(p.lines), 0);
    expect(all).toBeGreaterThan(sent.length);
    expect(texts.length).toBe(sent.length * 2);
    expect(new Set(texts).size).toBe(sent.length * 2);
    expect([...texts].sort()).toEqual(sent.flatMap((t) => [`${t}#1`, `${t}#2`]).sort());
    await readToTheEnd(to);
  }, 120_000);

  it('publishes nothing of a handler attempt that failed: the retry that succeeds publishes once', async () => {
    const from = testTopic(`test.eos.retry.in.${randomUUID()}`);
    const to = testTopic(`test.eos.retry.out.${randomUUID()}`);
    const bus = newBus(`test-eos-retry-${randomUUID().slice(0, 8)}`, {
      retry: { initialBackoffMs: 50, maxBackoffMs: 50, maxAttempts: 5 },
    });
    await bus.ensureTopics([from, to]);
    const attempts = new Map<string, number>();
    await bus.consume({
      group: 'copy',
      topic: from,
      exactlyOnce: true,
      handle: async (r) => {
        await bus.publish({ topic: to, key: r.key, value: r.value });
        const n = (attempts.get(r.value.text) ?? 0) + 1;
        attempts.set(r.value.text, n);
        // Every third record fails on its first attempt, after it published.
        if (n === 1 && Number(r.value.text.slice(1)) % 3 === 0) throw new Error('not yet');
      },
    });
    const sent = Array.from({ length: 30 }, (_, i) => `r${i}`);
    await sendTexts(bus, from, sent, 5);
    const texts = await readCommitted(to, sent.length);
    expect([...texts].sort()).toEqual([...sent].sort());
    expect([...attempts.values()].filter((n) => n === 2)).toHaveLength(10);
  }, 90_000);

  it('runs what a handler left for after its transaction once the offset past its record is committed, and nothing of an attempt that failed', async () => {
    const from = testTopic(`test.eos.after.in.${randomUUID()}`);
    const to = testTopic(`test.eos.after.out.${randomUUID()}`);
    const bus = newBus(`test-eos-after-${randomUUID().slice(0, 8)}`, {
      retry: { initialBackoffMs: 50, maxBackoffMs: 50, maxAttempts: 5 },
    });
    await bus.ensureTopics([from, to]);
    // This group's transaction commits, from @platformatic/kafka's diagnostics channel: how many
    // have begun, and the latest (by the order they began) that the broker confirmed. (The
    // committed offsets an admin reads show up only once the broker has written the
    // transaction's markers, a moment after the commit returned.)
    const txns = { begun: 0, confirmed: 0 };
    const order = new WeakMap<object, number>();
    type Context = { operation: string; transaction?: { id: string }; error?: unknown };
    const ours = (c: Context) =>
      c.operation === 'commit' && c.transaction?.id.startsWith(`${bus.service}.copy:`);
    const counter = {
      start: (c: unknown) => void (ours(c as Context) && order.set(c as object, ++txns.begun)),
      asyncStart: (c: unknown) => {
        const n = order.get(c as object);
        if (n !== undefined && !(c as Context).error) txns.confirmed = Math.max(txns.confirmed, n);
      },
    };
    const channel = tracingChannel('plt:kafka:producer:transactions');
    channel.subscribe(counter);
    const attempts = new Map<string, number>();
    // Per record text: the attempt whose step ran, and whether its transaction had committed by then.
    const steps: { text: string; attempt: number; committed: boolean }[] = [];
    await bus.consume({
      group: 'copy',
      topic: from,
      exactlyOnce: true,
      handle: async (r) => {
        const n = (attempts.get(r.value.text) ?? 0) + 1;
        attempts.set(r.value.text, n);
        await bus.publish({ topic: to, key: r.key, value: r.value });
        const begunBefore = txns.begun;
        await afterTransaction(async () => {
          // A commit that began after this record was handled has been confirmed.
          steps.push({ text: r.value.text, attempt: n, committed: txns.confirmed > begunBefore });
        });
        // Every fourth record fails on its first attempt, after it published and left its step.
        if (n === 1 && Number(r.value.text.slice(1)) % 4 === 0) throw new Error('not yet');
      },
    });
    try {
      const sent = Array.from({ length: 24 }, (_, i) => `a${i}`);
      await sendTexts(bus, from, sent, 4);
      const texts = await readCommitted(to, sent.length);
      expect([...texts].sort()).toEqual([...sent].sort());
      await until(
        () => steps.length >= sent.length,
        15_000,
        () => `${sent.length} steps (${steps.length} ran)`,
      );
      expect(steps.map((s) => s.text).sort()).toEqual([...sent].sort());
      expect(steps.every((s) => s.committed)).toBe(true);
      // The failed first attempts left nothing: each of those records' step is its retry's.
      expect(steps.filter((s) => s.attempt === 2)).toHaveLength(6);
      await committedTheEnd(bus, `${bus.service}.copy`, from.name, 10_000, 'the copying group');
    } finally {
      channel.unsubscribe(counter);
    }
  }, 90_000);

  it('holds what a batch handler published for the transaction of its records; a batch that threw publishes nothing, and its records handled alone publish once', async () => {
    const from = testTopic(`test.eos.batch.in.${randomUUID()}`);
    const to = testTopic(`test.eos.batch.out.${randomUUID()}`);
    const bus = newBus(`test-eos-batch-${randomUUID().slice(0, 8)}`);
    await bus.ensureTopics([from, to]);
    let batches = 0;
    let failed = 0;
    const copy = (r: { key: string; value: { text: string } }) =>
      bus.publish({
        topic: to,
        key: r.key,
        value: create(InboundMessageSchema, { channel: 'web', text: r.value.text }),
      });
    await bus.consume({
      group: 'copy',
      topic: from,
      exactlyOnce: true,
      handle: copy,
      handleBatch: async (records) => {
        batches++;
        for (const r of records) await copy(r);
        // The first batch holding a multiple of 7 fails after it published everything.
        if (!failed && records.some((r) => Number(r.value.text.slice(1)) % 7 === 0)) {
          failed++;
          throw new Error('batch failed');
        }
      },
    });
    const sent = Array.from({ length: 200 }, (_, i) => `b${i}`);
    await sendTexts(bus, from, sent, 3);
    const texts = await readCommitted(to, sent.length);
    expect(batches).toBeGreaterThan(1);
    expect(failed).toBe(1);
    expect([...texts].sort()).toEqual([...sent].sort());
  }, 90_000);

  it("commits what a punctuation (work outside any record) publishes in its partition's next transaction, with no record after it; nothing of one that threw", async () => {
    const from = testTopic(`test.eos.punct.in.${randomUUID()}`);
    const to = testTopic(`test.eos.punct.out.${randomUUID()}`);
    const bus = newBus(`test-eos-punct-${randomUUID().slice(0, 8)}`);
    await bus.ensureTopics([from, to]);
    const seen: { partition: number; offset: string; key: string }[] = [];
    const consumer = await bus.consume({
      group: 'copy',
      topic: from,
      exactlyOnce: true,
      // The records publish nothing: only the punctuations below do.
      handle: async (r) => void seen.push({ partition: r.partition, offset: r.offset, key: r.key }),
    });
    const sent = Array.from({ length: 6 }, (_, i) => `p${i}`);
    await sendTexts(bus, from, sent, sent.length);
    await until(
      () => seen.length >= sent.length,
      30_000,
      () => `${sent.length} records handled (${seen.length})`,
    );
    // Their offsets committed (plainly, since they published nothing): nothing new to commit.
    await committedTheEnd(bus, `${bus.service}.copy`, from.name, 10_000, 'the copying group');
    const text = (t: string) => create(InboundMessageSchema, { channel: 'web', text: t });
    const [first] = seen;
    await expect(
      consumer.punctuate(first.partition, BigInt(first.offset), async () => {
        await bus.publish({ topic: to, key: first.key, value: text('of a failed punctuation') });
        throw new Error('failed punctuation');
      }),
    ).rejects.toThrow('failed punctuation');
    await expect(consumer.punctuate(99, 0n, async () => undefined)).rejects.toThrow(
      'partition 99 is not assigned',
    );
    const steps: string[] = [];
    for (const s of seen)
      await consumer.punctuate(s.partition, BigInt(s.offset), async () => {
        await bus.publish({ topic: to, key: s.key, value: text(`after ${s.key}`) });
        await afterTransaction(async () => void steps.push(s.key));
      });
    const texts = await readCommitted(to, seen.length);
    const expected = seen.map((s) => `after ${s.key}`).sort();
    expect([...texts].sort()).toEqual(expected);
    expect(steps.map((k) => `after ${k}`).sort()).toEqual(expected);
    await committedTheEnd(bus, `${bus.service}.copy`, from.name, 10_000, 'the copying group');

    const plain = newBus(`test-eos-punct-plain-${randomUUID().slice(0, 8)}`);
    const notExactlyOnce = await plain.consume({
      group: 'plain',
      topic: from,
      handle: async () => undefined,
    });
    await expect(notExactlyOnce.punctuate(0, 0n, async () => undefined)).rejects.toThrow(
      'not exactly-once',
    );
  }, 90_000);

  it('commits, between full commits, only the offsets of partitions whose records published (in their transactions), not a plain commit beside each', async () => {
    const from = testTopic(`test.eos.linger.in.${randomUUID()}`);
    const to = testTopic(`test.eos.linger.out.${randomUUID()}`);
    const bus = newBus(`test-eos-linger-${randomUUID().slice(0, 8)}`);
    await bus.ensureTopics([from, to]);
    const group = `${bus.service}.copy`;
    // Requests of this group's client, from @platformatic/kafka's diagnostics channels.
    const counts = { plain: 0, transactions: 0 };
    const commits = tracingChannel('plt:kafka:consumer:commits');
    const transactions = tracingChannel('plt:kafka:producer:transactions');
    type Context = { client: { groupId?: string; transactionalId?: string }; operation: string };
    const plain = {
      start: (c: unknown) => void ((c as Context).client.groupId === group && counts.plain++),
    };
    const ended = {
      start: (c: unknown) => {
        const { operation, transaction } = c as Context & { transaction?: { id: string } };
        if (operation === 'commit' && transaction?.id.startsWith(`${group}:`))
          counts.transactions++;
      },
    };
    commits.subscribe(plain);
    transactions.subscribe(ended);
    try {
      await bus.consume({
        group: 'copy',
        topic: from,
        exactlyOnce: true,
        // One record in three publishes; the others publish nothing.
        handle: async (r) => {
          if (Number(r.value.text.slice(1)) % 3 === 0)
            await bus.publish({ topic: to, key: r.key, value: r.value });
        },
      });
      // Joined first: records gathered while it joins would come in one batch, one transaction.
      await until(
        () => bus.health().ok,
        30_000,
        () => 'the copying group to join',
      );
      const sent = Array.from({ length: 60 }, (_, i) => `l${i}`);
      const started = Date.now();
      // Two at a time, over every partition.
      for (let i = 0; i < sent.length; i += 2) {
        await bus.publish(
          ...sent.slice(i, i + 2).map((text, k) => ({
            topic: from,
            key: `k${(i + k) % 12}`,
            value: create(InboundMessageSchema, { channel: 'web', text }),
          })),
        );
        await new Promise((r) => setTimeout(r, 40));
      }
      const texts = await readCommitted(to, 20);
      const seconds = (Date.now() - started) / 1000;
      expect([...texts].sort()).toEqual(sent.filter((_, i) => i % 3 === 0).sort());
      // A transaction every few milliseconds while records publish; plain commits about once a
      // second (before, one beside nearly every transaction).
      expect(counts.transactions).toBeGreaterThanOrEqual(10);
      expect(counts.plain).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
      await readToTheEnd(to);
      // Every partition's offset committed, in the transactions (several partitions in one
      // request) or the plain commits.
      await committedTheEnd(bus, group, from.name, 10_000, 'the copying group');
    } finally {
      commits.unsubscribe(plain);
      transactions.unsubscribe(ended);
    }
  }, 90_000);
});
