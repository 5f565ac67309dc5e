import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { DeadLetterTopics, Topics } from '@support/bus';
import {
  create,
  fromBinary,
  InboundMessageSchema,
  OutboundKind,
  Priority,
  Resolution,
  type ConversationEvent,
  type MessageInitShape,
} from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { notice } from '@support/notices';
import { customerMessageReceived, waitUntil, type ServiceRig } from '@support/testing';
import { startIngestRig } from '../../test/rig';
import { csatMessageIdFor, csatRequestIdFor } from '../domain/closing';
import { conversationIdFor, streamToken } from '../domain/ids';

jest.setTimeout(90_000);

const API_KEY = `itest-${randomUUID()}`;
const STREAM_SECRET = `stream-secret-${randomUUID()}`;
const inboundDlq = DeadLetterTopics.find((t) => t.name === Topics.inbound.deadLetter)!;

/** A conversation of the web channel, its id as ingest maps it, on the log as the services write it. */
function conversation(locale = 'en') {
  const externalConversationId = `chat-${randomUUID()}`;
  const conversationId = conversationIdFor('web', externalConversationId);
  const messageId = randomUUID();
  return {
    conversationId,
    externalConversationId,
    token: streamToken(STREAM_SECRET, conversationId),
    received: (id = messageId): ConversationEvent =>
      customerMessageReceived(conversationId, {
        messageId: id,
        text: 'How do I export my invoices?',
        externalConversationId,
        locale,
      }),
    released: (forMessage = messageId): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'aiReplyReleased', {
        messageId: forMessage,
        replyId: randomUUID(),
        text: 'Open Billing, then Export.',
        confidence: 0.9,
      }),
    handoffRequested: (): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'handoffRequested', {
        handoffId: randomUUID(),
        messageId,
        triggers: [
          { rule: 'explicit_human_request', detail: 'asked for a person', value: 1, threshold: 1 },
        ],
        priority: Priority.NORMAL,
        requiredSkills: ['general'],
        language: locale,
        policyVersion: 'itest',
      }),
  };
}
type Conversation = ReturnType<typeof conversation>;

describe('ingest: the end of a conversation and its CSAT (Kafka, Redis)', () => {
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    ({ rig } = await startIngestRig(
      'ingest-closing-itest',
      {
        INGEST_API_KEYS: API_KEY,
        STREAM_TOKEN_SECRET: STREAM_SECRET,
        // Long enough that no conversation of this file goes quiet (see quiet-window.int.spec.ts).
        QUIET_WINDOW_SECONDS: '3600',
        DESK_CATCH_UP_MS: '1000',
      },
      [Topics.events, Topics.outbound, inboundDlq],
    ));
  });

  afterAll(async () => {
    await rig?.close();
  });

  const call = async (
    method: string,
    path: string,
    {
      body,
      token,
      headers = {},
    }: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/json',
        ...(token ? { 'x-stream-token': token } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const state = async (c: Conversation) =>
    (await call('GET', `/v1/conversations/${c.conversationId}`)).body;

  /** Appends the events as their owners would (each test then waits for ingest to apply them). */
  const given = async (_c: Conversation, ...events: ConversationEvent[]) => {
    for (const e of events) await rig.append(e);
  };

  const eventsOf = (c: Conversation, kind: string) =>
    rig.watcher
      .records(Topics.events)
      .filter((r) => r.value.conversationId === c.conversationId && r.value.payload.case === kind);

  /** Waits for the resolution of the conversation, its CSAT request and the request to the customer. */
  const closingOf = async (c: Conversation) => {
    const [resolved] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === c.conversationId &&
        r.value.payload.case === 'conversationResolved',
    );
    const requestId = csatRequestIdFor(resolved.value.eventId);
    const [requested] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === c.conversationId && r.value.payload.case === 'csatRequested',
    );
    const [outbound] = await rig.watcher.waitFor(
      Topics.outbound,
      (r) => r.value.conversationId === c.conversationId,
    );
    return {
      resolved: resolved.value,
      requested: requested.value,
      outbound: outbound.value,
      requestId,
    };
  };

  it('resolves over HTTP with a CSAT request on the log and on support.outbound, in the customer language', async () => {
    const c = conversation('de-AT');
    await given(c, c.received());
    await waitUntil(
      'the conversation in the snapshot',
      async () => (await state(c)).status === 'ai_handling',
    );
    const res = await call('POST', `/v1/conversations/${c.conversationId}/resolve`, {
      body: { resolvedBy: 'crm-sync', note: 'closed in the CRM' },
    });
    expect(res.status).toBe(200);
    const { resolved, requested, outbound, requestId } = await closingOf(c);
    expect(res.body).toEqual({ conversationId: c.conversationId, resolution: 'ai' });
    expect(resolved.payload.value).toEqual(
      expect.objectContaining({
        resolution: Resolution.AI,
        resolvedBy: 'crm-sync',
        assumed: false,
      }),
    );
    expect(requested.payload).toEqual({
      case: 'csatRequested',
      value: expect.objectContaining({ requestId, channel: 'web' }),
    });
    expect(outbound).toEqual(
      expect.objectContaining({
        messageId: csatMessageIdFor(requestId),
        kind: OutboundKind.CSAT_REQUEST,
        csatRequestId: requestId,
        author: 'system',
        externalConversationId: c.externalConversationId,
        text: notice('csatRequest', 'de'),
      }),
    );
    await waitUntil(
      'the resolution in the snapshot',
      async () => (await state(c)).status === 'resolved_by_ai',
    );
    expect(
      (await call('POST', `/v1/conversations/${c.conversationId}/resolve`, { body: {} })).status,
    ).toBe(409);
  });

  it('lets the customer confirm an AI answer with their stream token only, and asks them to rate', async () => {
    const c = conversation();
    await given(c, c.received(), c.released());
    await waitUntil('the answer in the snapshot', async () =>
      // Before ingest has folded the first event the conversation is a 404 with no transcript.
      (((await state(c)).transcript ?? []) as { speaker: string }[]).some(
        (l) => l.speaker === 'ai',
      ),
    );
    const path = `/v1/conversations/${c.conversationId}/confirm`;
    expect((await call('POST', path)).status).toBe(403);
    const other = conversation();
    expect((await call('POST', path, { token: other.token })).status).toBe(403);
    const res = await call('POST', path, { token: c.token });
    expect(res.status).toBe(200);
    const { resolved, requestId } = await closingOf(c);
    expect(res.body).toEqual(
      expect.objectContaining({
        resolution: 'ai',
        resolvedBy: 'customer',
        csatRequestId: requestId,
      }),
    );
    expect(resolved.payload.value).toEqual(
      expect.objectContaining({
        resolution: Resolution.AI,
        resolvedBy: 'customer',
        assumed: false,
      }),
    );
    await waitUntil(
      'the resolution in the snapshot',
      async () => (await state(c)).status === 'resolved_by_ai',
    );
    const again = await call('POST', path, { token: c.token });
    expect(again.status).toBe(409);
    expect(again.body).toEqual(expect.objectContaining({ reason: 'already_resolved' }));
  });

  it('does not let the customer resolve as the AI a conversation that awaits a person (409 with the reason)', async () => {
    const c = conversation();
    await given(c, c.received(), c.released(), c.handoffRequested());
    await waitUntil(
      'the handoff in the snapshot',
      async () => (await state(c)).status === 'awaiting_human',
    );
    const res = await call('POST', `/v1/conversations/${c.conversationId}/confirm`, {
      token: c.token,
    });
    expect(res.status).toBe(409);
    expect(res.body).toEqual(expect.objectContaining({ reason: 'awaiting_person' }));
    expect(eventsOf(c, 'conversationResolved')).toEqual([]);
  });

  it('takes ratings over HTTP: 400 naming the field, 409 before any request, the latest rating kept', async () => {
    const c = conversation();
    await given(c, c.received(), c.released());
    await waitUntil(
      'the conversation in the snapshot',
      async () => (await state(c)).status === 'ai_handling',
    );
    const path = `/v1/conversations/${c.conversationId}/csat`;

    const early = await call('POST', path, { token: c.token, body: { score: 5 } });
    expect(early.status).toBe(409);
    expect(early.body).toEqual(expect.objectContaining({ reason: 'requested' }));

    await call('POST', `/v1/conversations/${c.conversationId}/confirm`, { token: c.token });
    const { requestId } = await closingOf(c);

    expect((await call('POST', path, { body: { score: 5 } })).status).toBe(403);
    for (const [body, field] of [
      [{ score: 6 }, 'score'],
      [{ score: 2.5 }, 'score'],
      [{}, 'score'],
      [{ score: 4, comment: 'x'.repeat(2001) }, 'comment'],
    ] as const) {
      const bad = await call('POST', path, { token: c.token, body });
      expect(bad.status).toBe(400);
      expect(bad.body.issues).toEqual([expect.objectContaining({ field })]);
    }
    const unknown = await call('POST', path, {
      token: c.token,
      body: { score: 4, requestId: 'nope' },
    });
    expect(unknown.status).toBe(409);
    expect(unknown.body).toEqual(expect.objectContaining({ reason: 'known_request' }));

    const first = await call('POST', path, {
      token: c.token,
      body: { score: 2, comment: 'took a while' },
      headers: { 'idempotency-key': 'rating-1' },
    });
    expect(first.status).toBe(200);
    expect(first.body).toEqual(expect.objectContaining({ requestId, score: 2, duplicate: false }));
    const repeat = await call('POST', path, {
      token: c.token,
      body: { score: 2, comment: 'took a while' },
      headers: { 'idempotency-key': 'rating-1' },
    });
    expect(repeat.body).toEqual(expect.objectContaining({ duplicate: true }));
    const second = await call('POST', path, { token: c.token, body: { score: 5, requestId } });
    expect(second.status).toBe(200);

    await waitUntil('the latest rating in the snapshot', async () => {
      const csat = (await state(c)).csat as { score: number } | undefined;
      return csat?.score === 5;
    });
    // The test's own watcher reads the log apart from the service: it may not have the second yet.
    await rig.watcher.waitFor(
      Topics.events,
      (r) => r.value.conversationId === c.conversationId && r.value.payload.case === 'csatRated',
      { count: 2 },
    );
    const ratings = eventsOf(c, 'csatRated');
    expect(ratings.map((r) => r.value.payload.value)).toEqual([
      expect.objectContaining({ requestId, score: 2, comment: 'took a while' }),
      expect.objectContaining({ requestId, score: 5, comment: '' }),
    ]);
  });

  const inbound = (c: Conversation, csat: MessageInitShape<typeof InboundMessageSchema>['csat']) =>
    create(InboundMessageSchema, {
      channel: 'web',
      externalConversationId: c.externalConversationId,
      customerId: `cust-${c.conversationId}`,
      text: '',
      idempotencyKey: `rating-${randomUUID()}`,
      csat,
    });
  const sendInbound = (c: Conversation, message: ReturnType<typeof inbound>) =>
    rig.bus.publish({
      topic: Topics.inbound,
      key: `web:${c.externalConversationId}`,
      value: message,
      eventId: randomUUID(),
    });
  const deadLetterOf = async (message: ReturnType<typeof inbound>) => {
    const [letter] = await rig.watcher.waitFor(
      inboundDlq,
      (r) =>
        fromBinary(InboundMessageSchema, r.value.originalValue).idempotencyKey ===
        message.idempotencyKey,
    );
    return letter.value;
  };

  it('takes ratings from a channel on support.inbound, and dead-letters bad ones naming the field', async () => {
    const c = conversation();
    await given(c, c.received(), c.released());
    await waitUntil(
      'the conversation in the snapshot',
      async () => (await state(c)).status === 'ai_handling',
    );

    // Before the conversation was asked to rate: dead-lettered, nothing appended.
    const early = inbound(c, { score: 4 });
    await sendInbound(c, early);
    expect((await deadLetterOf(early)).reason).toContain('csat (requested)');

    await call('POST', `/v1/conversations/${c.conversationId}/confirm`, { token: c.token });
    const { requestId } = await closingOf(c);

    const outOfRange = inbound(c, { score: 7, requestId });
    await sendInbound(c, outOfRange);
    expect((await deadLetterOf(outOfRange)).reason).toContain('csat.score');
    const tooLong = inbound(c, { score: 3, comment: 'y'.repeat(2001) });
    await sendInbound(c, tooLong);
    expect((await deadLetterOf(tooLong)).reason).toContain('csat.comment');

    const good = inbound(c, { score: 4, requestId, comment: 'Clear answer' });
    await sendInbound(c, good);
    await sendInbound(c, good); // a redelivery: appended once
    const [rated] = await rig.watcher.waitFor(
      Topics.events,
      (r) => r.value.conversationId === c.conversationId && r.value.payload.case === 'csatRated',
    );
    expect(rated.value.payload.value).toEqual(
      expect.objectContaining({ requestId, score: 4, comment: 'Clear answer' }),
    );
    // A later rating behind it in the same partition: once it is on the log, the repeat was handled.
    const later = inbound(c, { score: 5 });
    await sendInbound(c, later);
    await rig.watcher.waitFor(
      Topics.events,
      (r) => r.value.conversationId === c.conversationId && r.value.payload.case === 'csatRated',
      { count: 2 },
    );
    expect(
      eventsOf(c, 'csatRated').map((r) => (r.value.payload.value as { score: number }).score),
    ).toEqual([4, 5]);
    // The ratings are not messages: the conversation still has only the question the test appended.
    expect(eventsOf(c, 'customerMessageReceived')).toHaveLength(1);
  });
});
