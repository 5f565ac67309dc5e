import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Topics } from '@support/bus';
import { OutboundKind, ReplyKind } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { customerMessageReceived, sleep, startServiceRig, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';

jest.setTimeout(60_000);

describe('escalation-decider on the real Kafka and Redis', () => {
  const config = loadConfig(configSchema, { ...process.env, LOG_LEVEL: 'warn' });
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'escalation-decider-int-test',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.events, Topics.outbound, Topics.handoffRequests],
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  const proposed = (conversationId: string, messageId: string, confidence: number) =>
    conversationEvent(conversationId, `proposal-${messageId}`, 'aiReplyProposed', {
      messageId,
      replyId: `reply-${messageId}`,
      text: 'Open Settings, then Billing.',
      confidence,
      intent: 'billing',
      kind: ReplyKind.ANSWER,
      requiredSkills: ['billing'],
      citations: [],
    });
  const scored = (conversationId: string, messageId: string) =>
    conversationEvent(conversationId, `score-${messageId}`, 'messageScored', {
      messageId,
      valence: 0,
      label: 'neutral',
      signals: [],
    });

  it('releases a confident reply to a calm customer', async () => {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId, text: 'Invoices?' }));
    await rig.append(proposed(conversationId, messageId, 0.97));
    await rig.append(scored(conversationId, messageId));
    const [reply] = await rig.watcher.waitFor(
      Topics.outbound,
      (r) => r.value.conversationId === conversationId && r.value.kind === OutboundKind.AI_REPLY,
    );
    expect(reply.value.text).toBe('Open Settings, then Billing.');
  });

  it('hands a conversation off once, however many of its messages arrive before its handoff is in the log', async () => {
    // Given three messages whose weak proposals all sit in the log before any decision does
    const conversationId = randomUUID();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, messageId] of ids.entries())
      await rig.append(customerMessageReceived(conversationId, { messageId, text: `case ${i}` }));
    for (const messageId of ids) {
      await rig.append(proposed(conversationId, messageId, 0.2));
      await rig.append(scored(conversationId, messageId));
    }
    // Then the first weak answer hands the conversation off, and the later messages wait for the person
    const [request] = await rig.watcher.waitFor(
      Topics.handoffRequests,
      (r) => r.value.conversationId === conversationId,
    );
    expect(request.value.requiredSkills).toEqual(['billing']);
    await sleep(2000);
    const handoffs = rig.watcher
      .records(Topics.events)
      .filter(
        (r) =>
          r.value.conversationId === conversationId && r.value.payload.case === 'handoffRequested',
      );
    expect(handoffs).toHaveLength(1);
    expect(
      rig.watcher
        .records(Topics.outbound)
        .filter(
          (r) =>
            r.value.conversationId === conversationId && r.value.kind === OutboundKind.AI_REPLY,
        ),
    ).toHaveLength(0);
  });
});
