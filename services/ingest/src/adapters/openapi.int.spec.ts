import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Topics } from '@support/bus';
import { create, OutboundKind, OutboundMessageSchema, ReplyKind } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import {
  checkServedOpenApi,
  expectMatchesOpenApi,
  fetchChecked,
  registeredRoutes,
  waitUntil,
  type OpenApiDoc,
  type ServiceRig,
} from '@support/testing';
import { startIngestRig } from '../../test/rig';
import {
  conversationTokenSecret,
  issueConversationToken,
  type ConversationClaims,
} from '../domain/conversation-token';
import { conversationIdFor, streamToken, widgetExternalConversationId } from '../domain/ids';
import { userHashOf } from '../domain/identity';

jest.setTimeout(90_000);

const run = randomBytes(4).toString('hex');
const CHANNEL_KEY = `channel-${randomUUID()}`;
const ADMIN_KEY = `admin-${randomUUID()}`;
const STREAM_SECRET = `stream-secret-${randomUUID()}`;
const SHOP = 'https://shop.example';
const OTHER_SHOP = 'https://other-shop.example';
const IDENTITY_SECRET = randomBytes(32).toString('hex');
const TTL_S = 600;
const GRACE_S = 3600;

/** Widget keys of this run (fresh ids: the rate limits' counters in Redis are per key id). */
const keys = {
  shop: {
    id: `oa-shop-${run}`,
    key: `wk_oa_shop_${randomUUID()}`,
    origins: [SHOP],
    identitySecret: IDENTITY_SECRET,
  },
  members: {
    id: `oa-members-${run}`,
    key: `wk_oa_members_${randomUUID()}`,
    origins: [OTHER_SHOP],
    identitySecret: IDENTITY_SECRET,
    requireIdentity: true,
  },
  limited: { id: `oa-limited-${run}`, key: `wk_oa_limited_${randomUUID()}`, requestsPerMinute: 2 },
};

/** The parts of a conversation's state these tests read. */
interface State {
  status: string;
  messages: { decision?: unknown }[];
  transcript: { speaker: string }[];
  csatRequests?: unknown[];
  csat?: { score: number };
}

describe("ingest's OpenAPI document against its real answers", () => {
  let rig: ServiceRig<INestApplication>;
  let doc: OpenApiDoc;

  /** A call with `auth` as the bearer credential (none when undefined), checked against the document. */
  const call = (
    method: string,
    path: string,
    {
      auth,
      body,
      headers,
    }: { auth?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    fetchChecked(doc, rig.url, method, path, {
      body,
      headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...headers },
    });

  /** The first event of an SSE stream (or, on an error, the whole answer), checked against the document. */
  const firstEvent = async (path: string) => {
    const abort = new AbortController();
    const res = await fetch(`${rig.url}${path}`, { signal: abort.signal });
    const reader = res.body!.getReader();
    let text = '';
    try {
      for (let chunk = await reader.read(); ; chunk = await reader.read()) {
        if (chunk.value) text += Buffer.from(chunk.value).toString('utf8');
        if (chunk.done || text.includes('\n\n')) break;
      }
    } finally {
      abort.abort();
    }
    const type = res.headers.get('content-type') ?? '';
    const body: unknown = /json/.test(type) ? JSON.parse(text) : text;
    expectMatchesOpenApi(doc, 'GET', path, res.status, body, type);
    // Each event's data against the document's OutboundMessage schema (a path made for the check).
    const data: OpenApiDoc = {
      ...doc,
      paths: {
        '/event-data': {
          get: {
            responses: {
              '200': {
                content: {
                  'application/json': { schema: { $ref: '#/components/schemas/OutboundMessage' } },
                },
              },
            },
          },
        },
      },
    };
    for (const line of text.split('\n').filter((l) => l.startsWith('data: '))) {
      try {
        expectMatchesOpenApi(data, 'GET', '/event-data', 200, JSON.parse(line.slice(6)));
      } catch (err) {
        throw new Error(`an event of ${path}: ${(err as Error).message}`);
      }
    }
    return { status: res.status, text };
  };

  /** The conversation as the admin key reads it, once `until` holds for it. */
  const stateWhen = async (conversationId: string, until: (s: State) => boolean) => {
    let state: State | undefined;
    await waitUntil(`conversation ${conversationId} to be as expected`, async () => {
      const res = await call('GET', `/v1/conversations/${conversationId}`, { auth: ADMIN_KEY });
      state = res.body as State;
      return res.status === 200 && until(state);
    });
    return state!;
  };

  /** The AI's proposal, its score and its release for a customer message, as the services append them. */
  const aiAnswered = async (conversationId: string, messageId: string) => {
    const replyId = randomUUID();
    await rig.append(
      conversationEvent(conversationId, randomUUID(), 'aiReplyProposed', {
        messageId,
        replyId,
        text: 'Open Billing, then Export.',
        confidence: 0.93,
        intent: 'billing',
        intentProbability: 0.9,
        topic: 'billing',
        kind: ReplyKind.ANSWER,
        citations: [{ articleId: 'kb-export', title: 'Exporting', snippet: 'Export', score: 0.8 }],
        articlesTried: ['kb-export'],
        generator: 'extractive',
      }),
    );
    await rig.append(
      conversationEvent(conversationId, randomUUID(), 'messageScored', {
        messageId,
        valence: -0.2,
        label: 'neutral',
        signals: [],
        trajectory: { smoothed: -0.2, start: -0.2, change: 0, shift: false, messages: 1 },
      }),
    );
    await rig.append(
      conversationEvent(conversationId, randomUUID(), 'aiReplyReleased', {
        messageId,
        replyId,
        text: 'Open Billing, then Export.',
        confidence: 0.93,
        policyVersion: 'openapi',
      }),
    );
  };

  /** A message the customer is sent, on support.outbound as the decider sends it. */
  const sent = (conversationId: string, text: string) =>
    rig.bus.publish({
      topic: Topics.outbound,
      key: conversationId,
      eventId: randomUUID(),
      value: create(OutboundMessageSchema, {
        messageId: randomUUID(),
        conversationId,
        channel: 'web',
        kind: OutboundKind.AI_REPLY,
        text,
        author: 'Assistant',
        sentAt: new Date().toISOString(),
        citations: [{ articleId: 'kb-export', title: 'Exporting', score: 0.8 }],
      }),
    });

  /** A conversation token as ingest signs it, issued at `issuedAt` (ms), for a conversation of its own. */
  const tokenIssued = (issuedAt: number) => {
    const externalConversationId = widgetExternalConversationId(keys.shop.id, randomUUID());
    const claims: ConversationClaims = {
      conversationId: conversationIdFor('web', externalConversationId),
      externalConversationId,
      widgetKeyId: keys.shop.id,
      customerId: 'anon-openapi',
      verified: false,
      sessionStart: Math.floor(issuedAt / 1000),
    };
    const { token } = issueConversationToken(conversationTokenSecret(STREAM_SECRET), claims, {
      ttlSeconds: TTL_S,
      now: issuedAt,
    });
    return { conversationId: claims.conversationId, token };
  };

  beforeAll(async () => {
    ({ rig } = await startIngestRig(
      'ingest-openapi-itest',
      {
        INGEST_API_KEYS: CHANNEL_KEY,
        INGEST_ADMIN_KEYS: ADMIN_KEY,
        INGEST_WIDGET_KEYS: JSON.stringify(Object.values(keys)),
        INGEST_WIDGET_TOKEN_TTL_S: String(TTL_S),
        INGEST_WIDGET_REFRESH_GRACE_S: String(GRACE_S),
        STREAM_TOKEN_SECRET: STREAM_SECRET,
        // No conversation of this file goes quiet; a refused rating is answered at once.
        QUIET_WINDOW_SECONDS: '3600',
        DESK_CATCH_UP_MS: '300',
      },
      [],
    ));
    // The widget API's CORS middleware (preflights and the origin check of every widget path, one
    // route per HTTP method) is no operation of its own: each widget operation documents its 403
    // origin_not_allowed.
    doc = await checkServedOpenApi(rig.app, rig.url, {
      ignore: registeredRoutes(rig.app).filter((r) => r.endsWith(' /v1/widget/{*path}')),
    });
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('documents the channel, widget and web chat routes', () => {
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/messages',
        '/v1/conversations/{id}/stream',
        '/v1/widget/conversations/{id}/token',
        '/',
      ]),
    );
  });

  it('answers the channel API as documented', async () => {
    const externalConversationId = `oa-${run}-1`;
    const message = {
      channel: 'web',
      externalConversationId,
      customerId: 'c-openapi',
      text: 'How do I export my invoices?',
      idempotencyKey: `oa-${run}-m1`,
      locale: 'en',
      pageUrl: '/billing/invoices',
    };
    const posted = await call('POST', '/v1/messages', { auth: CHANNEL_KEY, body: message });
    expect(posted.status).toBe(202);
    const { conversationId, messageId, streamToken: token } = posted.body;
    expect(conversationId).toBe(conversationIdFor('web', externalConversationId));
    const reused = await call('POST', '/v1/messages', {
      auth: CHANNEL_KEY,
      body: { ...message, text: 'Something else' },
    });
    expect(reused.status).toBe(409);
    const invalid = await call('POST', '/v1/messages', {
      auth: CHANNEL_KEY,
      body: { ...message, channel: 'Web Chat', text: '', extra: 1 },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues.map((i: { field: string }) => i.field)).toEqual(
      expect.arrayContaining(['extra']),
    );
    expect((await call('POST', '/v1/messages', { body: message })).status).toBe(401);
    expect(
      (await call('POST', '/v1/messages', { auth: keys.shop.key, body: message })).status,
    ).toBe(401);

    // Read with the admin key or the channel key; once appended, a repeat is a duplicate.
    await stateWhen(conversationId, (s) => s.messages.length === 1);
    const again = await call('POST', '/v1/messages', { auth: CHANNEL_KEY, body: message });
    expect(again.body).toEqual(expect.objectContaining({ messageId, duplicate: true }));
    await aiAnswered(conversationId, messageId);
    const state = await stateWhen(conversationId, (s) => !!s.messages[0].decision);
    expect(state.messages[0]).toEqual(
      expect.objectContaining({ proposal: expect.any(Object), score: expect.any(Object) }),
    );
    expect(
      (await call('GET', `/v1/conversations/${conversationId}`, { auth: CHANNEL_KEY })).status,
    ).toBe(200);
    expect(
      (await call('GET', `/v1/conversations/${randomUUID()}`, { auth: ADMIN_KEY })).status,
    ).toBe(404);
    expect((await call('GET', '/v1/conversations/not-a-uuid', { auth: ADMIN_KEY })).status).toBe(
      400,
    );
    expect((await call('GET', `/v1/conversations/${conversationId}`)).status).toBe(401);

    // The stream: what the customer was sent.
    await sent(conversationId, 'Open Billing, then Export.');
    const stream = `/v1/conversations/${conversationId}/stream`;
    await waitUntil('the stream to have the message', async () =>
      (await firstEvent(`${stream}?token=${token}`)).text.includes('Open Billing'),
    );
    expect((await firstEvent(`${stream}?token=wrong`)).status).toBe(403);
    expect((await firstEvent(`/v1/conversations/nope/stream?token=${token}`)).status).toBe(400);

    // The customer confirms the answer, then rates the conversation.
    const customer = (path: string, body?: unknown, id = conversationId) =>
      call('POST', `/v1/conversations/${id}/${path}`, {
        auth: CHANNEL_KEY,
        body,
        headers: { 'x-stream-token': streamToken(STREAM_SECRET, id) },
      });
    expect(
      (await call('POST', `/v1/conversations/${conversationId}/confirm`, { auth: CHANNEL_KEY }))
        .status,
    ).toBe(403);
    expect((await customer('confirm')).status).toBe(200);
    await stateWhen(conversationId, (s) => s.status === 'resolved_by_ai' && !!s.csatRequests);
    const refused = await customer('confirm');
    expect([refused.status, refused.body.reason]).toEqual([409, 'already_resolved']);
    expect((await customer('confirm', undefined, randomUUID())).status).toBe(404);
    const rated = await customer('csat', { score: 5, comment: 'Quick!' });
    expect(rated.status).toBe(200);
    const unknownRequest = await customer('csat', { score: 4, requestId: randomUUID() });
    expect([unknownRequest.status, unknownRequest.body.reason]).toEqual([409, 'known_request']);
    expect((await customer('csat', { score: 6 })).status).toBe(400);
    expect((await customer('csat', { score: 3 }, randomUUID())).status).toBe(404);
    expect(
      (await call('POST', `/v1/conversations/${conversationId}/csat`, { body: { score: 1 } }))
        .status,
    ).toBe(401);
    await stateWhen(conversationId, (s) => s.csat?.score === 5);

    // A second conversation: never asked to rate, then resolved by the channel.
    const second = await call('POST', '/v1/messages', {
      auth: CHANNEL_KEY,
      body: { ...message, externalConversationId: `oa-${run}-2`, idempotencyKey: `oa-${run}-m2` },
    });
    const other = second.body.conversationId;
    await stateWhen(other, (s) => s.messages.length === 1);
    const notAsked = await customer('csat', { score: 2 }, other);
    expect([notAsked.status, notAsked.body.reason]).toEqual([409, 'requested']);
    const noAnswer = await customer('confirm', undefined, other);
    expect([noAnswer.status, noAnswer.body.reason]).toEqual([409, 'no_ai_reply']);
    const resolve = (id: string, body?: unknown) =>
      call('POST', `/v1/conversations/${id}/resolve`, { auth: CHANNEL_KEY, body });
    expect((await resolve(other, { note: 'x'.repeat(2001) })).status).toBe(400);
    const resolved = await resolve(other, { resolvedBy: 'agent-portal', note: 'done' });
    expect(resolved.body).toEqual({ conversationId: other, resolution: 'ai' });
    await stateWhen(other, (s) => s.status === 'resolved_by_ai');
    expect((await resolve(other)).status).toBe(409);
    expect((await resolve(randomUUID())).status).toBe(404);
    expect((await call('POST', `/v1/conversations/${other}/resolve`, {})).status).toBe(401);
  });

  it('answers the widget API as documented', async () => {
    const start = (key: string, body: unknown = {}, headers: Record<string, string> = {}) =>
      call('POST', '/v1/widget/conversations', { auth: key, body, headers });
    const started = await start(keys.shop.key, {}, { origin: SHOP });
    expect(started.status).toBe(201);
    const { conversationId, token } = started.body;
    const verified = await start(keys.shop.key, {
      customerId: 'c-verified',
      userHash: userHashOf(IDENTITY_SECRET, 'c-verified'),
    });
    expect(verified.body.customer).toEqual({ id: 'c-verified', verified: true });
    expect(
      (await start(keys.shop.key, { customerId: 'c-1', userHash: '0'.repeat(64) })).status,
    ).toBe(401);
    const required = await start(keys.members.key);
    expect([required.status, required.body.error]).toEqual([401, 'identity_required']);
    expect((await start(keys.shop.key, { email: 'a@b.example' })).status).toBe(400);
    expect((await start('')).status).toBe(401);
    // An origin no widget key allows (the CORS check), and one another key allows.
    expect((await start(keys.shop.key, {}, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await start(keys.shop.key, {}, { origin: OTHER_SHOP })).status).toBe(403);

    const base = `/v1/widget/conversations/${conversationId}`;
    const widget = (path: string, body?: unknown, credential = token) =>
      call('POST', `${base}/${path}`, { auth: credential, body });
    expect((await widget('confirm')).status).toBe(404);
    const posted = await widget('messages', {
      text: 'Where are my invoices?',
      idempotencyKey: 'k1',
    });
    expect(posted.status).toBe(202);
    const reused = await widget('messages', { text: 'Another question', idempotencyKey: 'k1' });
    expect(reused.status).toBe(409);
    expect((await widget('messages', { text: 'No key' })).status).toBe(400);
    expect(
      (await widget('messages', { text: 'Hi', idempotencyKey: 'k2', customerId: 'x' })).status,
    ).toBe(400);
    const invalid = await widget('messages', { text: 'Hi', idempotencyKey: 'k3' }, 'not-a-token');
    expect([invalid.status, invalid.body.error]).toEqual([401, 'token_invalid']);
    const expired = await widget(
      'messages',
      { text: 'Hi', idempotencyKey: 'k4' },
      tokenIssued(Date.now() - (TTL_S + 60) * 1000).token,
    );
    expect([expired.status, expired.body.error]).toEqual([401, 'token_expired']);
    const elsewhere = await widget(
      'messages',
      { text: 'Hi', idempotencyKey: 'k5' },
      verified.body.token,
    );
    expect([elsewhere.status, elsewhere.body.error]).toEqual([403, 'wrong_conversation']);

    // The AI answers; the stream shows it; the customer confirms and rates.
    await stateWhen(conversationId, (s) => s.messages.length === 1);
    const noAnswerYet = await widget('confirm');
    expect([noAnswerYet.status, noAnswerYet.body.reason]).toEqual([409, 'no_ai_reply']);
    const notAsked = await widget('csat', { score: 4 });
    expect([notAsked.status, notAsked.body.reason]).toEqual([409, 'requested']);
    await aiAnswered(conversationId, posted.body.messageId);
    await sent(conversationId, 'Open Billing, then Export.');
    await waitUntil('the widget stream to have the message', async () =>
      (await firstEvent(`${base}/stream?token=${token}`)).text.includes('Open Billing'),
    );
    expect((await firstEvent(`${base}/stream?token=nope`)).status).toBe(401);
    expect((await firstEvent(`${base}/stream?token=${verified.body.token}`)).status).toBe(403);
    await stateWhen(conversationId, (s) => s.transcript.some((l) => l.speaker === 'ai'));
    expect((await widget('confirm')).status).toBe(200);
    await stateWhen(conversationId, (s) => !!s.csatRequests);
    expect((await widget('csat', { score: 0 })).status).toBe(400);
    expect((await widget('csat', { score: 4, comment: 'Fine' })).status).toBe(200);

    // Refresh: a valid token, one expired too long ago, a forged one, another conversation's.
    const refreshed = await widget('token');
    expect(refreshed.body.conversationId).toBe(conversationId);
    const stale = tokenIssued(Date.now() - (TTL_S + GRACE_S + 60) * 1000);
    const unrefreshable = await call(
      'POST',
      `/v1/widget/conversations/${stale.conversationId}/token`,
      {
        auth: stale.token,
      },
    );
    expect([unrefreshable.status, unrefreshable.body.reason]).toEqual([401, 'grace_passed']);
    expect((await widget('token', undefined, 'forged.token.here')).status).toBe(401);
    expect((await widget('token', undefined, verified.body.token)).status).toBe(403);
    expect(
      (await call('POST', '/v1/widget/conversations/nope/token', { auth: token })).status,
    ).toBe(400);
  });

  it("answers 429 with Retry-After past a widget key's limit, as documented", async () => {
    const statuses: number[] = [];
    let retryAfter = '';
    for (let i = 0; i < 3; i++) {
      const res = await call('POST', '/v1/widget/conversations', {
        auth: keys.limited.key,
        body: {},
      });
      statuses.push(res.status);
      retryAfter = res.headers.get('retry-after') ?? '';
    }
    expect(statuses).toEqual([201, 201, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('serves the web chat as documented', async () => {
    const page = await call('GET', `/?key=${keys.shop.key}`);
    expect(page.headers.get('content-security-policy')).toContain(`frame-ancestors ${SHOP}`);
    expect((await call('GET', '/chat.js')).status).toBe(200);
    expect((await call('GET', '/chat.css')).status).toBe(200);
  });
});
