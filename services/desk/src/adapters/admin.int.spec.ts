import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { Bus, Topics } from '@support/bus';
import { create, HandoffRequestSchema, Priority } from '@support/contracts';
import {
  apiKeyFingerprint,
  AuditTrail,
  createServiceApp,
  JsonLogger,
  loadConfig,
} from '@support/service-kit';
import { startServiceRig, waitUntil, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DeskDatabase } from './db/store';
import { webhooks } from './db/schema';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const OTHER_KEY = `itest-other-${randomUUID()}`;
const run = randomUUID().slice(0, 8);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface AuditView {
  auditId: string;
  occurredAt: string;
  service: string;
  actor: string;
  action: string;
  resourceType: string;
  resourceId: string;
  detail: Json;
}

/** A receiver on 127.0.0.1 that counts what reaches it. */
class Receiver {
  hits = 0;
  private readonly server: Server = createServer((req, res) => {
    this.hits++;
    req.resume();
    res.writeHead(200).end();
  });
  start = () => new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  get port() {
    return (this.server.address() as AddressInfo).port;
  }
  close = () =>
    new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
}

describe('desk administration: the audit log and webhook targets (Kafka, PostgreSQL)', () => {
  let rig: ServiceRig<INestApplication>;
  const receiver = new Receiver();
  const webhookIds: string[] = [];
  const actor = `api-key:${apiKeyFingerprint(API_KEY)}`;

  const http = async (
    method: string,
    path: string,
    { body, key = API_KEY, cookie }: { body?: unknown; key?: string | null; cookie?: string } = {},
  ): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(cookie ? { cookie } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  };

  /** The audit records for a resource, once `ready` holds for them (the log is kept from Kafka). */
  const auditOf = async (
    resourceType: string,
    resourceId: string,
    ready: (records: AuditView[]) => boolean,
  ): Promise<AuditView[]> => {
    let records: AuditView[] = [];
    await waitUntil(`the audit log to show ${resourceType} ${resourceId}`, async () => {
      const q = new URLSearchParams({ resourceType, resourceId });
      const res = await http('GET', `/v1/audit?${q}`);
      records = (res.body.records ?? []) as AuditView[];
      return res.status === 200 && ready(records);
    });
    return records;
  };

  beforeAll(async () => {
    await receiver.start();
    const config = loadConfig(configSchema, {
      ...process.env,
      DESK_API_KEYS: `${API_KEY},${OTHER_KEY}`,
      DESK_SESSION_SECRET: `itest-session-secret-${randomUUID()}`,
      DESK_DEMO_PASSWORD: '',
      DESK_WEBHOOK_POLL_MS: '50',
      DESK_WEBHOOK_RETRY_BASE_MS: '60000',
      // no DESK_WEBHOOK_ALLOW_PRIVATE, no DESK_WEBHOOK_ALLOWED_CIDRS: public targets only
      LOG_LEVEL: 'error',
    });
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'desk-admin-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: { what: "the desk's consumers to join", check: (app) => app.get(Bus).health().ok },
      watch: [Topics.audit],
    });
  }, 90_000);

  afterAll(async () => {
    if (rig)
      for (const id of webhookIds)
        await http('DELETE', `/v1/webhooks/${id}`).catch(() => undefined);
    await rig?.close();
    await receiver.close();
  });

  describe('the audit log', () => {
    it('records who created, changed, disabled and removed a login, without its password', async () => {
      const login = `olga-${run}@desk.example`;
      const body = { agentId: `itest-olga-${run}`, name: 'Olga', password: `olga-password-${run}` };
      expect((await http('PUT', `/v1/logins/${login}`, { body })).status).toBe(200);
      // the same again changes nothing and records nothing
      expect((await http('PUT', `/v1/logins/${login}`, { body })).status).toBe(200);
      const renamed = { ...body, name: 'Olga K.', password: `olga-new-password-${run}` };
      expect((await http('PUT', `/v1/logins/${login}`, { body: renamed })).status).toBe(200);
      expect(
        (await http('PUT', `/v1/logins/${login}`, { body: { ...renamed, disabled: true } })).status,
      ).toBe(200);
      expect((await http('DELETE', `/v1/logins/${login}`, { key: OTHER_KEY })).status).toBe(204);

      const records = await auditOf('login', login, (r) =>
        r.some((x) => x.action === 'login.removed'),
      );
      // newest first
      expect(records.map((r) => r.action)).toEqual([
        'login.removed',
        'login.disabled',
        'login.updated',
        'login.created',
      ]);
      expect(records.every((r) => r.service === 'desk' && r.resourceType === 'login')).toBe(true);
      expect(records.map((r) => r.actor)).toEqual([
        `api-key:${apiKeyFingerprint(OTHER_KEY)}`,
        actor,
        actor,
        actor,
      ]);
      expect(records[3].detail).toEqual({
        agentId: body.agentId,
        name: 'Olga',
        team: '',
        disabled: false,
        sessionsEnded: false,
      });
      expect(records[2].detail).toMatchObject({
        name: 'Olga K.',
        changed: ['name', 'password'],
        sessionsEnded: true,
      });
      expect(records[1].detail).toMatchObject({ changed: ['disabled'], disabled: true });
      expect(JSON.stringify(records)).not.toContain('olga-password');
      expect(JSON.stringify(records)).not.toContain('olga-new-password');
      for (const r of records) expect(Date.parse(r.occurredAt)).not.toBeNaN();
      // and the record went out on admin.audit, keyed by the resource
      await rig.watcher.waitFor(
        Topics.audit,
        (r) => r.key === `login:${login}` && r.value.action === 'login.removed',
      );
    });

    it("records a signed-in agent's own password change with the login as the actor", async () => {
      const login = `pia-${run}@desk.example`;
      const password = `pia-password-${run}`;
      await http('PUT', `/v1/logins/${login}`, {
        body: { agentId: `itest-pia-${run}`, name: 'Pia', password },
      });
      const signIn = await fetch(`${rig.url}/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, password }),
      });
      const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
      const { csrfToken } = (await signIn.json()) as { csrfToken: string };
      const changed = await fetch(`${rig.url}/v1/session/password`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
        body: JSON.stringify({ currentPassword: password, newPassword: `pia-new-${run}-pw` }),
      });
      expect(changed.status).toBe(204);
      const records = await auditOf('login', login, (r) =>
        r.some((x) => x.action === 'login.password_changed'),
      );
      expect(records[0]).toMatchObject({
        actor: `login:${login}`,
        action: 'login.password_changed',
        resourceId: login,
      });
      expect(JSON.stringify(records[0])).not.toContain('pia-new');
      // the agent's cookie does not open the audit log
      expect((await http('GET', '/v1/audit', { key: null, cookie })).status).toBe(401);
      await http('DELETE', `/v1/logins/${login}`);
    });

    it('records webhooks created and removed, naming the target without its path', async () => {
      const created = await http('POST', '/v1/webhooks', {
        body: {
          // a public address: nothing is delivered to it, no record of its type comes by
          url: `https://93.184.215.14/services/T000/B000/secret-${run}`,
          events: ['knowledge_gap'],
          description: `itest ${run}`,
        },
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect((await http('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
      const records = await auditOf('webhook', id, (r) =>
        r.some((x) => x.action === 'webhook.removed'),
      );
      expect(records.map((r) => r.action)).toEqual(['webhook.removed', 'webhook.created']);
      expect(records[1].detail).toEqual({
        target: 'https://93.184.215.14',
        events: ['knowledge_gap'],
        format: 'standard',
        description: `itest ${run}`,
      });
      expect(JSON.stringify(records)).not.toContain(`secret-${run}`);
      expect(JSON.stringify(records)).not.toContain('whsec_');
    });

    it('filters by time, actor and resource type, newest first, up to the limit', async () => {
      const from = new Date(Date.now() - 60_000).toISOString();
      const trail = rig.app.get(AuditTrail);
      const someone = `itest:${run}`;
      for (const n of [1, 2, 3])
        await trail.record({
          actor: someone,
          action: 'policy.updated',
          resourceType: 'policy',
          resourceId: `itest-policy-${run}`,
          detail: { version: n },
          occurredAt: new Date(Date.now() - (3 - n) * 1000),
        });
      let records: AuditView[] = [];
      await waitUntil('the three policy records', async () => {
        const q = new URLSearchParams({ from, actor: someone, resourceType: 'policy' });
        records = (await http('GET', `/v1/audit?${q}`)).body.records as AuditView[];
        return records.length === 3;
      });
      expect(records.map((r) => r.detail.version)).toEqual([3, 2, 1]);
      const q = new URLSearchParams({ from, actor: someone, limit: '2' });
      const limited = (await http('GET', `/v1/audit?${q}`)).body.records as AuditView[];
      expect(limited.map((r) => r.detail.version)).toEqual([3, 2]);
      const later = new URLSearchParams({ from: new Date(Date.now() + 60_000).toISOString() });
      expect((await http('GET', `/v1/audit?${later}&actor=${someone}`)).body.records).toEqual([]);
      const other = new URLSearchParams({ actor: someone, resourceType: 'agent' });
      expect((await http('GET', `/v1/audit?${other}`)).body.records).toEqual([]);
    });

    it('keeps a record delivered twice once', async () => {
      const trail = rig.app.get(AuditTrail);
      const auditId = randomUUID();
      const entry = {
        auditId,
        actor: `itest:${run}`,
        action: 'agent.updated',
        resourceType: 'agent',
        resourceId: `itest-twice-${run}`,
      };
      await trail.record(entry);
      await trail.record(entry);
      await rig.watcher.waitFor(Topics.audit, (r) => r.value.auditId === auditId, { count: 2 });
      // A later record on the same key (so the same partition) is stored after both copies
      await trail.record({ ...entry, auditId: randomUUID(), action: 'agent.removed' });
      const records = await auditOf('agent', entry.resourceId, (r) =>
        r.some((x) => x.action === 'agent.removed'),
      );
      expect(records.map((r) => r.action)).toEqual(['agent.removed', 'agent.updated']);
      expect(records[1].auditId).toBe(auditId);
    });

    it('is for administrators only, and names a bad query field', async () => {
      expect((await http('GET', '/v1/audit', { key: null })).status).toBe(401);
      expect((await http('GET', '/v1/audit', { key: 'not-a-key' })).status).toBe(401);
      const bad = await http('GET', '/v1/audit?from=yesterday&limit=0');
      expect(bad.status).toBe(400);
      expect(bad.body.issues.map((i: { field: string }) => i.field).sort()).toEqual([
        'from',
        'limit',
      ]);
      const backwards = await http(
        'GET',
        '/v1/audit?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      );
      expect(backwards.status).toBe(400);
      expect(backwards.body.issues.map((i: { field: string }) => i.field)).toEqual(['to']);
    });
  });

  describe('webhook targets', () => {
    it.each([
      ['a loopback', 'http://127.0.0.1:8080/hook'],
      ['a private', 'http://10.1.2.3/hook'],
      ['another private', 'https://192.168.0.10/hook'],
      ['the cloud metadata (link-local)', 'http://169.254.169.254/latest/meta-data/'],
      ['an unspecified', 'http://0.0.0.0:3007/'],
      ['an IPv6 loopback', 'http://[::1]:8080/hook'],
      ['an IPv6 unique-local', 'http://[fd12:3456::1]/hook'],
      ['an IPv6 link-local', 'http://[fe80::1]/hook'],
      ['an IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/hook'],
      ['a carrier-grade NAT', 'http://100.64.1.1/hook'],
      ['a host name of loopback', 'http://localhost:8080/hook'],
    ])('refuses %s target at registration (400 naming url)', async (_, url) => {
      const res = await http('POST', '/v1/webhooks', { body: { url } });
      expect(res.status).toBe(400);
      expect(res.body.issues).toEqual([
        {
          field: 'url',
          rule: 'public_address',
          message: expect.stringMatching(/webhooks go to public addresses only/),
        },
      ]);
      const list = await http('GET', '/v1/webhooks');
      expect(list.body.webhooks.map((w: { url: string }) => w.url)).not.toContain(url);
    });

    it('says which address a name resolved to', async () => {
      const res = await http('POST', '/v1/webhooks', {
        body: { url: `http://localhost:${receiver.port}/hook` },
      });
      expect(res.body.issues[0].message).toMatch(
        /^localhost resolves to an address that is refused: (127\.0\.0\.1 is a loopback|::1 is a loopback) address/,
      );
    });

    it('refuses at delivery a target that is private by then, and sends it nothing', async () => {
      // Given a webhook registered for a public address
      const created = await http('POST', '/v1/webhooks', {
        body: { url: 'https://93.184.215.14/hook', events: ['handoff.requested'] },
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      webhookIds.push(id);
      // whose target now names a private address (as a name re-pointed in DNS would)
      await rig.app
        .get(DeskDatabase)
        .db.update(webhooks)
        .set({ url: `http://localhost:${receiver.port}/hook` })
        .where(eq(webhooks.id, id));

      // When a handoff comes for it
      const conversationId = randomUUID();
      const eventId = randomUUID();
      await rig.bus.publish({
        topic: Topics.handoffRequests,
        key: conversationId,
        eventId,
        value: create(HandoffRequestSchema, {
          handoffId: randomUUID(),
          conversationId,
          priority: Priority.NORMAL,
          language: 'en',
          briefing: { summary: 'itest' },
          requestedAt: new Date().toISOString(),
          revision: 1,
        }),
      });

      // Then the attempt fails naming the refused address, and nothing reached the receiver
      let delivery: Json | undefined;
      await waitUntil('the delivery attempt', async () => {
        const res = await http('GET', `/v1/webhooks/${id}/deliveries`);
        delivery = (res.body.deliveries as Json[]).find((d) => d.eventId === eventId);
        return !!delivery && delivery.attempts >= 1;
      });
      expect(delivery!.status).toBe('pending');
      expect(delivery!.lastStatus).toBeNull();
      expect(delivery!.lastError).toMatch(
        /^localhost resolves to an address that is refused: .* is a loopback address/,
      );
      expect(receiver.hits).toBe(0);
    });
  });
});
