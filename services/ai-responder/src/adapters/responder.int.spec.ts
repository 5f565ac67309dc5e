import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { deterministicId, Topics } from '@support/bus';
import { JsonLogger, loadConfig, SnapshotStore } from '@support/service-kit';
import {
  customerMessageReceived,
  redeliverTwice,
  startServiceRig,
  type ServiceRig,
  type WatchedRecord,
} from '@support/testing';
import { eq } from 'drizzle-orm';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DATABASE, type KbDatabase } from './db/database';
import { articles } from './db/schema';
import { seedArticles } from './db/seed';

jest.setTimeout(60_000);

describe('ai-responder on the real Kafka, Redis and PostgreSQL', () => {
  const config = loadConfig(configSchema, { ...process.env, LOG_LEVEL: 'warn' });
  let rig: ServiceRig<INestApplication>;
  let redis: Redis;

  beforeAll(async () => {
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'ai-responder-int-test',
      brokers: config.KAFKA_BROKERS,
      createApp: () => NestFactory.create(AppModule.create(config, logger), { logger }),
      watch: [Topics.events],
    });
    redis = new Redis(config.REDIS_URL);
  });

  afterAll(async () => {
    await redis?.quit();
    await rig?.close();
  });

  it('proposes a grounded reply once per customer message, however often the message is delivered', async () => {
    // Given a customer message on the log
    const conversationId = randomUUID();
    const messageId = randomUUID();
    const correlationId = randomUUID();
    const received = customerMessageReceived(conversationId, {
      messageId,
      text: 'How do I reset my password?',
    });
    const publishReceived = () => rig.append(received, { correlationId });
    const isProposal = (r: WatchedRecord<typeof Topics.events.schema>) =>
      r.value.conversationId === conversationId && r.value.payload.case === 'aiReplyProposed';
    await publishReceived();

    // When the service reacts, then it proposes the password article's answer
    const [proposal] = await rig.watcher.waitFor(Topics.events, isProposal);
    expect(proposal.value.eventId).toBe(deterministicId('proposal', messageId));
    expect(proposal.meta.correlationId).toBe(correlationId);
    expect(proposal.meta.causationId).toBe(received.eventId);
    expect(proposal.meta.producer).toBe(SERVICE);
    const value =
      proposal.value.payload.case === 'aiReplyProposed' ? proposal.value.payload.value : undefined;
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
    await redeliverTwice({
      watcher: rig.watcher,
      deliver: publishReceived,
      isDelivery: (r) => r.value.eventId === received.eventId,
      snapshot: () => store.get(conversationId),
      dropSnapshot: () => redis.del(`snap:${SERVICE}:${conversationId}`),
    });

    // Then there is still exactly one proposal for the message
    expect(rig.watcher.records(Topics.events).filter(isProposal)).toHaveLength(1);
  });

  it('seeds articles by id, bumping the version only when the content changed', async () => {
    const { db } = rig.app.get<KbDatabase>(DATABASE);
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
