import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { DeadLetterTopics, Topics } from '@support/bus';
import {
  create,
  CustomerIdentity,
  InboundMessageSchema,
  OutboundKind,
  OutboundMessageSchema,
} from '@support/contracts';
import type { Redis } from 'ioredis';
import { REDIS } from '@support/service-kit';
import { sleep, type ServiceRig } from '@support/testing';
import { startIngestRig } from '../../test/rig';
import {
  conversationTokenSecret,
  issueConversationToken,
  type ConversationClaims,
} from '../domain/conversation-token';
import { conversationIdFor, messageIdFor, streamToken } from '../domain/ids';
import { userHashOf } from '../domain/identity';
import { OUTBOUND_HISTORY_TTL_S } from './outbound-history';

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
const SESSION_S = 86_400;

/** Widget keys of this run (fresh ids: the rate limits' counters in Redis are per key id). */
const keys = {
  shop: {
    id: `shop-${run}`,
    key: `wk_shop_${randomUUID()}`,
    origins: [SHOP],
    identitySecret: IDENTITY_SECRET,
  },
  members: {
    id: `members-${run}`,
    key: `wk_members_${randomUUID()}`,
    origins: [OTHER_SHOP],
    identitySecret: IDENTITY_SECRET,
    requireIdentity: true,
  },
  perAddress: { id: `addr-${run}`, key: `wk_addr_${randomUUID()}`, requestsPerMinutePerAddress: 3 },
  perKey: { id: `key-${run}`, key: `wk_key_${randomUUID()}`, requestsPerMinute: 2 },
};
const inboundDlq = DeadLetterTopics.find((t) => t.name === Topics.inbound.deadLetter)!;

interface Res {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe('ingest: the widget API (Kafka, Redis)', () => {
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    ({ rig } = await startIngestRig(
      'ingest-widget-itest',
      {
        INGEST_API_KEYS: CHANNEL_KEY,
        INGEST_ADMIN_KEYS: ADMIN_KEY,
        INGEST_WIDGET_KEYS: JSON.stringify(Object.values(keys)),
        INGEST_WIDGET_TOKEN_TTL_S: String(TTL_S),
        INGEST_WIDGET_REFRESH_GRACE_S: String(GRACE_S),
        INGEST_WIDGET_SESSION_MAX_S: String(SESSION_S),
        STREAM_TOKEN_SECRET: STREAM_SECRET,
        QUIET_WINDOW_SECONDS: '3600',
      },
      [Topics.inbound, Topics.events, Topics.outbound, inboundDlq],
    ));
  });

  afterAll(async () => {
    await rig?.close();
  });

  const call = async (
    method: string,
    path: string,
    {
      auth,
      body,
      headers = {},
    }: { auth?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Res> => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
  };

  const start = (key = keys.shop.key, identity: Record<string, unknown> = {}, headers = {}) =>
    call('POST', '/v1/widget/conversations', { auth: key, body: identity, headers });

  const started = async (key = keys.shop.key, identity: Record<string, unknown> = {}) => {
    const res = await start(key, identity);
    expect(res.status).toBe(201);
    return res.body as {
      conversationId: string;
      token: string;
      expiresAt: string;
      customer: { id: string; verified: boolean };
    };
  };

  const post = (conversationId: string, token: string, body: Record<string, unknown>) =>
    call('POST', `/v1/widget/conversations/${conversationId}/messages`, { auth: token, body });

  const receivedFor = (conversationId: string) =>
    rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === conversationId &&
        r.value.payload.case === 'customerMessageReceived',
    );

  /** Reads a conversation's SSE stream until `until` holds for what came, then closes it. */
  const readStream = async (path: string, until: (text: string) => boolean) => {
    const abort = new AbortController();
    const res = await fetch(`${rig.url}${path}`, { signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let seen = '';
    try {
      while (!(until(seen) && seen.endsWith('\n\n'))) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += Buffer.from(value).toString('utf8');
      }
    } finally {
      abort.abort();
    }
    return seen
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice('data: '.length)) as Record<string, unknown>);
  };

  const reply = (conversationId: string, text: string) => {
    const messageId = randomUUID();
    return {
      messageId,
      publish: () =>
        rig.bus.publish({
          topic: Topics.outbound,
          key: conversationId,
          value: create(OutboundMessageSchema, {
            messageId,
            conversationId,
            channel: 'web',
            kind: OutboundKind.AI_REPLY,
            text,
            author: 'Assistant',
          }),
          eventId: messageId,
        }),
    };
  };

  /** A token as ingest would sign it, issued at `issuedAt` (ms) for a session begun at `sessionStart` (ms). */
  const tokenIssued = (claims: ConversationClaims, issuedAt: number) =>
    issueConversationToken(conversationTokenSecret(STREAM_SECRET), claims, {
      ttlSeconds: TTL_S,
      now: issuedAt,
    }).token;

  it('lets a widget key start a conversation, post to it and follow its replies, as an anonymous customer', async () => {
    const c = await started();
    expect(c.customer).toEqual({ id: expect.stringMatching(/^anon-/), verified: false });
    expect(Date.parse(c.expiresAt) - Date.now()).toBeLessThanOrEqual(TTL_S * 1000);

    const sent = await post(c.conversationId, c.token, {
      text: 'How do I export my invoices?',
      idempotencyKey: 'first',
      locale: 'en',
    });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ conversationId: c.conversationId, duplicate: false });
    const [received] = await receivedFor(c.conversationId);
    expect(received.value.payload.value).toEqual(
      expect.objectContaining({
        channel: 'web',
        customerId: c.customer.id,
        text: 'How do I export my invoices?',
        customerIdentity: CustomerIdentity.ANONYMOUS,
        accountId: '',
        externalConversationId: expect.stringMatching(new RegExp(`^widget:${keys.shop.id}:`)),
      }),
    );
    // The same message again is the same message.
    const again = await post(c.conversationId, c.token, {
      text: 'How do I export my invoices?',
      idempotencyKey: 'first',
    });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ messageId: sent.body.messageId, duplicate: true });

    const answer = reply(c.conversationId, 'Open Billing, then Export.');
    await answer.publish();
    const messages = await readStream(
      `/v1/widget/conversations/${c.conversationId}/stream?token=${c.token}`,
      (t) => t.includes(answer.messageId),
    );
    expect(messages).toEqual([
      expect.objectContaining({ messageId: answer.messageId, text: 'Open Billing, then Export.' }),
    ]);
    // The history in Redis goes with the topic's retention once the conversation is quiet.
    const redis = rig.app.get<Redis>(REDIS);
    for (const key of ['history', 'seen']) {
      const ttl = await redis.ttl(`outbound:${key}:${c.conversationId}`);
      expect(ttl).toBeGreaterThan(OUTBOUND_HISTORY_TTL_S - 60);
      expect(ttl).toBeLessThanOrEqual(OUTBOUND_HISTORY_TTL_S);
    }
  });

  it('refuses the widget key and its tokens at every channel and admin endpoint, and publishes nothing for them', async () => {
    const c = await started();
    await post(c.conversationId, c.token, { text: 'hello', idempotencyKey: 'k1' });
    await receivedFor(c.conversationId);
    const id = c.conversationId;
    const message = {
      channel: 'web',
      externalConversationId: `chat-${randomUUID()}`,
      customerId: 'c-1',
      text: 'hi',
      idempotencyKey: randomUUID(),
    };
    for (const credential of [keys.shop.key, c.token]) {
      const refusals = [
        await call('POST', '/v1/messages', { auth: credential, body: message }),
        await call('GET', `/v1/conversations/${id}`, { auth: credential }),
        await call('POST', `/v1/conversations/${id}/resolve`, { auth: credential, body: {} }),
        await call('POST', `/v1/conversations/${id}/confirm`, {
          auth: credential,
          headers: { 'x-stream-token': credential },
        }),
        await call('POST', `/v1/conversations/${id}/csat`, {
          auth: credential,
          body: { score: 5 },
          headers: { 'x-stream-token': credential },
        }),
        await call('GET', `/v1/conversations/${id}/stream?token=${encodeURIComponent(credential)}`),
      ];
      expect(refusals.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 403]);
    }
    // A widget key is no conversation token, nor the other way round.
    expect((await post(id, keys.shop.key, { text: 'x', idempotencyKey: 'k2' })).status).toBe(401);
    expect((await start(c.token)).status).toBe(401);
    await sleep(1000);
    const published = rig.watcher
      .records(Topics.inbound)
      .filter((r) => r.value.externalConversationId === message.externalConversationId);
    expect(published).toEqual([]);
    expect(
      rig.watcher
        .records(Topics.events)
        .filter((r) => r.value.conversationId === id)
        .map((r) => r.value.payload.case),
    ).toEqual(['customerMessageReceived']);

    // The channel and admin keys still do their own jobs; the admin key does not post.
    expect((await call('GET', `/v1/conversations/${id}`, { auth: ADMIN_KEY })).status).toBe(200);
    expect((await call('GET', `/v1/conversations/${id}`, { auth: CHANNEL_KEY })).status).toBe(200);
    expect((await call('POST', '/v1/messages', { auth: ADMIN_KEY, body: message })).status).toBe(
      401,
    );
  });

  it("keeps a conversation token to its own conversation: another's messages, stream, confirmation, rating and token are refused", async () => {
    const mine = await started();
    const theirs = await started();
    const other = `/v1/widget/conversations/${theirs.conversationId}`;
    const refusals = [
      await post(theirs.conversationId, mine.token, { text: 'sneaky', idempotencyKey: 'x' }),
      await call('GET', `${other}/stream?token=${mine.token}`),
      await call('POST', `${other}/confirm`, { auth: mine.token }),
      await call('POST', `${other}/csat`, { auth: mine.token, body: { score: 1 } }),
      await call('POST', `${other}/token`, { auth: mine.token }),
    ];
    expect(refusals.map((r) => [r.status, r.body.error])).toEqual(
      Array(5).fill([403, 'wrong_conversation']),
    );
    await sleep(500);
    expect(rig.watcher.records(Topics.inbound).filter((r) => r.value.text === 'sneaky')).toEqual(
      [],
    );
  });

  it('refuses an expired token, refreshes it within its grace, and not after it nor past the session', async () => {
    const c = await started();
    const claims: ConversationClaims = {
      conversationId: c.conversationId,
      externalConversationId: `widget:${keys.shop.id}:${randomUUID()}`,
      widgetKeyId: keys.shop.id,
      customerId: c.customer.id,
      verified: false,
      sessionStart: Math.floor(Date.now() / 1000) - 3 * TTL_S,
    };
    const path = `/v1/widget/conversations/${c.conversationId}`;
    const expired = tokenIssued(claims, Date.now() - 2 * TTL_S * 1000);

    const refused = await post(c.conversationId, expired, {
      text: 'still there?',
      idempotencyKey: 'e1',
    });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'token_expired' });
    expect((await call('GET', `${path}/stream?token=${expired}`)).status).toBe(401);

    const refreshed = await call('POST', `${path}/token`, { auth: expired });
    expect(refreshed.status).toBe(200);
    const token = refreshed.body.token as string;
    expect(Date.parse(refreshed.body.expiresAt as string)).toBeGreaterThan(Date.now());
    expect(
      (await post(c.conversationId, token, { text: 'still there?', idempotencyKey: 'e1' })).status,
    ).toBe(202);

    // Expired longer ago than the grace: a stolen old token is of no use.
    const stale = tokenIssued(claims, Date.now() - (TTL_S + GRACE_S + 60) * 1000);
    const tooLate = await call('POST', `${path}/token`, { auth: stale });
    expect([tooLate.status, tooLate.body.reason]).toEqual([401, 'grace_passed']);
    // However often refreshed, never past the session's end.
    const old = tokenIssued(
      { ...claims, sessionStart: Math.floor(Date.now() / 1000) - SESSION_S - 60 },
      Date.now() - 1000,
    );
    const over = await call('POST', `${path}/token`, { auth: old });
    expect([over.status, over.body.reason]).toEqual([401, 'session_over']);
    // A forged token is no token.
    const forged = issueConversationToken(Buffer.from('not the secret'), claims, {
      ttlSeconds: TTL_S,
      now: Date.now(),
    }).token;
    expect((await call('POST', `${path}/token`, { auth: forged })).body).toMatchObject({
      error: 'token_invalid',
    });
  });

  it('marks a customer the site signed as verified (user hash or JWT), and refuses forged, mismatched and expired signatures', async () => {
    const customer = `cust-${run}`;
    const byHash = await started(keys.shop.key, {
      customerId: customer,
      userHash: userHashOf(IDENTITY_SECRET, customer),
    });
    expect(byHash.customer).toEqual({ id: customer, verified: true });
    const exp = Math.floor(Date.now() / 1000) + 600;
    const identityToken = jwt.sign(
      { sub: customer, accountId: 'acct-helios', exp },
      IDENTITY_SECRET,
      {
        algorithm: 'HS256',
      },
    );
    const byToken = await started(keys.shop.key, { identityToken });
    await post(byToken.conversationId, byToken.token, { text: 'my invoice', idempotencyKey: 'v1' });
    const [received] = await receivedFor(byToken.conversationId);
    expect(received.value.payload.value).toEqual(
      expect.objectContaining({
        customerId: customer,
        accountId: 'acct-helios',
        customerIdentity: CustomerIdentity.VERIFIED,
      }),
    );

    const refusals = [
      await start(keys.shop.key, {
        customerId: customer,
        userHash: userHashOf(IDENTITY_SECRET, 'someone-else'),
      }),
      await start(keys.shop.key, {
        customerId: customer,
        userHash: userHashOf('a'.repeat(40), customer),
      }),
      await start(keys.shop.key, {
        identityToken: jwt.sign({ sub: customer, exp }, 'b'.repeat(40), { algorithm: 'HS256' }),
      }),
      await start(keys.shop.key, {
        identityToken: jwt.sign({ sub: customer, exp: exp - 1200 }, IDENTITY_SECRET, {
          algorithm: 'HS256',
        }),
      }),
      await call('POST', '/v1/widget/conversations', { auth: keys.members.key, body: {} }),
    ];
    expect(refusals.map((r) => [r.status, r.body.error])).toEqual([
      [401, 'identity_invalid'],
      [401, 'identity_invalid'],
      [401, 'identity_invalid'],
      [401, 'identity_expired'],
      [401, 'identity_required'],
    ]);
    expect(refusals[3].body.issues).toEqual([
      expect.objectContaining({ field: 'identityToken', rule: 'expired' }),
    ]);
    // The key that requires an identity takes a signed one (from its own origin).
    const member = await call('POST', '/v1/widget/conversations', {
      auth: keys.members.key,
      body: { identityToken },
      headers: { origin: OTHER_SHOP },
    });
    expect(member.status).toBe(201);
  });

  it("answers CORS for the key's origins only, and serves the chat page framable by them alone", async () => {
    const preflight = await fetch(`${rig.url}/v1/widget/conversations`, {
      method: 'OPTIONS',
      headers: {
        origin: SHOP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/);

    const allowed = await start(keys.shop.key, {}, { origin: SHOP });
    expect(allowed.status).toBe(201);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(SHOP);

    const evil = 'https://evil.example';
    const refusedPreflight = await fetch(`${rig.url}/v1/widget/conversations`, {
      method: 'OPTIONS',
      headers: { origin: evil, 'access-control-request-method': 'POST' },
    });
    expect(refusedPreflight.status).toBe(403);
    expect(refusedPreflight.headers.get('access-control-allow-origin')).toBeNull();
    const refused = await start(keys.shop.key, {}, { origin: evil });
    expect([refused.status, refused.body.error]).toEqual([403, 'origin_not_allowed']);
    // Allowed for another widget key is not allowed for this one.
    const crossed = await start(keys.shop.key, {}, { origin: OTHER_SHOP });
    expect([crossed.status, crossed.body.error]).toEqual([403, 'origin_not_allowed']);
    // Ingest's own chat page calls from ingest's origin.
    expect((await start(keys.shop.key, {}, { origin: rig.url })).status).toBe(201);

    const page = await fetch(`${rig.url}/?key=${keys.shop.key}`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(new RegExp(`frame-ancestors ${SHOP}(;|$)`));
    expect(csp).toMatch(/script-src 'self'/);
    expect(await page.text()).not.toMatch(/<script>|<style>/);
    expect((await fetch(`${rig.url}/`)).headers.get('content-security-policy')).toMatch(
      /frame-ancestors 'none'/,
    );
    const script = await fetch(`${rig.url}/chat.js`);
    expect([script.status, script.headers.get('content-type')]).toEqual([
      200,
      'text/javascript; charset=utf-8',
    ]);
  });

  it('limits requests per client address and per widget key: 429 with Retry-After', async () => {
    const perAddress = [];
    for (let i = 0; i < 4; i++) perAddress.push(await start(keys.perAddress.key));
    expect(perAddress.map((r) => r.status)).toEqual([201, 201, 201, 429]);
    expect(Number(perAddress[3].headers.get('retry-after'))).toBeGreaterThan(0);
    expect(perAddress[3].body).toMatchObject({ error: 'rate_limited', limit: 'client address' });

    const perKey = [];
    for (let i = 0; i < 3; i++) perKey.push(await start(keys.perKey.key));
    expect(perKey.map((r) => r.status)).toEqual([201, 201, 429]);
    expect(perKey[2].body).toMatchObject({ error: 'rate_limited', limit: 'widget key' });
    expect(Number(perKey[2].headers.get('retry-after'))).toBeGreaterThan(0);
    // Other keys are not held back.
    expect((await start()).status).toBe(201);
  });

  it('refuses an idempotency key reused for a different message with a 409 naming it, and publishes nothing for it', async () => {
    const key = `idem-${randomUUID()}`;
    const first = {
      channel: 'web',
      externalConversationId: `chat-${randomUUID()}`,
      customerId: 'c-1',
      text: 'Where is my refund?',
      idempotencyKey: key,
    };
    const ok = await call('POST', '/v1/messages', { auth: CHANNEL_KEY, body: first });
    expect(ok.status).toBe(202);
    await receivedFor(ok.body.conversationId as string);
    const same = await call('POST', '/v1/messages', { auth: CHANNEL_KEY, body: first });
    expect([same.status, same.body.duplicate, same.body.messageId]).toEqual([
      202,
      true,
      ok.body.messageId,
    ]);

    for (const other of [
      { ...first, text: 'Something else entirely' },
      { ...first, customerId: 'c-2' },
      { ...first, externalConversationId: `chat-${randomUUID()}` },
    ]) {
      const res = await call('POST', '/v1/messages', { auth: CHANNEL_KEY, body: other });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({
        error: 'idempotency_conflict',
        issues: [expect.objectContaining({ field: 'idempotencyKey', rule: 'reused' })],
      });
    }
    // A channel adapter publishing the same conflict on support.inbound: a dead letter naming the key.
    await rig.bus.publish({
      topic: Topics.inbound,
      key: `web:${first.externalConversationId}`,
      value: create(InboundMessageSchema, { ...first, text: 'Yet another text' }),
    });
    const [letter] = await rig.watcher.waitFor(inboundDlq, (r) => r.value.reason.includes(key));
    expect(letter.value.reason).toMatch(/idempotencyKey \(reused\)/);
    const withKey = rig.watcher
      .records(Topics.inbound)
      .filter((r) => r.value.idempotencyKey === key);
    // The first message, and the adapter's conflicting one; nothing from the refused requests.
    expect(withKey.map((r) => r.value.text)).toEqual(['Where is my refund?', 'Yet another text']);
    const messageId = messageIdFor('web', key);
    expect(
      rig.watcher
        .records(Topics.events)
        .filter(
          (r) =>
            r.value.payload.case === 'customerMessageReceived' &&
            r.value.payload.value.messageId === messageId,
        ),
    ).toHaveLength(1);

    // In a widget conversation, the browser's keys are its own conversation's.
    const c = await started();
    expect(
      (await post(c.conversationId, c.token, { text: 'one', idempotencyKey: key })).status,
    ).toBe(202);
    const widgetConflict = await post(c.conversationId, c.token, {
      text: 'two',
      idempotencyKey: key,
    });
    expect([
      widgetConflict.status,
      (widgetConflict.body.issues as { field: string }[])[0].field,
    ]).toEqual([409, 'idempotencyKey']);
  });

  it("keeps the channel API's stream token working for channel adapters", async () => {
    const externalConversationId = `chat-${randomUUID()}`;
    const conversationId = conversationIdFor('web', externalConversationId);
    const answer = reply(conversationId, 'Hello from the channel');
    await answer.publish();
    const messages = await readStream(
      `/v1/conversations/${conversationId}/stream?token=${streamToken(STREAM_SECRET, conversationId)}`,
      (t) => t.includes(answer.messageId),
    );
    expect(messages.map((m) => m.messageId)).toEqual([answer.messageId]);
  });
});
