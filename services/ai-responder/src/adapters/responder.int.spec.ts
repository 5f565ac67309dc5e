import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { Bus, deterministicId, Topics } from '@support/bus';
import { conversationEvent } from '@support/conversation';
import { JsonLogger, loadConfig, SnapshotStore } from '@support/service-kit';
import { eq } from 'drizzle-orm';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { LogWatcher, type WatchedRecord } from '../testing/log-watcher';
import { DATABASE, type KbDatabase } from './db/database';
import { articles } from './db/schema';
import { seedArticles } from './db/seed';

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

describe('ai-responder on the real Kafka, Redis and PostgreSQL', () => {
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
      service: 'ai-responder-int-test',
      brokers: config.KAFKA_BROKERS,
      logger: new JsonLogger('ai-responder-int-test', 'error'),
    });
    redis = new Redis(config.REDIS_URL);
    watcher = await LogWatcher.start(bus.kafka, 'ai-responder-int-test');
  });

  afterAll(async () => {
    await watcher?.stop();
    await bus?.close();
    await redis?.quit();
    await app?.close();
  });

  it('proposes a grounded reply once per customer message, however often the message is delivered', async () => {
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
        text: 'How do I reset my password?',
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
    const isProposal = (r: WatchedRecord) =>
      r.event.conversationId === conversationId && r.event.payload.case === 'aiReplyProposed';
    await publishReceived();

    // When the service reacts, then it proposes the password article's answer
    const [proposal] = await watcher.waitFor(isProposal);
    expect(proposal.event.eventId).toBe(deterministicId('proposal', messageId));
    expect(proposal.meta.correlationId).toBe(correlationId);
    expect(proposal.meta.causationId).toBe(received.eventId);
    expect(proposal.meta.producer).toBe(SERVICE);
    const value =
      proposal.event.payload.case === 'aiReplyProposed' ? proposal.event.payload.value : undefined;
    expect(value).toMatchObject({
      messageId,
      replyId: deterministicId('reply', messageId),
      intent: 'password_reset',
    });
    expect(value?.confidence).toBeGreaterThanOrEqual(0.6);
    expect(value?.citations[0]?.articleId).toBe('reset-password');
    expect(value?.articlesTried[0]).toBe('reset-password');
    expect(value?.text).toContain('(Source: Resetting your Ledgerly password)');

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

    // Then there is still exactly one proposal for the message
    expect(watcher.records.filter(isProposal)).toHaveLength(1);
  });

  it('seeds articles by id, bumping the version only when the content changed', async () => {
    const { db } = app.get<KbDatabase>(DATABASE);
    const id = `int-test-${randomUUID()}`;
    const dir = await mkdtemp(join(tmpdir(), 'kb-seed-'));
    const file = join(dir, 'articles.json');
    const seedWith = async (body: string) => {
      await writeFile(
        file,
        JSON.stringify([
          { id, title: 'Integration test article', body, tags: ['test'], status: 'draft' },
        ]),
      );
      return seedArticles(db, file);
    };
    const version = async () =>
      (await db.select().from(articles).where(eq(articles.id, id)))[0]?.version;
    try {
      expect(await seedWith('First body.')).toEqual({ articles: 1, changed: 1 });
      expect(await version()).toBe(1);
      expect(await seedWith('First body.')).toEqual({ articles: 1, changed: 0 });
      expect(await version()).toBe(1);
      expect(await seedWith('Second body.')).toEqual({ articles: 1, changed: 1 });
      expect(await version()).toBe(2);
    } finally {
      await db.delete(articles).where(eq(articles.id, id));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
