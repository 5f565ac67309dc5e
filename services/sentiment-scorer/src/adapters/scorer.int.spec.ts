import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { deterministicId, Topics } from '@support/bus';
import { JsonLogger, loadConfig } from '@support/service-kit';
import { projectionNamespace, SnapshotStore } from '@support/stream';
import { scorerProjection } from '../domain/projection';
import {
  customerMessageReceived,
  redeliverTwice,
  startServiceRig,
  type ServiceRig,
  type WatchedRecord,
} from '@support/testing';
import { sentenceEncoder } from '@support/encoder';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';

jest.setTimeout(60_000);

describe('sentiment-scorer on the real Kafka and Redis', () => {
  const config = loadConfig(configSchema, { ...process.env, LOG_LEVEL: 'warn' });
  let rig: ServiceRig<INestApplication>;
  let redis: Redis;

  beforeAll(async () => {
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'sentiment-scorer-int-test',
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

  it('scores each customer message once, with its frustration, however often the message is delivered', async () => {
    // Given a customer message on the log
    const conversationId = randomUUID();
    const messageId = randomUUID();
    const correlationId = randomUUID();
    const received = customerMessageReceived(conversationId, {
      messageId,
      text: 'This is the third time I ask, still not working. Useless!',
    });
    const publishReceived = () => rig.append(received, { correlationId });
    const isScore = (r: WatchedRecord<typeof Topics.events.schema>) =>
      r.value.conversationId === conversationId && r.value.payload.case === 'messageScored';
    await publishReceived();

    // When the service reacts, then it scores the message as negative and frustrated
    const [score] = await rig.watcher.waitFor(Topics.events, isScore);
    expect(score.value.eventId).toBe(deterministicId('score', messageId));
    expect(score.meta.correlationId).toBe(correlationId);
    expect(score.meta.causationId).toBe(received.eventId);
    expect(score.meta.producer).toBe(SERVICE);
    const value =
      score.value.payload.case === 'messageScored' ? score.value.payload.value : undefined;
    expect(value).toMatchObject({
      messageId,
      label: 'negative',
      signals: ['frustration', 'still_failing'],
    });
    expect(value?.valence).toBeLessThan(-0.05);
    // The learned frustration with the two signals, and the first turn's half of it smoothed.
    expect(value?.frustration).toBeGreaterThanOrEqual(0.8);
    expect(value?.trajectory?.frustration).toBeCloseTo((value?.frustration ?? 0) / 2, 3);

    // When the same message is delivered again, and again after the service lost its snapshot
    const namespace = projectionNamespace(SERVICE, scorerProjection);
    const store = new SnapshotStore(redis, namespace, scorerProjection);
    await redeliverTwice({
      watcher: rig.watcher,
      deliver: publishReceived,
      isDelivery: (r) => r.value.eventId === received.eventId,
      snapshot: () => store.get(conversationId),
      dropSnapshot: () => redis.del(`snap:${namespace}:${conversationId}`),
    });

    // Then there is still exactly one score for the message
    expect(rig.watcher.records(Topics.events).filter(isScore)).toHaveLength(1);
  });

  it("reads a message by the vector ingest embedded it with, when it is this encoder's, and embeds it itself otherwise", async () => {
    const encoder = await sentenceEncoder();
    const text = 'Could you tell me where I find my invoices?';
    const [angry] = await encoder.embed([
      'This is the third time I ask, still not working. Useless! I am furious.',
    ]);
    const scoreOf = async (vector?: { model: string; values: number[] }) => {
      const conversationId = randomUUID();
      await rig.append(
        customerMessageReceived(conversationId, { messageId: randomUUID(), text, vector }),
      );
      const [score] = await rig.watcher.waitFor(
        Topics.events,
        (r) =>
          r.value.conversationId === conversationId && r.value.payload.case === 'messageScored',
      );
      if (score.value.payload.case !== 'messageScored') throw new Error('not a score');
      return score.value.payload.value.frustration;
    };
    // The same words, read by their own vector, by a frustrated message's vector of this encoder,
    // and by that vector said to come from another model.
    const own = await scoreOf();
    const given = await scoreOf({ model: encoder.name, values: Array.from(angry) });
    const otherModel = await scoreOf({ model: 'another-encoder@1', values: Array.from(angry) });
    expect(given).toBeGreaterThan(own + 0.2);
    expect(otherModel).toBeCloseTo(own, 2);
  });
});
