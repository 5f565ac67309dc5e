import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Topics } from '@support/bus';
import { OutboundKind, ReplyKind } from '@support/contracts';
import { conversationEvent, type PayloadInitOf } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { customerMessageReceived, startServiceRig, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DEFAULT_POLICY_FILE, DRAFT_FOR_AGENT } from '../domain/decide';

jest.setTimeout(60_000);

/**
 * The decider beside a person: while one has or awaits the conversation the
 * AI's proposals are drafts for them and never reach the customer, nor does
 * the decider hand off again; after the person hands the conversation back,
 * the AI's next reply is released as before.
 */
describe('escalation-decider with a person on the conversation, on the real Kafka and Redis', () => {
  const policyFile = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.yaml');
  writeFileSync(
    policyFile,
    readFileSync(DEFAULT_POLICY_FILE, 'utf8').replace(/joinTimeoutMs: \d+/, 'joinTimeoutMs: 1500'),
  );
  const config = loadConfig(configSchema, {
    ...process.env,
    LOG_LEVEL: 'warn',
    DECIDER_POLICY_FILE: policyFile,
  });
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'escalation-decider-desk-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.events, Topics.outbound, Topics.handoffRequests],
    });
  });

  afterAll(async () => {
    await rig?.close();
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  let n = 0;
  /** Appends an event as the service that owns it would (ingest, the router, the responder, the scorer). */
  const append = <K extends Parameters<typeof conversationEvent>[2]>(
    conversationId: string,
    kind: K,
    value: PayloadInitOf<K>,
  ) => rig.append(conversationEvent(conversationId, `desk-${randomUUID()}-${n++}`, kind, value));

  const message = (conversationId: string, messageId: string, text: string) =>
    rig.append(customerMessageReceived(conversationId, { messageId, text }));
  const proposal = (
    conversationId: string,
    messageId: string,
    confidence: number,
    flags: string[] = [],
  ) =>
    append(conversationId, 'aiReplyProposed', {
      messageId,
      replyId: `reply-${messageId}`,
      text: `Reply to ${messageId}`,
      confidence,
      intent: 'billing',
      intentProbability: 0.9,
      kind: ReplyKind.ANSWER,
      requiredSkills: ['billing'],
      flags,
    });
  const score = (conversationId: string, messageId: string, valence = 0) =>
    append(conversationId, 'messageScored', {
      messageId,
      valence,
      label: valence < 0 ? 'negative' : 'neutral',
      signals: [],
    });

  it('never releases a draft for the agent nor hands off again while a person has the conversation, and answers again after the handback', async () => {
    const conversationId = randomUUID();
    const [m1, m2, m3, m4] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const inConversation = (r: { value: { conversationId: string } }) =>
      r.value.conversationId === conversationId;

    // Given the customer asked for a person and the decider handed the conversation off
    await message(conversationId, m1, 'I want to talk to a human please');
    const [requested] = await rig.watcher.waitFor(
      Topics.events,
      (r) => inConversation(r) && r.value.payload.case === 'handoffRequested',
    );
    if (requested.value.payload.case !== 'handoffRequested') throw new Error('unreachable');
    const handoffId = requested.value.payload.value.handoffId;
    // ...and Ada took it and answered
    await append(conversationId, 'agentAssigned', {
      handoffId,
      agentId: 'ag-ada',
      agentName: 'Ada',
      team: 'Billing',
    });
    await append(conversationId, 'agentReplied', {
      handoffId,
      agentId: 'ag-ada',
      agentName: 'Ada',
      messageId: `om-${m1}`,
      text: 'Hi, Ada here. Let me look at your invoice.',
    });

    // When the customer writes while Ada has it, asking for a person again, and a weak draft arrives
    await message(conversationId, m2, 'Can I speak to a manager, a real person?');
    await proposal(conversationId, m2, 0.2, [DRAFT_FOR_AGENT]);
    await score(conversationId, m2, -0.5);
    // ...and writes once more, but the handback lands before that message's (confident) draft
    await message(conversationId, m3, 'Where do I see the refund?');
    await append(conversationId, 'handedBack', {
      handoffId,
      agentId: 'ag-ada',
      agentName: 'Ada',
      note: 'Refund issued; the customer only needs to see where it shows.',
    });
    await proposal(conversationId, m3, 0.99, [DRAFT_FOR_AGENT]);
    await score(conversationId, m3);

    // ...and then, with the AI in charge again, the next message gets a confident answer
    await message(conversationId, m4, 'How do I download my invoices?');
    await proposal(conversationId, m4, 0.97);
    await score(conversationId, m4);

    // Then that answer is released to the customer
    const [reply] = await rig.watcher.waitFor(
      Topics.outbound,
      (r) => inConversation(r) && r.value.kind === OutboundKind.AI_REPLY,
    );
    expect(reply.value).toMatchObject({ inReplyTo: m4, text: `Reply to ${m4}` });

    // ...and, the decider having read everything before it in the conversation's order, nothing else was
    const events = rig.watcher.records(Topics.events).filter(inConversation);
    const released = events.flatMap((r) =>
      r.value.payload.case === 'aiReplyReleased' ? [r.value.payload.value.messageId] : [],
    );
    expect(released).toEqual([m4]);
    expect(events.filter((r) => r.value.payload.case === 'handoffRequested')).toHaveLength(1);
    const outbound = rig.watcher.records(Topics.outbound).filter(inConversation);
    expect(outbound.map((r) => [r.value.kind, r.value.inReplyTo])).toEqual([
      [OutboundKind.SYSTEM, m1],
      [OutboundKind.AI_REPLY, m4],
    ]);
    expect(rig.watcher.records(Topics.handoffRequests).filter(inConversation)).toHaveLength(1);
  });

  it('hands off again after the handback when the customer asks for a person, not on the signals from before', async () => {
    const conversationId = randomUUID();
    const [m1, m2, m3, m4] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const inConversation = (r: { value: { conversationId: string } }) =>
      r.value.conversationId === conversationId;
    const handoffs = () =>
      rig.watcher
        .records(Topics.events)
        .filter((r) => inConversation(r) && r.value.payload.case === 'handoffRequested');

    // Given an answer that did not help, twice, handed the conversation off for repeated failure
    await message(conversationId, m1, 'How do I get my invoice?');
    await proposal(conversationId, m1, 0.97);
    await score(conversationId, m1);
    await rig.watcher.waitFor(
      Topics.outbound,
      (r) => inConversation(r) && r.value.inReplyTo === m1,
    );
    await message(conversationId, m2, "That didn't help.");
    await proposal(conversationId, m2, 0.97);
    await score(conversationId, m2);
    await rig.watcher.waitFor(
      Topics.outbound,
      (r) => inConversation(r) && r.value.inReplyTo === m2,
    );
    await message(conversationId, m3, 'Still not working.');
    await proposal(conversationId, m3, 0.97);
    await score(conversationId, m3);
    const [first] = await rig.watcher.waitFor(
      Topics.events,
      (r) => inConversation(r) && r.value.payload.case === 'handoffRequested',
    );
    if (first.value.payload.case !== 'handoffRequested') throw new Error('unreachable');
    expect(first.value.payload.value.triggers.map((t) => t.rule)).toContain('repeated_failure');
    const handoffId = first.value.payload.value.handoffId;
    await append(conversationId, 'agentAssigned', {
      handoffId,
      agentId: 'ag-ada',
      agentName: 'Ada',
      team: 'Billing',
    });
    await append(conversationId, 'handedBack', {
      handoffId,
      agentId: 'ag-ada',
      agentName: 'Ada',
      note: 'Sent the invoice by e-mail.',
    });

    // When a confident answer follows the handback, it is released (the old failures no longer count)
    const m5 = randomUUID();
    await message(conversationId, m5, 'Thanks. How do I change my card?');
    await proposal(conversationId, m5, 0.97);
    await score(conversationId, m5);
    await rig.watcher.waitFor(
      Topics.outbound,
      (r) =>
        inConversation(r) && r.value.inReplyTo === m5 && r.value.kind === OutboundKind.AI_REPLY,
    );
    expect(handoffs()).toHaveLength(1);

    // When the customer then asks for a person, the conversation is handed off again
    await message(conversationId, m4, 'I would like to talk to a human again');
    await rig.watcher.waitFor(
      Topics.events,
      (r) => inConversation(r) && r.value.payload.case === 'handoffRequested',
      { count: 2 },
    );
    const second = handoffs()[1].value.payload;
    expect(second.case === 'handoffRequested' && second.value.triggers.map((t) => t.rule)).toEqual([
      'explicit_human_request',
    ]);
    expect(second.case === 'handoffRequested' && second.value.briefing?.summary).toContain(
      'Earlier with a person: Ada',
    );
  });
});
