import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { Bus, deterministicId, Topics } from '@support/bus';
import { conversationEvent } from '@support/conversation';
import { JsonLogger, loadConfig, SnapshotStore } from '@support/service-kit';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { LogWatcher, type WatchedRecord } from '../testing/log-watcher';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('sentiment-scorer on the real Kafka and Redis', () => {
  const config = loadConfig(configSchema, { ...process.env, LOG_LEVEL: 'warn' });
  let app: INestApplication;
  let bus: Bus;
  let redis: Redis;
  let watcher: LogWatcher;

  beforeAll(async () => {
    const logger = new JsonLogger(SERVICE, 'warn');
    app = await NestFactory.create(AppModule.create(config, logger), { logger });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    await waitUntil(
      'GET /health 200',
      async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200,
    );
    bus = new Bus({
      service: 'sentiment-scorer-int-test',
      brokers: config.KAFKA_BROKERS,
      logger: new JsonLogger('sentiment-scorer-int-test', 'error'),
    });
    redis = new Redis(config.REDIS_URL);
    watcher = await LogWatcher.start(bus.kafka, 'sentiment-scorer-int-test');
  });

  afterAll(async () => {
    await watcher?.stop();
    await bus?.close();
    await redis?.quit();
    await app?.close();
  });

  it('scores each customer message once, however often the message is delivered', async () => {
    // Given a customer message on the log
    const conversationId = randomUUID();
    const messageId = randomUUID();
    const correlationId = randomUUID();
    const received = conversationEvent(
      conversationId,
      deterministicId('received', messageId),
      'customerMessageReceived',
      {
        messageId,
        channel: 'web',
        externalConversationId: `int-${conversationId}`,
        customerId: 'cust-int',
        text: 'This is the third time I ask, still not working. Useless!',
        locale: 'en',
        pageUrl: '',
        idempotencyKey: messageId,
        accountId: 'acct-int',
        sentAt: '',
      },
    );
    const publishReceived = () =>
      bus.publish({
        topic: Topics.events,
        key: conversationId,
        value: received,
        eventId: received.eventId,
        correlationId,
      });
    const isReceived = (r: WatchedRecord) => r.event.eventId === received.eventId;
    const isScore = (r: WatchedRecord) =>
      r.event.conversationId === conversationId && r.event.payload.case === 'messageScored';
    await publishReceived();

    // When the service reacts, then it scores the message as negative and frustrated
    const [score] = await watcher.waitFor(isScore);
    expect(score.event.eventId).toBe(deterministicId('score', messageId));
    expect(score.meta.correlationId).toBe(correlationId);
    expect(score.meta.causationId).toBe(received.eventId);
    expect(score.meta.producer).toBe(SERVICE);
    const value =
      score.event.payload.case === 'messageScored' ? score.event.payload.value : undefined;
    expect(value).toMatchObject({ messageId, label: 'negative', signals: ['frustration'] });
    expect(value?.valence).toBeLessThan(-0.05);

    // When the same message is delivered again, and again after the service lost its snapshot
    const store = new SnapshotStore(redis, SERVICE);
    const appliedUpTo = async (r: WatchedRecord) => {
      const snapshot = await store.get(conversationId);
      return (
        !!snapshot &&
        snapshot.partition === r.partition &&
        BigInt(snapshot.offset) >= BigInt(r.offset)
      );
    };
    await publishReceived();
    const second = (await watcher.waitFor(isReceived, 2))[1];
    await waitUntil('the redelivery to be applied', () => appliedUpTo(second));
    await redis.del(`snap:${SERVICE}:${conversationId}`);
    await publishReceived();
    const third = (await watcher.waitFor(isReceived, 3))[2];
    await waitUntil('the second redelivery to be applied', () => appliedUpTo(third));
    await sleep(1_500);

    // Then there is still exactly one score for the message
    expect(watcher.records.filter(isScore)).toHaveLength(1);
  });
});
