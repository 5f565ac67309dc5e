/**
 * Against the real broker that deploy/local/infra.sh runs (the Kafka release
 * pinned in deploy/local/kafka/pom.xml): everything the bus needs from kafkajs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { create, fromBinary, DeadLetterSchema, InboundMessageSchema } from '@support/contracts';
import { Bus, InvalidRecordError, type Incoming } from './bus';
import { AllTopics, type TopicSpec } from './topics';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const root = join(__dirname, '..', '..', '..');

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
  afterAll(async () => {
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
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: 2, name: 'conversation.events', configNames: ['retention.ms', 'cleanup.policy'] },
      ],
    });
    const entries = Object.fromEntries(
      configs.resources[0].configEntries.map((e) => [e.configName, e.configValue]),
    );
    expect(entries).toEqual({ 'retention.ms': '-1', 'cleanup.policy': 'delete' });
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

  it('reports a consumer that crashed for good instead of leaving a zombie', async () => {
    const { topic, dlq } = tempTopics();
    const fatal: Error[] = [];
    const bus = newBus({ onFatal: (e) => fatal.push(e) });
    await bus.ensureTopics([topic, dlq]);
    await bus.consume({
      group: 'g',
      topic,
      handle: async () => Promise.reject(new TypeError('bug in handler')),
    });
    await bus.publish({ topic, key: 'k', value: inbound('boom') });
    // kafkajs retries the handler, then crashes without restart for a non-retriable error.
    const error = await until(() => fatal[0], 60_000);
    expect(error.message).toContain('bug in handler');
    expect(bus.health().ok).toBe(false);
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
});
