import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Topics } from '@support/bus';
import { OutboundKind, ReplyKind } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  customerMessageReceived,
  sleep,
  startServiceRig,
  waitUntil,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DEFAULT_POLICY_FILE } from '../domain/decide';

jest.setTimeout(60_000);

describe('escalation-decider on the real Kafka and Redis', () => {
  // A copy of the shipped policy that the tests may edit while the service runs.
  const policyFile = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.yaml');
  const shipped = readFileSync(DEFAULT_POLICY_FILE, 'utf8');
  // A short join so that a late input is waited for briefly.
  writeFileSync(policyFile, shipped.replace(/joinTimeoutMs: \d+/, 'joinTimeoutMs: 1500'));
  const config = loadConfig(configSchema, {
    ...process.env,
    LOG_LEVEL: 'warn',
    DECIDER_POLICY_FILE: policyFile,
    DECIDER_POLICY_POLL_MS: '200',
  });
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
    rmSync(dirname(policyFile), { recursive: true, force: true });
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

  it('decides on what has arrived when the sentiment is late, and records what it went without', async () => {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId, text: 'Invoices?' }));
    await rig.append(proposed(conversationId, messageId, 0.97));
    // No score ever arrives: after the join's timeout the reply goes out, marked.
    const [released] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === conversationId && r.value.payload.case === 'aiReplyReleased',
    );
    if (released.value.payload.case !== 'aiReplyReleased') throw new Error('unreachable');
    expect(released.value.payload.value.missingInputs).toEqual(['sentiment']);
    expect(released.value.payload.value.policyVersion).toMatch(/^default-/);
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

  it('on a request for a person, takes the subject from its proposal when it comes within the short wait', async () => {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(
      customerMessageReceived(conversationId, {
        messageId,
        text: 'I want to talk to a person about my invoice',
      }),
    );
    await rig.append(proposed(conversationId, messageId, 0));
    const [request] = await rig.watcher.waitFor(
      Topics.handoffRequests,
      (r) => r.value.conversationId === conversationId,
    );
    expect(request.value.triggers.map((t) => t.rule)).toEqual(['explicit_human_request']);
    expect(request.value.requiredSkills).toEqual(['billing']);
    expect(request.value.briefing?.intent).toBe('billing');
  });

  it('on a request for a person whose proposal never comes, hands off with the subject of the earlier turns', async () => {
    const conversationId = randomUUID();
    const [first, second] = [randomUUID(), randomUUID()];
    await rig.append(
      customerMessageReceived(conversationId, {
        messageId: first,
        text: 'Our bank feed stopped syncing',
      }),
    );
    await rig.append(
      conversationEvent(conversationId, `proposal-${first}`, 'aiReplyProposed', {
        messageId: first,
        replyId: `reply-${first}`,
        text: 'Reconnect the bank feed under Integrations.',
        confidence: 0.97,
        intent: 'technical_integration',
        intentProbability: 0.9,
        topic: 'integrations',
        kind: ReplyKind.ANSWER,
        requiredSkills: ['technical'],
      }),
    );
    await rig.append(scored(conversationId, first));
    await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === conversationId && r.value.payload.case === 'aiReplyReleased',
    );
    await rig.append(
      customerMessageReceived(conversationId, {
        messageId: second,
        text: 'Can I speak to a real person please?',
      }),
    );
    // Neither a proposal nor a score for it: the short wait runs out and the handoff goes anyway.
    const [request] = await rig.watcher.waitFor(
      Topics.handoffRequests,
      (r) => r.value.conversationId === conversationId,
    );
    expect(request.value.triggerMessageId).toBe(second);
    expect(request.value.requiredSkills).toEqual(['technical']);
    expect(request.value.briefing).toMatchObject({
      intent: 'technical_integration',
      topic: 'integrations',
    });
    const [logged] = rig.watcher
      .records(Topics.events)
      .filter(
        (r) =>
          r.value.conversationId === conversationId && r.value.payload.case === 'handoffRequested',
      );
    expect(
      logged.value.payload.case === 'handoffRequested' && logged.value.payload.value.missingInputs,
    ).toEqual(['ai_proposal', 'sentiment']);
  });

  it('applies an edited policy without a restart, naming its version on the decision; an invalid edit changes nothing', async () => {
    const ask = async (confidence: number) => {
      const conversationId = randomUUID();
      const messageId = randomUUID();
      await rig.append(customerMessageReceived(conversationId, { messageId, text: 'Invoices?' }));
      await rig.append(proposed(conversationId, messageId, confidence));
      await rig.append(scored(conversationId, messageId));
      const [decision] = await rig.watcher.waitFor(
        Topics.events,
        (r) =>
          r.value.conversationId === conversationId &&
          (r.value.payload.case === 'aiReplyReleased' ||
            r.value.payload.case === 'handoffRequested'),
      );
      return decision.value.payload;
    };
    // Under the shipped policy a 0.55 answer is handed off...
    const before = await ask(0.55);
    expect(before.case).toBe('handoffRequested');
    expect(before.case === 'handoffRequested' && before.value.policyVersion).toMatch(/^default-/);
    // ...an edited policy with a lower threshold releases it, once the service has seen the file.
    writeFileSync(
      policyFile,
      shipped
        .replace(/minConfidence: [0-9.]+/, 'minConfidence: 0.5')
        .replace(/^version: .*$/m, 'version: lenient-7'),
    );
    await waitUntil(
      'the edited policy to take effect',
      async () => (await ask(0.55)).case === 'aiReplyReleased',
      { timeoutMs: 15_000 },
    );
    // An invalid edit is refused: the lenient policy stays in force.
    writeFileSync(policyFile, 'rules: [');
    await sleep(800);
    expect((await ask(0.55)).case).toBe('aiReplyReleased');
    const handed = await ask(0.2);
    expect(handed.case === 'handoffRequested' && handed.value.policyVersion).toMatch(/^lenient-7@/);
  });
});
