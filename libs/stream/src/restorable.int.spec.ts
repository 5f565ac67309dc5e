/**
 * Against the real broker and Redis: a Redis copy of a topic comes back by itself after Redis lost
 * it, before the next record is handled, or on the next look at its mark when no record comes.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { create } from '@bufbuild/protobuf';
import { Bus, type TopicSpec } from '@support/bus';
import { DeadLetterSchema, InboundMessageSchema } from '@support/contracts';
import { consumeRestorable } from './restorable';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a Redis copy of a topic', () => {
  const service = `test-restorable-${randomUUID().slice(0, 8)}`;
  const bus = new Bus({
    service,
    brokers,
    logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
  const name = `test.restorable.${randomUUID()}`;
  const base = {
    partitions: 3,
    retentionMs: 3_600_000,
    cleanupPolicy: 'delete' as const,
    external: false,
    description: 'test',
    key: 'test',
    maxMessageBytes: 1_048_588,
  };
  const topic: TopicSpec<typeof InboundMessageSchema> = {
    ...base,
    name,
    schema: InboundMessageSchema,
    deadLetter: `${name}.dlq`,
  };
  const dlq: TopicSpec<typeof DeadLetterSchema> = {
    ...base,
    name: `${name}.dlq`,
    schema: DeadLetterSchema,
  };
  const copyKey = `${service}:copy`;
  const announced: string[] = [];

  afterAll(async () => {
    await bus.close();
    await redis.del(copyKey);
    await redis.quit();
  });

  const publish = (text: string) =>
    bus.publish({
      topic,
      key: text,
      value: create(InboundMessageSchema, { channel: 'web', text, idempotencyKey: text }),
    });
  const copy = async () => (await redis.smembers(copyKey)).sort();
  /** What Redis losing its data does to this service: the copy and its mark go. */
  const lose = (markKey: string) => redis.del(copyKey, markKey);

  it('is restored from the topic after a loss, before the next record, and with no record coming', async () => {
    await bus.ensureTopics([topic, dlq]);
    for (const t of ['a', 'b', 'c']) await publish(t);
    const restorable = await consumeRestorable(bus, redis, {
      group: 'copy',
      topic,
      checkEveryMs: 500,
      restore: async (value) => void (await redis.sadd(copyKey, value.text)),
      handle: async ({ value }) => {
        if (await redis.sadd(copyKey, value.text)) announced.push(value.text);
      },
    });
    // A first start restores the whole topic (there is no mark yet), then goes on live.
    await until('the first records', async () => (await copy()).length === 3);
    await publish('d');
    await until('a live record', async () => (await copy()).includes('d'));
    expect(await copy()).toEqual(['a', 'b', 'c', 'd']);
    expect(announced).toEqual(['d']); // restored records are not announced

    // Redis loses it all; the next record finds the mark gone and the copy comes back first.
    restorable.stop(); // only the record may notice here
    await lose(restorable.markKey);
    await publish('e');
    await until('the copy after the loss', async () => (await copy()).length === 5);
    expect(await copy()).toEqual(['a', 'b', 'c', 'd', 'e']);

    // Lost again with nothing coming: the periodic look restores it.
    restorable.watch(300);
    await lose(restorable.markKey);
    await until('the copy with no record coming', async () => (await copy()).length === 5);
    expect(await copy()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(restorable.restores).toBe(3);
    restorable.stop();
  });
});
