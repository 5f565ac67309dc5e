import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { INestApplication } from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import {
  AssignmentStatus,
  create,
  HandoffRequestSchema,
  AgentAssignmentSchema,
  PresenceStatus,
  Priority,
  ReplyKind,
  Resolution,
} from '@support/contracts';
import { conversationEvent, type PayloadInitOf } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  customerMessageReceived,
  startServiceRig,
  waitForGroupToCatchUp,
  waitUntil,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DeskController } from './desk.controller';
import { SESSION_COOKIE } from './session';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const SESSION_SECRET = `itest-session-secret-${randomUUID()}`;
const run = randomUUID().slice(0, 8);
/**
 * The client address this run's requests come from (X-Forwarded-For, which the desk believes
 * from loopback here): sign-in failures are counted per address, and other runs' do not count.
 */
const RUN_ADDRESS = `2001:db8:${run.slice(0, 4)}:${run.slice(4)}::1`;

/** Two agents of this run, each with a desk login. */
const ada = {
  login: `ada-${run}@desk.example`,
  password: `ada-password-${run}`,
  agentId: `itest-ada-${run}`,
  name: 'Ada Lovelace',
  team: 'Billing',
};
const bob = {
  login: `bob-${run}@desk.example`,
  password: `bob-password-${run}`,
  agentId: `itest-bob-${run}`,
  name: 'Bob Babbage',
  team: 'Support',
};

interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON answer, read field by field. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Issue {
  field: string;
  rule: string;
  message: string;
}

describe('desk: sign-in, the queue, a conversation, actions and live updates (Kafka, Redis, PostgreSQL)', () => {
  let rig: ServiceRig<INestApplication>;
  const conversations: string[] = [];
  /** Each session's CSRF token, by its cookie: sent with the cookie on requests that change something. */
  const csrfOf = new Map<string, string>();

  const http = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    {
      body,
      cookie,
      key,
      headers = {},
    }: { body?: unknown; cookie?: string; key?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        'x-forwarded-for': RUN_ADDRESS,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(cookie ? { cookie } : {}),
        ...(cookie && method !== 'GET' && csrfOf.has(cookie)
          ? { 'x-csrf-token': csrfOf.get(cookie)! }
          : {}),
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  };

  /** Signs in; resolves with the `Cookie` header to send from then on. */
  const signIn = async (who: { login: string; password: string }): Promise<string> => {
    const res = await http('POST', '/v1/session', {
      body: { login: who.login, password: who.password },
    });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    const pair = setCookie.split(';')[0];
    expect(pair.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    csrfOf.set(pair, (res.body as { csrfToken: string }).csrfToken);
    return pair;
  };

  const presenceOf = (agentId: string, status: PresenceStatus) =>
    rig.watcher.waitFor(
      Topics.presence,
      (r) => r.key === agentId && r.value.agentId === agentId && r.value.status === status,
    );

  let n = 0;
  const append = <K extends Parameters<typeof conversationEvent>[2]>(
    conversationId: string,
    kind: K,
    value: PayloadInitOf<K>,
  ) => rig.append(conversationEvent(conversationId, `itest-${randomUUID()}-${n++}`, kind, value));

  /** A conversation on the log: a customer asked for a person, and the handoff was made. */
  const handedOff = async (text = 'I want to talk to a person') => {
    const conversationId = randomUUID();
    conversations.push(conversationId);
    const handoffId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId: 'm1', text }));
    await append(conversationId, 'handoffRequested', {
      handoffId,
      messageId: 'm1',
      triggers: [
        { rule: 'explicit_human_request', detail: 'asked for a person', value: 1, threshold: 1 },
      ],
      priority: Priority.HIGH,
      requiredSkills: ['billing'],
      language: 'en',
      policyVersion: 'itest',
      briefing: { summary: 'The customer wants a person about a refund' },
    });
    return { conversationId, handoffId };
  };
  const assign = (conversationId: string, handoffId: string, who: typeof ada) =>
    append(conversationId, 'agentAssigned', {
      handoffId,
      agentId: who.agentId,
      agentName: who.name,
      team: who.team,
      reason: 'itest',
    });

  /** The desk's view of a conversation, once `ready` holds for it. */
  const conversationOnceReady = async (
    cookie: string,
    conversationId: string,
    ready: (body: Json) => boolean,
  ) => {
    let last: Answer<Json> | undefined;
    await waitUntil(`the desk to show ${conversationId} as expected`, async () => {
      last = await http('GET', `/v1/desk/conversations/${conversationId}`, { cookie });
      return last.status === 200 && ready(last.body);
    });
    return last!.body;
  };

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      DESK_API_KEYS: API_KEY,
      DESK_SESSION_SECRET: SESSION_SECRET,
      DESK_DEMO_PASSWORD: '',
      DESK_TRUST_PROXY: 'loopback',
      LOG_LEVEL: 'warn',
    });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'desk-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: {
        what: "the desk's consumers to join their groups",
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.presence, Topics.deskActions],
    });
    // The log that earlier suites wrote is read before this suite's conversations.
    await waitForGroupToCatchUp(rig.bus.kafka, `${SERVICE}.log`, Topics.events.name);
    for (const who of [ada, bob]) {
      const { password, login, ...rest } = who;
      const put = await http('PUT', `/v1/logins/${login}`, {
        key: API_KEY,
        body: { ...rest, password },
      });
      expect(put.status).toBe(200);
    }
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      // Leave no conversation of this run open on the desk.
      for (const conversationId of conversations)
        await append(conversationId, 'conversationResolved', {
          resolution: Resolution.HUMAN,
          resolvedBy: 'itest',
          note: '',
        }).catch(() => undefined);
      for (const who of [ada, bob])
        await http('DELETE', `/v1/logins/${who.login}`, { key: API_KEY }).catch(() => undefined);
    }
    await rig?.close();
  });

  describe('sign-in', () => {
    it('answers a wrong password and an unknown login with the same 401', async () => {
      const wrong = await http('POST', '/v1/session', {
        body: { login: ada.login, password: 'not-the-password' },
      });
      const unknown = await http('POST', '/v1/session', {
        body: { login: `nobody-${run}@desk.example`, password: ada.password },
      });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(wrong.body);
      expect(wrong.body.message).toBe('wrong login or password');
      expect(wrong.headers.get('set-cookie')).toBeNull();
      expect(unknown.headers.get('set-cookie')).toBeNull();
    });

    it('names the field of a malformed sign-in', async () => {
      const res = await http<{ issues: Issue[] }>('POST', '/v1/session', {
        body: { login: ada.login },
      });
      expect(res.status).toBe(400);
      expect(res.body.issues.map((i) => i.field)).toEqual(['password']);
    });

    it('sets a Secure, HttpOnly, SameSite=Strict session cookie that GET /v1/session accepts', async () => {
      const res = await http('POST', '/v1/session', {
        // the login in any case
        body: { login: ada.login.toUpperCase(), password: ada.password },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        login: ada.login,
        agentId: ada.agentId,
        name: ada.name,
        team: ada.team,
        csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      const setCookie = res.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[^;]+;`));
      expect(setCookie).toMatch(/;\s*HttpOnly/i);
      expect(setCookie).toMatch(/;\s*SameSite=Strict/i);
      expect(setCookie).toMatch(/;\s*Path=\//i);
      expect(setCookie).toMatch(/;\s*Max-Age=43200/i);
      // Secure by default (DESK_SECURE_COOKIES is false only where the desk is served over plain HTTP)
      expect(setCookie).toMatch(/;\s*Secure/i);

      const cookie = setCookie.split(';')[0];
      const me = await http('GET', '/v1/session', { cookie });
      expect(me.status).toBe(200);
      expect(me.body).toEqual(res.body);
      expect((await http('GET', '/v1/session')).status).toBe(401);
    });

    it('refuses a forged, tampered or expired cookie, and one from another issuer', async () => {
      const claims = { agentId: ada.agentId, name: ada.name, team: ada.team };
      const forged = jwt.sign(claims, 'some-other-secret-of-at-least-32-chars', {
        algorithm: 'HS256',
        subject: ada.login,
        issuer: 'support-desk',
        expiresIn: 3600,
      });
      const expired = jwt.sign(
        { ...claims, exp: Math.floor(Date.now() / 1000) - 60 },
        SESSION_SECRET,
        { algorithm: 'HS256', subject: ada.login, issuer: 'support-desk' },
      );
      const otherIssuer = jwt.sign(claims, SESSION_SECRET, {
        algorithm: 'HS256',
        subject: ada.login,
        issuer: 'someone-else',
        expiresIn: 3600,
      });
      const good = (await signIn(ada)).split('=')[1];
      const [header, , signature] = good.split('.');
      const payload = Buffer.from(
        JSON.stringify({ ...jwt.decode(good, { json: true }), agentId: bob.agentId }),
      ).toString('base64url');
      const tampered = `${header}.${payload}.${signature}`;
      const unsigned = jwt.sign(claims, '', {
        algorithm: 'none',
        subject: ada.login,
        issuer: 'support-desk',
      });
      // the genuine token passes; each of the others is refused
      expect(
        (await http('GET', '/v1/session', { cookie: `${SESSION_COOKIE}=${good}` })).status,
      ).toBe(200);
      for (const token of [forged, expired, otherIssuer, tampered, unsigned, 'not-a-token']) {
        const res = await http('GET', '/v1/session', { cookie: `${SESSION_COOKIE}=${token}` });
        expect(res.status).toBe(401);
        expect(
          (await http('GET', '/v1/desk/queue', { cookie: `${SESSION_COOKIE}=${token}` })).status,
        ).toBe(401);
      }
    });

    it('refuses a disabled login', async () => {
      const carl = { login: `carl-${run}@desk.example`, password: `carl-password-${run}` };
      const put = await http('PUT', `/v1/logins/${carl.login}`, {
        key: API_KEY,
        body: {
          agentId: `itest-carl-${run}`,
          name: 'Carl',
          password: carl.password,
          disabled: true,
        },
      });
      expect(put.status).toBe(200);
      try {
        const res = await http('POST', '/v1/session', { body: carl });
        expect(res.status).toBe(401);
        expect(res.body.message).toBe('wrong login or password');
      } finally {
        await http('DELETE', `/v1/logins/${carl.login}`, { key: API_KEY });
      }
    });

    it('reports the agent ONLINE on agent.presence at sign-in, and OFFLINE at sign-out', async () => {
      const cookie = await signIn(bob);
      const [online] = await presenceOf(bob.agentId, PresenceStatus.ONLINE);
      expect(Date.parse(online.value.reportedAt)).not.toBeNaN();

      const out = await http('DELETE', '/v1/session', { cookie });
      expect(out.status).toBe(204);
      // the browser is told to drop the cookie
      expect(out.headers.get('set-cookie')).toMatch(
        new RegExp(`^${SESSION_COOKIE}=;.*Expires=Thu, 01 Jan 1970`, 'i'),
      );
      await presenceOf(bob.agentId, PresenceStatus.OFFLINE);
      // signing out without a session is harmless
      expect((await http('DELETE', '/v1/session')).status).toBe(204);
    });

    it('publishes the presence the desk reports, and names a wrong status', async () => {
      const cookie = await signIn(ada);
      const away = await http('POST', '/v1/desk/presence', { cookie, body: { status: 'away' } });
      expect(away.status).toBe(202);
      expect(away.body).toEqual({ status: 'away' });
      await presenceOf(ada.agentId, PresenceStatus.AWAY);
      const bad = await http<{ issues: Issue[] }>('POST', '/v1/desk/presence', {
        cookie,
        body: { status: 'busy' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.issues[0].field).toBe('status');
      expect((await http('POST', '/v1/desk/presence', { body: { status: 'online' } })).status).toBe(
        401,
      );
    });
  });

  describe('the queue and a conversation', () => {
    let adaCookie: string;
    let bobCookie: string;
    let c: { conversationId: string; handoffId: string };
    const acceptBy = new Date(Date.now() + 5 * 60_000).toISOString();

    beforeAll(async () => {
      adaCookie = await signIn(ada);
      bobCookie = await signIn(bob);
      // Given a handoff assigned to Ada, a later customer message with the AI's proposal for it,
      // the decider's briefing and the router's assignment
      c = await handedOff();
      await assign(c.conversationId, c.handoffId, ada);
      await rig.append(
        customerMessageReceived(c.conversationId, { messageId: 'm2', text: 'Where is my refund?' }),
      );
      await append(c.conversationId, 'aiReplyProposed', {
        messageId: 'm2',
        replyId: 'reply-m2',
        text: 'Refunds reach your account within 5 days.',
        confidence: 0.41,
        kind: ReplyKind.ANSWER,
        generator: 'extractive',
        citations: [{ articleId: 'kb-refunds', title: 'Refunds', snippet: '5 days', score: 0.8 }],
      });
      const request = (revision: number, summary: string) =>
        create(HandoffRequestSchema, {
          handoffId: c.handoffId,
          conversationId: c.conversationId,
          priority: Priority.HIGH,
          requiredSkills: ['billing'],
          language: 'en',
          triggers: [{ rule: 'explicit_human_request', detail: 'asked', value: 1, threshold: 1 }],
          briefing: { summary, intent: 'refund_status', customerId: `cust-${c.conversationId}` },
          requestedAt: new Date().toISOString(),
          revision,
        });
      // a newer revision, then an older one arriving late: the desk keeps the newer
      for (const r of [request(2, 'Refund overdue (model summary)'), request(1, 'Refund')])
        await rig.bus.publish({ topic: Topics.handoffRequests, key: c.conversationId, value: r });
      await rig.bus.publish({
        topic: Topics.handoffAssignments,
        key: c.conversationId,
        value: create(AgentAssignmentSchema, {
          handoffId: c.handoffId,
          conversationId: c.conversationId,
          agentId: ada.agentId,
          agentName: ada.name,
          team: ada.team,
          assignedAt: new Date().toISOString(),
          status: AssignmentStatus.ASSIGNED,
          acceptBy,
        }),
      });
    });

    type Queue = { items: Json[] };
    const queueItemOf = async (cookie: string, conversationId: string) => {
      let item: Json | undefined;
      // The log and handoff.assignments have consumers of their own: wait for both.
      await waitUntil(`${conversationId} on the desk's queue with its deadline`, async () => {
        const res = await http<Queue>('GET', '/v1/desk/queue', { cookie });
        expect(res.status).toBe(200);
        item = res.body.items.find((i) => i.conversationId === conversationId);
        return !!item?.acceptBy && item.last?.text === 'Where is my refund?';
      });
      return item!;
    };

    it('shows the handoff offered to Ada on her queue, with the deadline to accept', async () => {
      const item = await queueItemOf(adaCookie, c.conversationId);
      expect(item).toMatchObject({
        conversationId: c.conversationId,
        handoffId: c.handoffId,
        lane: 'offered',
        priority: Priority.HIGH,
        summary: 'The customer wants a person about a refund',
        rules: ['explicit_human_request'],
        requiredSkills: ['billing'],
        language: 'en',
        customerId: `cust-${c.conversationId}`,
        channel: 'web',
        agent: { agentId: ada.agentId, agentName: ada.name, team: ada.team },
        acceptBy,
        last: { speaker: 'customer', text: 'Where is my refund?' },
      });
      expect((await http('GET', '/v1/desk/queue')).status).toBe(401);
    });

    it("shows it in the colleague lane on Bob's queue", async () => {
      const item = await queueItemOf(bobCookie, c.conversationId);
      expect(item.lane).toBe('colleague');
      const view = await conversationOnceReady(bobCookie, c.conversationId, () => true);
      expect(view.lane).toBe('colleague');
    });

    it('returns the conversation with its transcript, the briefing, the assignment and the draft', async () => {
      const view = await conversationOnceReady(
        adaCookie,
        c.conversationId,
        (b) => !!b.draft && b.briefing?.revision === 2 && !!b.assignment,
      );
      expect(view.lane).toBe('offered');
      expect(view.conversation).toMatchObject({
        conversationId: c.conversationId,
        status: 'with_human',
        channel: 'web',
        handoff: {
          handoffId: c.handoffId,
          agent: { agentId: ada.agentId, agentName: ada.name },
        },
      });
      expect(view.conversation).not.toHaveProperty('appliedEventIds');
      expect(
        (view.conversation.transcript as { speaker: string; text: string }[]).map((l) => [
          l.speaker,
          l.text,
        ]),
      ).toEqual([
        ['customer', 'I want to talk to a person'],
        ['system', `${ada.name} (${ada.team}) joined`],
        ['customer', 'Where is my refund?'],
      ]);
      // the briefing as protobuf JSON
      expect(view.briefing).toMatchObject({
        handoffId: c.handoffId,
        conversationId: c.conversationId,
        priority: 'PRIORITY_HIGH',
        revision: 2,
        briefing: { summary: 'Refund overdue (model summary)', intent: 'refund_status' },
      });
      expect(view.assignment).toEqual({ agentId: ada.agentId, status: 'assigned', acceptBy });
      expect(view.draft).toEqual({
        messageId: 'm2',
        replyId: 'reply-m2',
        text: 'Refunds reach your account within 5 days.',
        confidence: 0.41,
        generator: 'extractive',
        citations: [{ articleId: 'kb-refunds', title: 'Refunds' }],
      });
      expect(view.articleDraft).toEqual({ title: 'I want to talk to a person', body: '' });
    });

    it('keeps the newest briefing when an older revision arrives later', async () => {
      await waitForGroupToCatchUp(
        rig.bus.kafka,
        `${SERVICE}.briefings`,
        Topics.handoffRequests.name,
      );
      const view = await conversationOnceReady(adaCookie, c.conversationId, () => true);
      expect(view.briefing.revision).toBe(2);
      expect(view.briefing.briefing.summary).toBe('Refund overdue (model summary)');
    });

    it('answers 404 for a conversation without a handoff and 400 for a malformed id', async () => {
      const none = await http('GET', `/v1/desk/conversations/${randomUUID()}`, {
        cookie: adaCookie,
      });
      expect(none.status).toBe(404);
      const bad = await http<{ issues: Issue[] }>('GET', '/v1/desk/conversations/not-a-uuid', {
        cookie: adaCookie,
      });
      expect(bad.status).toBe(400);
      expect(bad.body.issues[0].field).toBe('conversationId');
    });

    describe('actions', () => {
      const actionsOn = (conversationId: string) =>
        rig.watcher.records(Topics.deskActions).filter((r) => r.key === conversationId);
      const act = (
        cookie: string,
        conversationId: string,
        body: unknown,
        headers: Record<string, string> = {},
      ) =>
        http<{ actionId: string; issues?: Issue[]; message?: string }>(
          'POST',
          `/v1/desk/conversations/${conversationId}/actions`,
          { cookie, body, headers },
        );

      it('publishes an accept on desk.actions with the agent, the conversation and the handoff', async () => {
        const res = await act(adaCookie, c.conversationId, {
          type: 'accept',
          handoffId: c.handoffId,
        });
        expect(res.status).toBe(202);
        const [record] = await rig.watcher.waitFor(
          Topics.deskActions,
          (r) => r.value.actionId === res.body.actionId,
        );
        expect(record.key).toBe(c.conversationId);
        expect(record.meta.eventId).toBe(res.body.actionId);
        expect(record.value).toMatchObject({
          actionId: res.body.actionId,
          conversationId: c.conversationId,
          handoffId: c.handoffId,
          agentId: ada.agentId,
          agentName: ada.name,
          action: { case: 'accept', value: {} },
        });
        expect(Date.parse(record.value.sentAt)).not.toBeNaN();
      });

      it('gives a repeated action with the same Idempotency-Key the same action id', async () => {
        const key = `key-${randomUUID()}`;
        const first = await act(
          adaCookie,
          c.conversationId,
          { type: 'accept', handoffId: c.handoffId },
          { 'Idempotency-Key': key },
        );
        const again = await act(
          adaCookie,
          c.conversationId,
          { type: 'accept', handoffId: c.handoffId },
          { 'Idempotency-Key': key },
        );
        expect(first.status).toBe(202);
        expect(again.status).toBe(202);
        expect(again.body.actionId).toBe(first.body.actionId);
        // ingest appends one event for both (its id derives from the action id)
        const records = await rig.watcher.waitFor(
          Topics.deskActions,
          (r) => r.value.actionId === first.body.actionId,
          { count: 2 },
        );
        expect(records.map((r) => r.meta.eventId)).toEqual([
          first.body.actionId,
          first.body.actionId,
        ]);
        // another key is another action
        const other = await act(
          adaCookie,
          c.conversationId,
          { type: 'accept', handoffId: c.handoffId },
          { 'Idempotency-Key': `key-${randomUUID()}` },
        );
        expect(other.body.actionId).not.toBe(first.body.actionId);
      });

      it('refuses a reply from an agent who does not hold the conversation (409)', async () => {
        const res = await act(bobCookie, c.conversationId, {
          type: 'reply',
          handoffId: c.handoffId,
          text: 'Hi, Bob here',
        });
        expect(res.status).toBe(409);
        expect(res.body.message).toBe('the conversation is not assigned to you');
      });

      it('refuses an action on a handoff that is not current (409)', async () => {
        const res = await act(adaCookie, c.conversationId, {
          type: 'reply',
          handoffId: randomUUID(),
          text: 'Hello',
        });
        expect(res.status).toBe(409);
        expect(res.body.message).toBe('the handoff is no longer current');
      });

      it('names the field of a malformed action (400)', async () => {
        const empty = await act(adaCookie, c.conversationId, {
          type: 'reply',
          handoffId: c.handoffId,
          text: '   ',
        });
        expect(empty.status).toBe(400);
        expect(empty.body.issues?.map((i) => i.field)).toEqual(['text']);

        const unknown = await act(adaCookie, c.conversationId, {
          type: 'escalate',
          handoffId: c.handoffId,
        });
        expect(unknown.status).toBe(400);
        expect(unknown.body.issues?.map((i) => i.field)).toEqual(['type']);

        const badId = await act(adaCookie, 'not-a-conversation', {
          type: 'accept',
          handoffId: c.handoffId,
        });
        expect(badId.status).toBe(400);
        expect(badId.body.issues?.map((i) => i.field)).toEqual(['conversationId']);

        const badKey = await act(
          adaCookie,
          c.conversationId,
          { type: 'accept', handoffId: c.handoffId },
          { 'Idempotency-Key': 'k'.repeat(201) },
        );
        expect(badKey.status).toBe(400);
        expect(badKey.body.issues?.map((i) => i.field)).toEqual(['Idempotency-Key']);

        expect(
          (await act('', c.conversationId, { type: 'accept', handoffId: c.handoffId })).status,
        ).toBe(401);
      });

      it("publishes Ada's reply, then after the resolution refuses it but takes her mark and proposal", async () => {
        const reply = await act(adaCookie, c.conversationId, {
          type: 'reply',
          handoffId: c.handoffId,
          text: '  Your refund left today.  ',
          draftReplyId: 'reply-m2',
          draftEdited: true,
        });
        expect(reply.status).toBe(202);
        const [replied] = await rig.watcher.waitFor(
          Topics.deskActions,
          (r) => r.value.actionId === reply.body.actionId,
        );
        expect(replied.value.action).toEqual({
          case: 'reply',
          value: expect.objectContaining({
            text: 'Your refund left today.',
            draftReplyId: 'reply-m2',
            draftEdited: true,
          }),
        });

        // When the conversation is resolved
        await append(c.conversationId, 'conversationResolved', {
          resolution: Resolution.HUMAN,
          resolvedBy: 'agent',
          note: '',
        });
        await conversationOnceReady(
          adaCookie,
          c.conversationId,
          (b) => b.conversation.status === 'resolved_by_human',
        );
        // Then a reply is refused, marking and proposing are taken
        const late = await act(adaCookie, c.conversationId, {
          type: 'reply',
          handoffId: c.handoffId,
          text: 'One more thing',
        });
        expect(late.status).toBe(409);
        expect(late.body.message).toBe('the conversation is resolved');
        const mark = await act(adaCookie, c.conversationId, {
          type: 'mark_false_escalation',
          handoffId: c.handoffId,
          note: 'the AI knew this',
        });
        expect(mark.status).toBe(202);
        const proposal = await act(adaCookie, c.conversationId, {
          type: 'propose_article',
          handoffId: c.handoffId,
          title: 'Where is my refund?',
          body: 'Refunds leave within a day.',
          tags: ['billing'],
        });
        expect(proposal.status).toBe(202);
        const [proposed] = await rig.watcher.waitFor(
          Topics.deskActions,
          (r) => r.value.actionId === proposal.body.actionId,
        );
        expect(proposed.value.action).toEqual({
          case: 'proposeArticle',
          value: expect.objectContaining({
            title: 'Where is my refund?',
            body: 'Refunds leave within a day.',
            tags: ['billing'],
          }),
        });
        // Nothing was published for the refused and malformed actions: every action on this
        // conversation's partition up to the proposal has been seen, and they are these.
        expect(actionsOn(c.conversationId).map((r) => r.value.action.case)).toEqual([
          'accept',
          'accept',
          'accept',
          'accept',
          'reply',
          'markFalseEscalation',
          'proposeArticle',
        ]);
        // and the resolved conversation has left the queue
        const queue = await http<Queue>('GET', '/v1/desk/queue', { cookie: adaCookie });
        expect(queue.body.items.map((i) => i.conversationId)).not.toContain(c.conversationId);
      });
    });
  });

  describe('live updates (SSE)', () => {
    it('streams an update naming the conversation when an event for it lands on the log', async () => {
      const cookie = await signIn(ada);
      expect((await http('GET', '/v1/desk/stream')).status).toBe(401);

      const abort = new AbortController();
      const res = await fetch(`${rig.url}/v1/desk/stream`, {
        headers: { cookie },
        signal: abort.signal,
      });
      try {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const events = sseEvents(res.body!);
        const ready = await events.next((e) => e.event === 'ready');
        expect(JSON.parse(ready.data)).toEqual({ agentId: ada.agentId });

        // When a handoff is made and assigned to Ada
        const d = await handedOff('Please, a person');
        await assign(d.conversationId, d.handoffId, ada);
        // Then the stream tells of it, for her
        const update = await events.next((e) => {
          if (e.event !== 'update') return false;
          const u = JSON.parse(e.data) as { conversationId: string; kind: string };
          return u.conversationId === d.conversationId && u.kind === 'agentAssigned';
        });
        expect(JSON.parse(update.data)).toEqual({
          conversationId: d.conversationId,
          handoffId: d.handoffId,
          kind: 'agentAssigned',
          agentIds: [ada.agentId],
          forMe: true,
        });
        // and of a later event of the conversation, such as the customer's next message
        await rig.append(
          customerMessageReceived(d.conversationId, { messageId: 'm9', text: 'Still there?' }),
        );
        const next = await events.next((e) => {
          if (e.event !== 'update') return false;
          const u = JSON.parse(e.data) as { conversationId: string; kind: string };
          return u.conversationId === d.conversationId && u.kind === 'customerMessageReceived';
        });
        expect(JSON.parse(next.data)).toMatchObject({ handoffId: d.handoffId, forMe: true });
      } finally {
        abort.abort();
      }
    });

    it('ends open streams when the service shuts down, so that its HTTP server can close', async () => {
      const cookie = await signIn(bob);
      const abort = new AbortController();
      const res = await fetch(`${rig.url}/v1/desk/stream`, {
        headers: { cookie },
        signal: abort.signal,
      });
      try {
        const events = sseEvents(res.body!);
        await events.next((e) => e.event === 'ready');
        // When Nest runs the shutdown hooks
        rig.app.get(DeskController).beforeApplicationShutdown();
        // Then the stream ends (the browser reconnects, to another replica)
        await expect(events.ended).resolves.toBeUndefined();
      } finally {
        abort.abort();
      }
    });
  });

  describe('the web app', () => {
    // The app is built into web/dist by `npm run build` (which `npm test` runs first), or by
    // `npx vite build web` in services/desk; without it the service answers 503 saying so.
    it('serves index.html at / and for the pages of the app', async () => {
      for (const path of ['/', '/conversations/123']) {
        const res = await fetch(`${rig.url}${path}`);
        const html = await res.text();
        // (on failure, the diff shows what was served instead)
        const served = res.status === 200 ? {} : { body: html.slice(0, 120) };
        expect({ path, status: res.status, ...served }).toEqual({ path, status: 200 });
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(html).toMatch(/<!doctype html>/i);
        expect(html).toMatch(/<div id="root">/);
      }
    });

    it('serves the built assets, and 404 for a missing one', async () => {
      const html = await (await fetch(`${rig.url}/`)).text();
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const asset = await fetch(`${rig.url}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      expect(asset.headers.get('cache-control')).toMatch(/immutable/);
      await asset.arrayBuffer();
      const missing = await fetch(`${rig.url}/assets/missing-${run}.js`);
      expect(missing.status).toBe(404);
      await missing.arrayBuffer();
    });

    it('answers an unknown API path with a JSON 404, not the page', async () => {
      for (const path of ['/v1/unknown', '/v1/desk/nothing-here', '/v1']) {
        const res = await fetch(`${rig.url}${path}`);
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(((await res.json()) as { statusCode: number }).statusCode).toBe(404);
      }
    });

    it('still answers /health and /metrics', async () => {
      const health = await fetch(`${rig.url}/health`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { status: string }).status).toBe('ok');
      const metrics = await fetch(`${rig.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('desk_actions_total');
    });
  });
});

interface SseEvent {
  event: string;
  data: string;
}

/** Reads server-sent events from a response body; `next` waits for the first (new) one matching. */
function sseEvents(body: ReadableStream<Uint8Array>) {
  const seen: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let failure: Error | undefined;
  const decoder = new TextDecoder();
  const ended = (async () => {
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = { event: 'message', data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) event.data += line.slice(6);
          }
          if (block.split('\n').some((l) => !l.startsWith(':'))) seen.push(event);
        }
        for (const wake of [...waiters]) wake();
      }
    } catch (err) {
      failure = err as Error;
      for (const wake of [...waiters]) wake();
      throw err;
    }
  })();
  ended.catch(() => undefined);
  let taken = 0;
  return {
    /** Resolves when the server ends the stream. */
    ended,
    next: (match: (e: SseEvent) => boolean, timeoutMs = 30_000) =>
      new Promise<SseEvent>((resolve, reject) => {
        const check = () => {
          const i = seen.findIndex((e, index) => index >= taken && match(e));
          if (i >= 0) {
            done();
            taken = i + 1;
            resolve(seen[i]);
          } else if (failure) {
            done();
            reject(failure);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching server-sent event within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}
