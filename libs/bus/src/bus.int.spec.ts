/**
 * Against the real broker that deploy/local/infra.sh runs (the Kafka release
 * pinned in deploy/local/kafka/pom.xml): everything the bus needs from kafkajs.
 */
import { randomUUID } from 'node:crypto';
import { tracingChannel } from 'node:diagnostics_channel';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Producer } from '@platformatic/kafka';
import {
  create,
  fromBinary,
  toBinary,
  DeadLetterSchema,
  InboundMessageSchema,
} from '@support/contracts';
import { raiseMaxMessageBytes, TopicWatcher, type WatchedRecord } from '@support/testing';
import { Bus } from './bus';
import { InvalidRecordError, type Incoming } from './consumer';
import { deadLetterId } from './dead-letter';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, RecordTooLargeError } from './size';
import { AllTopics, CrashMarksTopic, type TopicSpec } from './topics';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const root = join(__dirname, '..', '..', '..');
const MiB = 1024 * 1024;

function tempTopics(): {
  topic: TopicSpec<typeof InboundMessageSchema>;
  dlq: TopicSpec<typeof DeadLetterSchema>;
} {
  const name = `test.bus.${randomUUID()}`;
  const base = {
    partitions: 3,
    retentionMs: 3_600_000,
    cleanupPolicy: 'delete' as const,
    external: false,
    description: 'test',
    key: 'test',
    // As the catalogue: Kafka's default. Larger records get there only once a test raises the limit.
    maxMessageBytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
  };
  return {
    topic: { ...base, name, schema: InboundMessageSchema, deadLetter: `${name}.dlq` },
    dlq: { ...base, name: `${name}.dlq`, schema: DeadLetterSchema },
  };
}

const inbound = (text: string) =>
  create(InboundMessageSchema, {
    channel: 'web',
    externalConversationId: 'x',
    customerId: 'c',
    text,
    idempotencyKey: randomUUID(),
  });

/** Publication order of the batch test's texts. */
const seq = (text: string) =>
  text === 'last' ? 99 : text.startsWith('a') ? Number(text.slice(1)) : 20 + Number(text.slice(1));

async function until<T>(fn: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('bus on the real broker', () => {
  const buses: Bus[] = [];
  const newBus = (opts: Partial<ConstructorParameters<typeof Bus>[0]> = {}) => {
    const bus = new Bus({
      service: `test-${randomUUID().slice(0, 8)}`,
      brokers,
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      ...opts,
    });
    buses.push(bus);
    return bus;
  };
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    await Promise.allSettled(stops.map((stop) => stop()));
    await Promise.all(buses.map((b) => b.close()));
  });

  it('runs against the Kafka release pinned in the pom', () => {
    const pom = readFileSync(join(root, 'deploy/local/kafka/pom.xml'), 'utf8');
    const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    const jars = readdirSync(join(root, 'deploy/local/.cache/kafka-libs'));
    expect(jars).toContain(`kafka_2.13-${version}.jar`);
  });

  it('creates the catalogued topics idempotently, keeping the log forever', async () => {
    const bus = newBus();
    await bus.ensureTopics();
    await bus.ensureTopics();
    const admin = bus.kafka.admin();
    await admin.connect();
    const topics = await admin.listTopics();
    for (const t of AllTopics) expect(topics).toContain(t.name);
    const configNames = ['retention.ms', 'cleanup.policy', 'max.message.bytes'];
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: ['conversation.events', 'conversation.events.dlq', CrashMarksTopic.name].map(
        (name) => ({ type: 2, name, configNames }),
      ),
    });
    const [log, dlq, marks] = configs.resources.map((r) =>
      Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
    );
    expect(log).toMatchObject({ 'retention.ms': '-1', 'cleanup.policy': 'delete' });
    // Dead-letter topics take twice their topic's records; crash marks are compacted.
    expect(dlq).toEqual({
      'retention.ms': String(30 * 86_400_000),
      'cleanup.policy': 'delete',
      'max.message.bytes': '2097176',
    });
    expect(marks).toEqual({
      'retention.ms': '-1',
      'cleanup.policy': 'compact',
      'max.message.bytes': '1048588',
    });
    await admin.disconnect();
  });

  it('publishes protobuf with the standard headers and consumes it decoded', async () => {
    const { topic, dlq } = tempTopics();
    const bus = newBus();
    await bus.ensureTopics([topic, dlq]);
    const got: Incoming<typeof InboundMessageSchema>[] = [];
    await bus.consume({ group: 'g', topic, handle: async (r) => void got.push(r) });
    await bus.publish({
      topic,
      key: 'k1',
      value: inbound('hello'),
      eventId: 'evt-1',
      correlationId: 'corr-1',
      causationId: 'cause-1',
    });
    const r = await until(() => got[0]);
    expect(r.value.text).toBe('hello');
    expect(r.meta).toMatchObject({
      eventId: 'evt-1',
      eventType: 'support.v1.InboundMessage',
      schemaVersion: 'support.v1',
      correlationId: 'corr-1',
      causationId: 'cause-1',
      producer: bus.service,
    });
    expect(Date.parse(r.meta.time)).not.toBeNaN();
  });

  it('hands its handler no record of an aborted transaction, however many a producer aborted', async () => {
    const { topic, dlq } = tempTopics();
    const bus = newBus();
    await bus.ensureTopics([topic, dlq]);
    // One transactional id aborts three times in a row (as after failed commits), then commits.
    const producer = new Producer({
      clientId: 'test-aborts',
      bootstrapBrokers: brokers,
      transactionalId: `test-aborts-${randomUUID()}`,
      idempotent: true,
      producerId: -1n,
      producerEpoch: -1,
    });
    stops.push(() => producer.close());
    for (const [text, commit] of [
      ['aborted-1', false],
      ['aborted-2', false],
      ['aborted-3', false],
      ['committed', true],
    ] as const) {
      const transaction = await producer.beginTransaction();
      await transaction.send({
        messages: [
          {
            topic: topic.name,
            partition: 0,
            key: Buffer.from('k'),
            value: Buffer.from(toBinary(InboundMessageSchema, inbound(text))),
          },
        ],
      });
      await (commit ? transaction.commit() : transaction.abort());
    }
    const got: string[] = [];
    await bus.consume({ group: 'g', topic, handle: async (r) => void got.push(r.value.text) });
    await bus.publish({ topic, key: 'k', value: inbound('after') });
    await until(() => (got.includes('after') ? true : undefined));
    expect(got).toEqual(['committed', 'after']);
  });

  it('lets a reader in no hurry (fetchWaitMs) take the same records in far fewer fetches', async () => {
    const { topic, dlq } = tempTopics();
    const bus = newBus();
    await bus.ensureTopics([topic, dlq]);
    // Fetch requests per group, from @platformatic/kafka's diagnostics channel.
    const fetches = new Map<string, number>();
    const channel = tracingChannel('plt:kafka:consumer:fetches');
    const counter = {
      start: (c: unknown) => {
        const { groupId } = (c as { client: { groupId: string } }).client;
        fetches.set(groupId, (fetches.get(groupId) ?? 0) + 1);
      },
    };
    channel.subscribe(counter);
    try {
      const got = { prompt: [] as string[], leisurely: [] as string[] };
      await bus.consume({
        group: 'prompt',
        topic,
        handle: async (r) => void got.prompt.push(r.value.text),
      });
      await bus.consume({
        group: 'leisurely',
        topic,
        fetchWaitMs: 300,
        handle: async (r) => void got.leisurely.push(r.value.text),
      });
      await until(() => (bus.health().ok ? true : undefined));
      fetches.clear();
      // One record every 25 ms for 2.5 s, as a quiet log gets them.
      const sent = Array.from({ length: 100 }, (_, i) => `f${i}`);
      for (const text of sent) {
        await bus.publish({ topic, key: text, value: inbound(text) });
        await new Promise((r) => setTimeout(r, 25));
      }
      await until(() => (got.leisurely.length === sent.length ? true : undefined));
      await until(() => (got.prompt.length === sent.length ? true : undefined));
      expect([...got.leisurely].sort()).toEqual([...sent].sort());
      const prompt = fetches.get(`${bus.service}.prompt`) ?? 0;
      const leisurely = fetches.get(`${bus.service}.leisurely`) ?? 0;
      // The prompt group fetches about once per record; the other about every 300 ms.
      expect(prompt).toBeGreaterThan(40);
      expect(leisurely).toBeLessThan(prompt / 3);
    } finally {
      channel.unsubscribe(counter);
    }
  });

  it('warns once about a handler still running after slowHandlerMs, naming its record', async () => {
    const { topic, dlq } = tempTopics();
    const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
    const bus = newBus({
      slowHandlerMs: 150,
      logger: {
        log: () => undefined,
        warn: (msg, fields) => void warnings.push({ msg, fields }),
        error: () => undefined,
      },
    });
    await bus.ensureTopics([topic, dlq]);
    const done: string[] = [];
    await bus.consume({
      group: 'g',
      topic,
      handle: async (r) => {
        if (r.value.text === 'slow') await new Promise((res) => setTimeout(res, 700));
        done.push(r.value.text);
      },
    });
    await bus.publish({ topic, key: 'k', value: inbound('slow') });
    await bus.publish({ topic, key: 'k', value: inbound('quick') });
    await until(() => (done.length === 2 ? true : undefined));
    const slow = warnings.filter((w) => w.msg.startsWith('handler still running'));
    expect(slow).toHaveLength(1);
    expect(slow[0].fields).toMatchObject({
      topic: topic.name,
      partition: expect.any(Number),
      offset: expect.any(String),
      eventType: 'support.v1.InboundMessage',
    });
    // About the threshold: a timer counts from the event loop's clock, which may stand a
    // moment behind the Date.now() read as the handler started (CI once logged 149).
    expect(slow[0].fields!.ms).toBeGreaterThanOrEqual(140);
    expect(slow[0].fields!.ms).toBeLessThan(700);
  });

  it('dead-letters undecodable and invalid records with the reason and original bytes, and keeps consuming', async () => {
    const { topic, dlq } = tempTopics();
    const bus = newBus();
    await bus.ensureTopics([topic, dlq]);
    const got: string[] = [];
    await bus.consume({
      group: 'g',
      topic,
      validate: (m) => (m.text === 'invalid' ? 'text: rejected by test rule' : undefined),
      handle: async (r) => {
        if (r.value.text === 'handler-rejects') throw new InvalidRecordError('handler said no');
        got.push(r.value.text);
      },
    });
    const letters: { reason: string; value: Buffer }[] = [];
    await bus.consume({
      group: 'dlq',
      topic: dlq,
      handle: async (r) =>
        void letters.push({ reason: r.value.reason, value: Buffer.from(r.value.originalValue) }),
    });
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    await bus.publishRaw(topic.name, 'same-key', garbage);
    await bus.publish({ topic, key: 'same-key', value: inbound('invalid') });
    await bus.publish({ topic, key: 'same-key', value: inbound('handler-rejects') });
    await bus.publish({ topic, key: 'same-key', value: inbound('after') });
    await until(() => (got.includes('after') && letters.length === 3 ? true : undefined));
    expect(letters[0].reason).toMatch(/^undecodable support.v1.InboundMessage/);
    expect(letters[0].value).toEqual(garbage);
    expect(letters[1].reason).toBe(
      'invalid support.v1.InboundMessage: text: rejected by test rule',
    );
    expect(letters[2].reason).toBe('handler said no');
    expect(fromBinary(InboundMessageSchema, letters[1].value).text).toBe('invalid');
    expect(got).toEqual(['after']);
    expect(bus.stats.deadLettered).toBe(3);
  });

  it('handles other keys of a partition beside a slow record, each key in order, dead-letters a bad one once, and commits only past records all done', async () => {
    const { topic, dlq } = tempTopics();
    const single = { ...topic, partitions: 1 };
    const bus = newBus({ retry: { maxAttempts: 2, initialBackoffMs: 20, maxBackoffMs: 50 } });
    await bus.ensureTopics([single, dlq]);
    // Published before the group joins, so that they wait in the lane together.
    const sent = ['a1', 'b1', 'b2', 'a2', 'c1', 'c-bad', 'c2', 'b3'];
    for (const text of sent)
      await bus.publish({ topic: single, key: text.slice(0, 1), value: inbound(text) });
    const started: string[] = [];
    const done: string[] = [];
    let releaseA!: () => void;
    const aMayFinish = new Promise<void>((resolve) => (releaseA = resolve));
    await bus.consume({
      group: 'g',
      topic: single,
      parallelKeys: 8,
      handle: async (r) => {
        const text = r.value.text;
        started.push(text);
        if (text === 'c-bad') throw new InvalidRecordError('c-bad is not acceptable');
        // a1 is slow: it ends only once b's records and c1 are done, which only records of its
        // partition handled beside it can do (one at a time, this test would time out). c-bad is
        // handled alone once nothing is in flight, so c2 comes after a1.
        if (text === 'a1') await aMayFinish;
        done.push(text);
        if (['b1', 'b2', 'b3', 'c1'].every((t) => done.includes(t))) releaseA();
      },
    });
    const letters: string[] = [];
    await bus.consume({
      group: 'dlq',
      topic: dlq,
      handle: async (r) => void letters.push(r.value.reason),
    });
    await until(() => (done.length === 7 && letters.length === 1 ? true : undefined));
    expect(done.indexOf('a1')).toBeGreaterThan(done.indexOf('b3'));
    expect(done.indexOf('c2')).toBeGreaterThan(done.indexOf('a1'));
    // Each key in order, and every record handled once (the bad one tried alone, then dead-lettered).
    for (const key of ['a', 'b', 'c']) {
      const ofKey = sent.filter((t) => t.startsWith(key) && t !== 'c-bad');
      expect(done.filter((t) => t.startsWith(key))).toEqual(ofKey);
    }
    expect(letters).toEqual(['c-bad is not acceptable']);
    expect(started.filter((t) => t === 'c-bad')).toHaveLength(2);
    expect(started.filter((t) => t !== 'c-bad').sort()).toEqual(
      sent.filter((t) => t !== 'c-bad').sort(),
    );
    // Everything was committed: the group's next member reads only what comes after.
    await bus.close();
    const next = newBus({ service: bus.service });
    const after: string[] = [];
    await next.consume({
      group: 'g',
      topic: single,
      parallelKeys: 8,
      handle: async (r) => void after.push(r.value.text),
    });
    await next.publish({ topic: single, key: 'z', value: inbound('z1') });
    await until(() => (after.includes('z1') ? true : undefined));
    expect(after).toEqual(['z1']);
  });

  it('hands a batch handler many records at once, and lets the one-record path take bad records and failed batches', async () => {
    const { topic, dlq } = tempTopics();
    const bus = newBus({ retry: { maxAttempts: 2, initialBackoffMs: 20, maxBackoffMs: 50 } });
    await bus.ensureTopics([topic, dlq]);
    // Published before the group joins, so that they wait together.
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    for (let i = 0; i < 20; i++) await bus.publish({ topic, key: 'k', value: inbound(`a${i}`) });
    await bus.publishRaw(topic.name, 'k', garbage);
    for (let i = 0; i < 5; i++) await bus.publish({ topic, key: 'k', value: inbound(`b${i}`) });
    await bus.publish({ topic, key: 'k', value: inbound('poison') });
    await bus.publish({ topic, key: 'k', value: inbound('last') });
    const batches: string[][] = [];
    const alone: string[] = [];
    await bus.consume({
      group: 'g',
      topic,
      handle: async (r) => {
        if (r.value.text === 'poison') throw new Error('cannot handle this one');
        alone.push(r.value.text);
      },
      handleBatch: async (records) => {
        const texts = records.map((r) => r.value.text);
        if (texts.includes('poison')) throw new Error('batch with poison');
        batches.push(texts);
      },
    });
    const letters: string[] = [];
    await bus.consume({
      group: 'dlq',
      topic: dlq,
      handle: async (r) => void letters.push(r.value.reason),
    });
    const handled = () => [...batches.flat(), ...alone];
    await until(() => (handled().includes('last') && letters.length === 2 ? true : undefined));
    // Every good record once, in order, most of them in batches of more than one.
    const order = handled().sort((x, y) => seq(x) - seq(y));
    expect(order).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `a${i}`),
      ...Array.from({ length: 5 }, (_, i) => `b${i}`),
      'last',
    ]);
    expect(new Set(handled()).size).toBe(handled().length);
    expect(batches.some((b) => b.length > 1)).toBe(true);
    expect(letters[0]).toMatch(/^undecodable/);
    expect(letters[1]).toBe('handler failed 2 times: cannot handle this one');
    expect(bus.stats.handled).toBeGreaterThanOrEqual(26);
  });

  it('fails only the caller whose record the broker refuses as too large, keeps publishing, and learns the limit', async () => {
    const { topic, dlq } = tempTopics();
    const bus = newBus();
    await bus.ensureTopics([topic, dlq]);
    // A topic the bus has not been told of, which takes less than Kafka's default.
    const small = `test.bus.small.${randomUUID()}`;
    const admin = bus.kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: small,
          numPartitions: 1,
          configEntries: [{ name: 'max.message.bytes', value: '100000' }],
        },
      ],
    });
    await admin.disconnect();
    const got: string[] = [];
    await bus.consume({ group: 'g', topic, handle: async (r) => void got.push(r.value.text) });
    // The first goes out at once; the other two share the next request.
    const [before, big, along] = await Promise.allSettled([
      bus.publish({ topic, key: 'a', value: inbound('before') }),
      bus.publishRaw(small, 'big', Buffer.alloc(200_000, 1)),
      bus.publish({ topic, key: 'b', value: inbound('along') }),
    ]);
    expect(big).toMatchObject({ status: 'rejected' });
    expect((big as PromiseRejectedResult).reason).toBeInstanceOf(RecordTooLargeError);
    expect([before.status, along.status]).toEqual(['fulfilled', 'fulfilled']);
    await bus.publish({ topic, key: 'c', value: inbound('after') });
    await until(() =>
      ['before', 'along', 'after'].every((t) => got.includes(t)) ? true : undefined,
    );

    // Told of the topic with a larger limit than it has, the bus keeps to the actual one.
    await bus.ensureTopics([{ ...topic, name: small, maxMessageBytes: 1048588 }]);
    expect(bus.limitOf(small)).toBe(100000);
    await expect(bus.publishRaw(small, 'big', Buffer.alloc(200_000, 1))).rejects.toThrow(
      `does not fit topic ${small} (max.message.bytes 100000)`,
    );
  });

  it('contains bad records: two groups in one process dead-letter each once, whatever its size, and go on', async () => {
    const { topic, dlq } = tempTopics();
    const service = `test-contain-${randomUUID().slice(0, 6)}`;
    const fatal: Error[] = [];
    const retry = { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 100 };
    const bus = newBus({ service, onFatal: (e) => fatal.push(e), retry });
    await bus.ensureTopics([topic, dlq]);
    // Raised by hand on the broker, above what the catalogue states: records up to 8 MiB get in.
    await raiseMaxMessageBytes(bus.kafka, [topic.name], 8 * MiB);
    const watcher = await TopicWatcher.start(bus.kafka, [dlq], { timeoutMs: 90_000 });
    stops.push(() => watcher.stop());
    const handled: Record<string, string[]> = { a: [], b: [] };
    const consumeBoth = async (b: Bus) => {
      for (const group of ['a', 'b'])
        await b.consume({
          group,
          topic,
          handle: async (r) => {
            if (r.value.text === 'poison') throw new Error('boom');
            handled[group].push(r.value.text);
          },
        });
    };
    await consumeBoth(bus);

    // A partner's producer, which knows nothing of the catalogue's limits.
    const partner = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await partner.connect();
    stops.push(() => partner.disconnect());
    const garbage = (mb: number) => Buffer.alloc(Math.floor(mb * MiB), 0xff);
    const bad: [string, Buffer][] = [
      ['0.9 MB', garbage(0.9)],
      ['1.5 MB', garbage(1.5)],
      ['5 MB', garbage(5)],
      ['malformed', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])],
      ['poison', Buffer.from(toBinary(InboundMessageSchema, inbound('poison')))],
    ];
    const sent = new Map<string, { partition: number; offset: string; value: Buffer }>();
    for (const [name, value] of bad) {
      const [meta] = await partner.send({ topic: topic.name, messages: [{ key: name, value }] });
      sent.set(name, { partition: meta.partition, offset: meta.baseOffset!, value });
    }
    for (const [name] of bad) await bus.publish({ topic, key: name, value: inbound('after') });

    const letters = await watcher.waitFor(dlq, () => true, { count: 2 * bad.length });
    await until(() => (handled.a.length === 5 && handled.b.length === 5 ? true : undefined));
    expect(fatal).toEqual([]);
    expect(handled).toEqual({ a: Array(5).fill('after'), b: Array(5).fill('after') });
    expect(letters).toHaveLength(2 * bad.length);
    const byRecord = (group: string, name: string): WatchedRecord<typeof DeadLetterSchema>[] =>
      letters.filter(
        (l) =>
          l.value.consumerGroup === `${service}.${group}` &&
          l.value.partition === sent.get(name)!.partition &&
          l.value.offset === sent.get(name)!.offset,
      );
    for (const group of ['a', 'b']) {
      for (const [name, value] of bad) {
        const found = byRecord(group, name);
        expect({ group, name, letters: found.length }).toEqual({ group, name, letters: 1 });
        const [{ value: l, headers }] = found;
        const { partition, offset } = sent.get(name)!;
        expect(l).toMatchObject({ originalTopic: topic.name, originalValueSize: value.length });
        expect(headers['event-id']).toBe(
          deadLetterId(`${service}.${group}`, topic.name, partition, offset),
        );
        expect(l.reason).toMatch(
          name === 'poison'
            ? /^handler failed 3 times: boom$/
            : /^undecodable support.v1.InboundMessage: /,
        );
        // A prefix of the original: the whole of it where it fits the dead-letter topic's 1 MiB.
        expect(l.truncated).toBe(name === '1.5 MB' || name === '5 MB');
        expect(value.subarray(0, l.originalValue.length).equals(l.originalValue)).toBe(true);
        if (!l.truncated) expect(l.originalValue.length).toBe(value.length);
      }
    }

    // After a restart of the process, nothing is dead-lettered again.
    await bus.close();
    const again = newBus({ service, onFatal: (e) => fatal.push(e), retry });
    await consumeBoth(again);
    await again.publish({ topic, key: 'x', value: inbound('after restart') });
    await until(() =>
      handled.a.includes('after restart') && handled.b.includes('after restart') ? true : undefined,
    );
    await watcher.waitFor(dlq, () => true);
    expect(watcher.records(dlq)).toHaveLength(2 * bad.length);
    expect(fatal).toEqual([]);
  }, 120_000);

  it('dead-letters the record a consumer crashed on when its group comes back, instead of crashing again', async () => {
    const { topic, dlq } = tempTopics();
    const service = `test-crash-${randomUUID().slice(0, 6)}`;
    const fatal: Error[] = [];
    const first = newBus({
      service,
      onFatal: (e) => fatal.push(e),
      retry: { maxAttempts: 1000, maxRetryMs: 600_000, initialBackoffMs: 50, maxBackoffMs: 200 },
    });
    await first.ensureTopics([topic, dlq]);
    const watcher = await TopicWatcher.start(first.kafka, [dlq]);
    stops.push(() => watcher.stop());
    let attempts = 0;
    await first.consume({
      group: 'g',
      topic,
      handle: async (r) => {
        if (r.value.text !== 'poison') return;
        attempts++;
        throw new Error('boom');
      },
    });
    await first.publish({ topic, key: 'k', value: inbound('poison') });
    await until(() => (attempts >= 2 ? true : undefined));
    // What kafkajs giving up on a consumer runs before the process exits (onFatal only records it here).
    await first.crash(new Error('simulated crash'));
    expect(fatal.map((e) => e.message)).toEqual(['simulated crash']);
    expect(first.health().ok).toBe(false);
    await first.close();

    const second = newBus({ service, onFatal: (e) => fatal.push(e) });
    const seen: string[] = [];
    await second.consume({ group: 'g', topic, handle: async (r) => void seen.push(r.value.text) });
    await second.publish({ topic, key: 'k', value: inbound('after') });
    const [letter] = await watcher.waitFor(dlq, () => true);
    await until(() => (seen.includes('after') ? true : undefined));
    expect(seen).toEqual(['after']);
    expect(letter.value.reason).toMatch(
      /^consumer crashed on this record after \d+ failed attempts: boom$/,
    );
    expect(letter.headers['event-id']).toBe(
      deadLetterId(`${service}.g`, topic.name, letter.value.partition, letter.value.offset),
    );
    expect(fatal).toHaveLength(1);
    expect(watcher.records(dlq)).toHaveLength(1);
  });

  it('commits what was processed on graceful shutdown, so a restart resumes after it', async () => {
    const { topic, dlq } = tempTopics();
    const first = newBus({ service: 'test-commit' + randomUUID().slice(0, 6) });
    await first.ensureTopics([topic, dlq]);
    const seen1: string[] = [];
    await first.consume({ group: 'g', topic, handle: async (r) => void seen1.push(r.value.text) });
    for (let i = 0; i < 5; i++)
      await first.publish({ topic, key: `k${i}`, value: inbound(`m${i}`) });
    await until(() => (seen1.length === 5 ? true : undefined));
    await first.close();
    const second = newBus({ service: first.service });
    const seen2: string[] = [];
    await second.consume({ group: 'g', topic, handle: async (r) => void seen2.push(r.value.text) });
    await second.publish({ topic, key: 'k9', value: inbound('m9') });
    await until(() => (seen2.includes('m9') ? true : undefined));
    expect(seen2).toEqual(['m9']);
  });

  it('commits nothing past records whose state the beforeCommit hook could not make durable', async () => {
    const { topic, dlq } = tempTopics();
    const first = newBus({ service: 'test-before' + randomUUID().slice(0, 6) });
    await first.ensureTopics([topic, dlq]);
    const seen1: string[] = [];
    let durable = false;
    let calls = 0;
    await first.consume({
      group: 'g',
      topic,
      handle: async (r) => void seen1.push(r.value.text),
      beforeCommit: async () => {
        calls++;
        if (!durable) throw new Error('checkpoint store down');
      },
    });
    for (let i = 0; i < 3; i++)
      await first.publish({ topic, key: `k${i}`, value: inbound(`m${i}`) });
    await until(() => (seen1.length === 3 && calls >= 2 ? true : undefined));
    // The process dies without committing (nothing was durable): a restart handles all three again.
    await first.close();
    const second = newBus({ service: first.service });
    const seen2: string[] = [];
    await second.consume({
      group: 'g',
      topic,
      handle: async (r) => void seen2.push(r.value.text),
      beforeCommit: async () => void (durable = true),
    });
    await until(() => (seen2.length === 3 ? true : undefined));
    expect(seen2.sort()).toEqual(['m0', 'm1', 'm2']);
    // Once the hook succeeds the offsets are committed: a third member resumes after them.
    await second.close();
    const third = newBus({ service: first.service });
    const seen3: string[] = [];
    await third.consume({ group: 'g', topic, handle: async (r) => void seen3.push(r.value.text) });
    await third.publish({ topic, key: 'k9', value: inbound('m9') });
    await until(() => (seen3.includes('m9') ? true : undefined));
    expect(seen3).toEqual(['m9']);
  });

  it('returns from consume before the group join, with health red until the consumer has joined', async () => {
    const { topic, dlq } = tempTopics();
    const bus = newBus({ service: 'test-join' + randomUUID().slice(0, 6) });
    await bus.ensureTopics([topic, dlq]);
    const seen: string[] = [];
    await bus.consume({ group: 'g', topic, handle: async (r) => void seen.push(r.value.text) });
    // A record published while the group is still joining is handled once it has joined.
    expect(bus.health()).toEqual({
      ok: false,
      ready: false,
      consumers: { [`${bus.service}.g`]: 'starting' },
    });
    await bus.publish({ topic, key: 'k', value: inbound('while joining') });
    await until(() => (bus.health().ok ? true : undefined));
    expect(bus.health().ready).toBe(true);
    await until(() => (seen.length ? true : undefined));
    expect(seen).toEqual(['while joining']);
  });
});
