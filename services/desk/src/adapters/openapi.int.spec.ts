import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { inArray } from 'drizzle-orm';
import { Bus, Topics } from '@support/bus';
import { create, HandoffRequestSchema, Priority } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  checkServedOpenApi,
  customerMessageReceived,
  expectMatchesOpenApi,
  fetchChecked,
  startServiceRig,
  waitUntil,
  type OpenApiDoc,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { suggestions } from './db/schema';
import { DeskDatabase } from './db/store';

jest.setTimeout(60_000);

const API_KEY = `openapi-itest-${randomUUID()}`;
const run = randomUUID().slice(0, 8);
/** This run's client address (X-Forwarded-For, believed from loopback): sign-in limits count per address. */
const ADDRESS = `2001:db8:${run.slice(0, 4)}:${run.slice(4)}::2`;
const agent = {
  login: `olga-${run}@desk.example`,
  password: `olga-password-${run}`,
  agentId: `oa-olga-${run}`,
  name: 'Olga OpenAPI',
  team: 'Billing',
};

/** A stand-in for the metrics service: JSON for any view, a refused key for the rule "refused". */
function metricsStandIn(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    if (req.url?.includes('/rules/refused/')) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"wrong key"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ conversations: 3 }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A webhook receiver on 127.0.0.1 that answers 200. */
function receiver(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;
const close = (server?: Server) =>
  new Promise<void>((resolve) => {
    server?.closeAllConnections();
    return server ? server.close(() => resolve()) : resolve();
  });

describe("the desk's OpenAPI document against its real answers", () => {
  let rig: ServiceRig<INestApplication>;
  let doc: OpenApiDoc;
  let metrics: Server;
  let hooks: Server;
  let cookie = '';
  let csrf = '';
  const suggestionIds: string[] = [];

  /** A call with the API key (`key`), the session (`session`), or neither; checked against the document. */
  const call = (
    method: string,
    path: string,
    body?: unknown,
    auth: {
      key?: string;
      session?: boolean;
      csrf?: boolean;
      headers?: Record<string, string>;
    } = {},
  ) =>
    fetchChecked(doc, rig.url, method, path, {
      body,
      headers: {
        'x-forwarded-for': ADDRESS,
        ...(auth.key ? { authorization: `Bearer ${auth.key}` } : {}),
        ...(auth.session ? { cookie } : {}),
        ...(auth.session && (auth.csrf ?? method !== 'GET') ? { 'x-csrf-token': csrf } : {}),
        ...auth.headers,
      },
    });
  const admin = (method: string, path: string, body?: unknown) =>
    call(method, path, body, { key: API_KEY });
  const desk = (method: string, path: string, body?: unknown, extra: { csrf?: boolean } = {}) =>
    call(method, path, body, { session: true, ...extra });

  beforeAll(async () => {
    metrics = await metricsStandIn();
    hooks = await receiver();
    const config = loadConfig(configSchema, {
      ...process.env,
      DESK_API_KEYS: API_KEY,
      DESK_SESSION_SECRET: `openapi-itest-session-secret-${randomUUID()}`,
      DESK_DEMO_PASSWORD: '',
      DESK_TRUST_PROXY: 'loopback',
      DESK_SIGNIN_MAX_FAILURES: '2',
      DESK_CATCH_UP_MS: '0',
      DESK_WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
      DESK_WEBHOOK_POLL_MS: '50',
      DESK_WEBHOOK_RETRY_BASE_MS: '60000',
      METRICS_URL: `http://127.0.0.1:${portOf(metrics)}`,
      METRICS_API_KEY: 'desk-metrics-key',
      LOG_LEVEL: 'warn',
    });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'desk-openapi-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: { what: "the desk's consumers to join", check: (app) => app.get(Bus).health().ok },
      watch: [],
    });
    // The web app's catch-all page is HTML, no part of the API.
    doc = await checkServedOpenApi(rig.app, rig.url, { ignore: ['GET /{*path}'] });
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      await admin('DELETE', `/v1/logins/${agent.login}`).catch(() => undefined);
      if (suggestionIds.length)
        await rig.app
          .get(DeskDatabase)
          .db.delete(suggestions)
          .where(inArray(suggestions.suggestionId, suggestionIds));
    }
    await rig?.close();
    await close(metrics);
    await close(hooks);
  });

  it('administers logins, webhooks with their deliveries, and the audit log as documented', async () => {
    const { login, ...input } = agent;
    expect((await admin('PUT', `/v1/logins/${login}`, input)).status).toBe(200);
    expect((await admin('GET', '/v1/logins')).body.logins).toContainEqual(
      expect.objectContaining({ login, disabled: false }),
    );
    const short = await admin('PUT', `/v1/logins/x-${run}`, { ...input, password: 'short' });
    expect([short.status, short.body.issues[0].field]).toEqual([400, 'password']);
    expect((await admin('DELETE', `/v1/logins/nobody-${run}`)).status).toBe(404);

    const created = await admin('POST', '/v1/webhooks', {
      url: `http://127.0.0.1:${portOf(hooks)}/hook-${run}`,
      events: ['handoff.requested'],
      description: `openapi ${run}`,
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const refused = await admin('POST', '/v1/webhooks', {
      url: 'ftp://example.com/x',
      events: ['nothing'],
    });
    expect(refused.status).toBe(400);
    expect(
      (await admin('GET', '/v1/webhooks')).body.webhooks.map((w: { id: string }) => w.id),
    ).toContain(id);

    const eventId = randomUUID();
    await rig.bus.publish({
      topic: Topics.handoffRequests,
      key: randomUUID(),
      eventId,
      value: create(HandoffRequestSchema, {
        handoffId: randomUUID(),
        conversationId: randomUUID(),
        priority: Priority.NORMAL,
        language: 'en',
        briefing: { summary: 'openapi' },
        requestedAt: new Date().toISOString(),
        revision: 1,
      }),
    });
    let deliveryId = '';
    await waitUntil('the delivery to be made', async () => {
      const res = await admin('GET', `/v1/webhooks/${id}/deliveries?limit=10`);
      const delivery = res.body.deliveries.find(
        (d: { eventId: string; status: string }) =>
          d.eventId === eventId && d.status === 'delivered',
      );
      deliveryId = delivery?.id ?? '';
      return !!delivery;
    });
    expect((await admin('POST', `/v1/webhooks/${id}/deliveries/${deliveryId}/retry`)).status).toBe(
      202,
    );
    expect((await admin('POST', `/v1/webhooks/${id}/deliveries/none-${run}/retry`)).status).toBe(
      404,
    );
    expect((await admin('GET', `/v1/webhooks/${id}/deliveries?status=lost`)).status).toBe(400);
    expect((await admin('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expect((await admin('DELETE', `/v1/webhooks/${id}`)).status).toBe(404);

    await waitUntil('the audit log to show the login', async () => {
      const res = await admin(
        'GET',
        `/v1/audit?resourceType=login&resourceId=${encodeURIComponent(login)}`,
      );
      return res.body.records.length > 0;
    });
    expect((await admin('GET', '/v1/audit?from=yesterday')).status).toBe(400);
    expect((await call('GET', '/v1/logins')).status).toBe(401);
  });

  it('signs in, shows the queue and a conversation, and takes actions as documented', async () => {
    const signedIn = await call('POST', '/v1/session', {
      login: agent.login,
      password: agent.password,
    });
    expect(signedIn.status).toBe(200);
    cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    csrf = signedIn.body.csrfToken;
    expect((await desk('GET', '/v1/session')).body.agentId).toBe(agent.agentId);

    // A customer asked for a person, and the router offered the handoff to this agent.
    const conversationId = randomUUID();
    const handoffId = randomUUID();
    await rig.append(
      customerMessageReceived(conversationId, { messageId: 'm1', text: 'A person, please' }),
    );
    await rig.append(
      conversationEvent(conversationId, randomUUID(), 'handoffRequested', {
        handoffId,
        messageId: 'm1',
        triggers: [{ rule: 'explicit_human_request', detail: 'asked', value: 1, threshold: 1 }],
        priority: Priority.HIGH,
        requiredSkills: ['billing'],
        language: 'en',
        policyVersion: 'openapi',
        briefing: { summary: 'Wants a person' },
      }),
    );
    await rig.append(
      conversationEvent(conversationId, randomUUID(), 'agentAssigned', {
        handoffId,
        agentId: agent.agentId,
        agentName: agent.name,
        team: agent.team,
        reason: 'openapi',
      }),
    );
    await waitUntil('the queue to offer the handoff', async () => {
      const queue = await desk('GET', '/v1/desk/queue');
      return queue.body.items.some(
        (i: { conversationId: string; lane: string }) =>
          i.conversationId === conversationId && i.lane === 'offered',
      );
    });
    const detail = await desk('GET', `/v1/desk/conversations/${conversationId}`);
    expect(detail.body.conversation.handoff.handoffId).toBe(handoffId);
    expect((await desk('GET', `/v1/desk/conversations/${randomUUID()}`)).status).toBe(404);
    expect((await desk('GET', '/v1/desk/conversations/not-a-uuid')).status).toBe(400);

    const actions = `/v1/desk/conversations/${conversationId}/actions`;
    expect((await desk('POST', actions, { type: 'accept', handoffId })).status).toBe(202);
    expect(
      (await desk('POST', actions, { type: 'accept', handoffId }, { csrf: false })).status,
    ).toBe(403);
    expect((await desk('POST', actions, { type: 'shout', handoffId })).status).toBe(400);
    const viaGateway = { conversationId, agentId: agent.agentId, agentName: agent.name };
    expect(
      (
        await call(
          'POST',
          '/v1/actions',
          { ...viaGateway, type: 'accept', handoffId },
          { key: API_KEY },
        )
      ).status,
    ).toBe(202);
    const notTheirs = await call(
      'POST',
      '/v1/actions',
      { ...viaGateway, agentId: `someone-else-${run}`, type: 'reply', handoffId, text: 'Hello' },
      { key: API_KEY },
    );
    expect(notTheirs.status).toBe(409);
    expect((await call('POST', '/v1/actions', { type: 'accept' }, { key: API_KEY })).status).toBe(
      400,
    );

    expect((await desk('POST', '/v1/desk/presence', { status: 'away' })).status).toBe(202);
    expect((await desk('POST', '/v1/desk/presence', { status: 'asleep' })).status).toBe(400);
  });

  it('streams changes as documented', async () => {
    const controller = new AbortController();
    const res = await fetch(`${rig.url}/v1/desk/stream`, {
      headers: { cookie },
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    // The first event (or, on an error, the whole body).
    for (let chunk = await reader.read(); ; chunk = await reader.read()) {
      text += new TextDecoder().decode(chunk.value);
      if (chunk.done || text.includes('\n\n')) break;
    }
    controller.abort();
    expectMatchesOpenApi(
      doc,
      'GET',
      '/v1/desk/stream',
      res.status,
      text,
      res.headers.get('content-type')!,
    );
    expect((await call('GET', '/v1/desk/stream')).status).toBe(401);
  });

  it('reviews knowledge suggestions as documented', async () => {
    const db = rig.app.get(DeskDatabase).db;
    const [pending, done] = [`oa-pending-${run}`, `oa-done-${run}`];
    suggestionIds.push(pending, done);
    const at = new Date();
    for (const [suggestionId, status] of [
      [pending, 'pending'],
      [done, 'rejected'],
    ])
      await db.insert(suggestions).values({
        suggestionId,
        title: 'Exporting reports',
        body: 'Open Reports, then Export.',
        status,
        sources: [
          {
            conversationId: randomUUID(),
            handoffId: randomUUID(),
            agentId: 'ag',
            question: 'export?',
          },
        ],
        expiresAt: new Date(at.getTime() + 86_400_000),
        createdAt: at,
        updatedAt: at,
      });
    const listed = await desk('GET', '/v1/desk/knowledge/suggestions?status=pending&limit=200');
    expect(listed.body.suggestions.map((s: { suggestionId: string }) => s.suggestionId)).toContain(
      pending,
    );
    expect((await desk('GET', '/v1/desk/knowledge/suggestions?status=lost')).status).toBe(400);
    const base = '/v1/desk/knowledge/suggestions';
    expect(
      (await desk('POST', `${base}/${pending}/approve`, { title: 'Exporting reports as CSV' }))
        .status,
    ).toBe(202);
    expect((await desk('POST', `${base}/${done}/reject`, { reason: 'again' })).status).toBe(409);
    expect((await desk('POST', `${base}/oa-none-${run}/reject`, {})).status).toBe(404);
    expect((await desk('POST', `${base}/${pending}/approve`, { title: '' })).status).toBe(400);
    expect((await call('GET', `${base}`)).status).toBe(401);
  });

  it('forwards analytics as documented', async () => {
    expect((await desk('GET', '/v1/analytics/overview?from=2026-01-01')).body).toEqual({
      conversations: 3,
    });
    expect((await desk('GET', '/v1/analytics/everything')).status).toBe(404);
    expect((await desk('POST', '/v1/analytics/rules/low_confidence/whatif', {})).status).toBe(200);
    expect((await desk('POST', '/v1/analytics/rules/bad%20rule/whatif', {})).status).toBe(400);
    expect((await desk('POST', '/v1/analytics/rules/refused/whatif', {})).status).toBe(502);
    expect((await call('GET', '/v1/analytics/overview')).status).toBe(401);
  });

  it('changes the password and signs out as documented, and locks sign-in after repeated failures', async () => {
    const wrong = await desk('PUT', '/v1/session/password', {
      currentPassword: 'not-it',
      newPassword: `new-${agent.password}`,
    });
    expect([wrong.status, wrong.body.issues[0].field]).toEqual([400, 'currentPassword']);
    const changed = await desk('PUT', '/v1/session/password', {
      currentPassword: agent.password,
      newPassword: `new-${agent.password}`,
    });
    expect(changed.status).toBe(204);
    expect((await desk('DELETE', '/v1/session', undefined, { csrf: false })).status).toBe(403);
    expect((await desk('DELETE', '/v1/session')).status).toBe(204);
    expect((await desk('GET', '/v1/session')).status).toBe(401);
    expect((await call('DELETE', '/v1/session')).status).toBe(204);

    const nobody = { login: `nobody-${run}`, password: 'wrong-password' };
    expect((await call('POST', '/v1/session', nobody)).status).toBe(401);
    expect((await call('POST', '/v1/session', nobody)).status).toBe(401);
    const locked = await call('POST', '/v1/session', nobody);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call('POST', '/v1/session', { login: 'x' })).status).toBe(400);
  });
});
