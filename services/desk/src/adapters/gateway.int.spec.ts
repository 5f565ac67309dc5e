import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { Bus, Topics } from '@support/bus';
import {
  AgentAssignmentSchema,
  AssignmentStatus,
  create,
  HandoffRequestSchema,
  Priority,
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
import { DEMO_LOGINS_FILE } from './db/store';
import { DeskReadModel } from './read-model';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const DEMO_PASSWORD = `demo-password-${randomUUID()}`;
const MAX_ATTEMPTS = 3;
const run = randomUUID().slice(0, 8);

interface Issue {
  field: string;
  rule: string;
  message: string;
}

interface Delivery {
  id: string;
  webhookId: string;
  eventId: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string;
  deliveredAt: string | null;
}

/** A request the webhook receiver got: its path, headers and raw body. */
interface Received {
  path: string;
  headers: Record<string, string>;
  raw: string;
  body: { type: string; id: string; occurredAt: string; data: Record<string, unknown> };
}

/**
 * A desk's webhook endpoint on a local port: `/ok/...` answers 200; `/flaky/...` answers 500 to
 * the first two attempts of each message (by webhook-id), then 200; `/down/...` answers 500
 * until `down` is set to false.
 */
class Receiver {
  readonly received: Received[] = [];
  down = true;
  private readonly attempts = new Map<string, number>();
  private readonly server: Server = createServer((req, res) => {
    void this.read(req).then((raw) => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, String(v)]),
      );
      const path = req.url ?? '';
      this.received.push({ path, headers, raw, body: JSON.parse(raw) as Received['body'] });
      const id = headers['webhook-id'] ?? '';
      const attempt = (this.attempts.get(id) ?? 0) + 1;
      this.attempts.set(id, attempt);
      const fail =
        (path.startsWith('/flaky/') && attempt <= 2) || (path.startsWith('/down/') && this.down);
      res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(fail ? 'not now' : 'thanks');
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** What reached `path` about the handoff. */
  about(path: string, handoffId: string): Received[] {
    return this.received.filter((r) => r.path === path && r.body.data.handoffId === handoffId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async read(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
}

describe('desk gateway: actions, logins and signed webhooks (Kafka, Redis, PostgreSQL)', () => {
  let rig: ServiceRig<INestApplication>;
  const receiver = new Receiver();
  const webhookIds: string[] = [];
  const conversations: string[] = [];

  const http = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    { body, key = API_KEY }: { body?: unknown; key?: string | null } = {},
  ): Promise<{ status: number; headers: Headers; body: T }> => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
  };

  let n = 0;
  const append = <K extends Parameters<typeof conversationEvent>[2]>(
    conversationId: string,
    kind: K,
    value: PayloadInitOf<K>,
  ) => rig.append(conversationEvent(conversationId, `itest-${randomUUID()}-${n++}`, kind, value));

  beforeAll(async () => {
    await receiver.start();
    const config = loadConfig(configSchema, {
      ...process.env,
      DESK_API_KEYS: `other-key-${randomUUID()},${API_KEY}`,
      DESK_SESSION_SECRET: `itest-session-secret-${randomUUID()}`,
      DESK_DEMO_PASSWORD: DEMO_PASSWORD,
      DESK_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      DESK_WEBHOOK_RETRY_BASE_MS: '50',
      DESK_WEBHOOK_POLL_MS: '50',
      // The receiver listens on 127.0.0.1, which webhooks refuse unless an operator allows it.
      DESK_WEBHOOK_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'error',
    });
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'desk-gateway-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: {
        what: "the desk's consumers to join their groups",
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.deskActions],
    });
    // Records that earlier suites left are read before this suite's own.
    await Promise.all([
      waitForGroupToCatchUp(rig.bus.kafka, `${SERVICE}.log`, Topics.events.name),
      waitForGroupToCatchUp(
        rig.bus.kafka,
        `${SERVICE}.webhooks-requests`,
        Topics.handoffRequests.name,
      ),
      waitForGroupToCatchUp(
        rig.bus.kafka,
        `${SERVICE}.webhooks-assignments`,
        Topics.handoffAssignments.name,
      ),
    ]);
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      for (const id of webhookIds)
        await http('DELETE', `/v1/webhooks/${id}`).catch(() => undefined);
      for (const conversationId of conversations)
        await append(conversationId, 'conversationResolved', {
          resolution: Resolution.HUMAN,
          resolvedBy: 'itest',
          note: '',
        }).catch(() => undefined);
    }
    await rig?.close();
    await receiver.close();
  });

  describe('POST /v1/actions: actions of agents at other desks', () => {
    const agent = { agentId: `itest-gia-${run}`, agentName: 'Gia Gateway' };
    let conversationId: string;
    let handoffId: string;

    beforeAll(async () => {
      // Given a handoff assigned to an agent of another desk, as the desk's read model has it
      conversationId = randomUUID();
      handoffId = randomUUID();
      conversations.push(conversationId);
      await rig.append(
        customerMessageReceived(conversationId, { messageId: 'm1', text: 'A person, please' }),
      );
      await append(conversationId, 'handoffRequested', {
        handoffId,
        messageId: 'm1',
        triggers: [{ rule: 'explicit_human_request', detail: '', value: 1, threshold: 1 }],
        priority: Priority.NORMAL,
        requiredSkills: [],
        language: 'en',
        policyVersion: 'itest',
      });
      await append(conversationId, 'agentAssigned', {
        handoffId,
        ...agent,
        team: 'Partners',
      });
      const model = rig.app.get(DeskReadModel);
      await waitUntil(
        'the desk to apply the assignment',
        async () => (await model.state(conversationId)).handoff?.agent?.agentId === agent.agentId,
      );
    });

    const action = (fields: Record<string, unknown> = {}) => ({
      conversationId,
      ...agent,
      type: 'accept',
      handoffId,
      ...fields,
    });

    it('requires the API key', async () => {
      expect((await http('POST', '/v1/actions', { body: action(), key: null })).status).toBe(401);
      expect((await http('POST', '/v1/actions', { body: action(), key: 'wrong' })).status).toBe(
        401,
      );
    });

    it("publishes the agent's action on desk.actions, with the desk's own action id", async () => {
      const actionId = `partner-${randomUUID()}`;
      const res = await http<{ actionId: string }>('POST', '/v1/actions', {
        body: action({ actionId }),
      });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ actionId });
      const [record] = await rig.watcher.waitFor(
        Topics.deskActions,
        (r) => r.value.actionId === actionId,
      );
      expect(record.key).toBe(conversationId);
      expect(record.value).toMatchObject({
        conversationId,
        handoffId,
        agentId: agent.agentId,
        agentName: agent.agentName,
        action: { case: 'accept', value: {} },
      });

      // without one, the desk makes one up
      const reply = await http<{ actionId: string }>('POST', '/v1/actions', {
        body: action({ type: 'reply', text: 'Hello from the partner desk' }),
      });
      expect(reply.status).toBe(202);
      const [replied] = await rig.watcher.waitFor(
        Topics.deskActions,
        (r) => r.value.actionId === reply.body.actionId,
      );
      expect(replied.value.action).toEqual({
        case: 'reply',
        value: expect.objectContaining({ text: 'Hello from the partner desk' }),
      });
    });

    it('refuses an action of an agent who does not hold the conversation (409)', async () => {
      const res = await http<{ message: string }>('POST', '/v1/actions', {
        body: action({ agentId: 'someone-else', type: 'resolve' }),
      });
      expect(res.status).toBe(409);
      expect(res.body.message).toBe('the conversation is not assigned to you');
    });

    it('names the field of a malformed action (400)', async () => {
      const fields = async (body: unknown) => {
        const res = await http<{ issues: Issue[] }>('POST', '/v1/actions', { body });
        expect(res.status).toBe(400);
        return res.body.issues.map((i) => i.field);
      };
      expect(await fields(action({ conversationId: 'nope' }))).toEqual(['conversationId']);
      expect(await fields(action({ agentName: '' }))).toEqual(['agentName']);
      expect(await fields(action({ type: 'take_over' }))).toEqual(['type']);
      expect(await fields(action({ type: 'reply', text: '' }))).toEqual(['text']);
    });
  });

  describe('logins', () => {
    const login = `Eve.${run}@Desk.Example`;
    const path = `/v1/logins/${login}`;
    const body = {
      agentId: `itest-eve-${run}`,
      name: 'Eve Example',
      team: 'Support',
      password: 'a-long-password',
    };
    const signIn = (who: string, password: string) =>
      http('POST', '/v1/session', { body: { login: who, password }, key: null });

    afterAll(async () => {
      await http('DELETE', path).catch(() => undefined);
    });

    it('requires the API key', async () => {
      expect((await http('PUT', path, { body, key: null })).status).toBe(401);
      expect((await http('GET', '/v1/logins', { key: null })).status).toBe(401);
      expect((await http('DELETE', path, { key: 'wrong' })).status).toBe(401);
    });

    it('names the field of a bad login (400)', async () => {
      const fields = async (p: string, b: unknown) => {
        const res = await http<{ issues: Issue[] }>('PUT', p, { body: b });
        expect(res.status).toBe(400);
        return res.body.issues.map((i) => i.field);
      };
      const short = await http<{ issues: Issue[] }>('PUT', path, {
        body: { ...body, password: 'short' },
      });
      expect(short.status).toBe(400);
      expect(short.body.issues).toEqual([
        expect.objectContaining({ field: 'password', message: 'must be at least 10 characters' }),
      ]);
      expect(await fields(path, { ...body, agentId: '' })).toEqual(['agentId']);
      expect(await fields(`/v1/logins/${encodeURIComponent('eve smith')}`, body)).toEqual([
        'login',
      ]);
    });

    it('creates a login (lower case) that signs in, lists it without the hash, replaces and deletes it', async () => {
      const put = await http('PUT', path, { body });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({
        login: login.toLowerCase(),
        agentId: body.agentId,
        name: body.name,
        team: body.team,
        disabled: false,
      });
      expect((await signIn(login, body.password)).status).toBe(200);

      const list = await http<{ logins: Record<string, unknown>[] }>('GET', '/v1/logins');
      expect(list.status).toBe(200);
      expect(list.body.logins.find((l) => l.login === login.toLowerCase())).toMatchObject({
        agentId: body.agentId,
        name: body.name,
        disabled: false,
      });
      for (const l of list.body.logins) {
        expect(l).not.toHaveProperty('passwordHash');
        expect(l).not.toHaveProperty('password');
      }
      expect(JSON.stringify(list.body)).not.toContain('scrypt$');

      // a new password replaces the old one
      expect(
        (await http('PUT', path, { body: { ...body, password: 'another-password' } })).status,
      ).toBe(200);
      expect((await signIn(login, body.password)).status).toBe(401);
      expect((await signIn(login, 'another-password')).status).toBe(200);

      expect((await http('DELETE', path)).status).toBe(204);
      expect((await http('DELETE', path)).status).toBe(404);
      expect((await signIn(login, 'another-password')).status).toBe(401);
    });

    it('seeds the demo logins with DESK_DEMO_PASSWORD', async () => {
      const seed = JSON.parse(readFileSync(DEMO_LOGINS_FILE, 'utf8')) as {
        login: string;
        agentId: string;
      }[];
      const res = await signIn(seed[0].login, DEMO_PASSWORD);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ login: seed[0].login, agentId: seed[0].agentId });
    });
  });

  describe('webhooks', () => {
    interface Created {
      id: string;
      url: string;
      secret: string;
      events: string[];
      active: boolean;
    }
    const subscribe = async (path: string, events?: string[]) => {
      const res = await http<Created>('POST', '/v1/webhooks', {
        body: {
          url: receiver.url(path),
          description: `itest ${run}`,
          ...(events ? { events } : {}),
        },
      });
      expect(res.status).toBe(201);
      webhookIds.push(res.body.id);
      return res.body;
    };
    const deliveries = async (webhookId: string, query = '') => {
      const res = await http<{ deliveries: Delivery[] }>(
        'GET',
        `/v1/webhooks/${webhookId}/deliveries${query}`,
      );
      expect(res.status).toBe(200);
      return res.body.deliveries;
    };
    const deliveryOf = async (
      webhookId: string,
      eventId: string,
      until: (d: Delivery) => boolean,
      what: string,
    ) => {
      let found: Delivery | undefined;
      await waitUntil(`the delivery of ${eventId} to be ${what}`, async () => {
        found = (await deliveries(webhookId)).find((d) => d.eventId === eventId);
        return !!found && until(found);
      });
      return found!;
    };

    /** Publishes a handoff as the decider does; resolves with its handoff id and record id. */
    const publishHandoff = async (eventId = randomUUID()) => {
      const handoffId = randomUUID();
      const conversationId = randomUUID();
      await rig.bus.publish({
        topic: Topics.handoffRequests,
        key: conversationId,
        eventId,
        value: create(HandoffRequestSchema, {
          handoffId,
          conversationId,
          priority: Priority.URGENT,
          requiredSkills: ['legal'],
          language: 'de',
          triggers: [{ rule: 'legal_topic', detail: 'lawyer', value: 1, threshold: 1 }],
          briefing: { summary: 'Threatens legal action' },
          requestedAt: new Date().toISOString(),
          revision: 1,
        }),
      });
      return { handoffId, conversationId, eventId };
    };
    const publishAssignment = async (handoffId: string, conversationId: string) => {
      const eventId = randomUUID();
      await rig.bus.publish({
        topic: Topics.handoffAssignments,
        key: conversationId,
        eventId,
        value: create(AgentAssignmentSchema, {
          handoffId,
          conversationId,
          agentId: `itest-agent-${run}`,
          agentName: 'Ida',
          team: 'Legal',
          assignedAt: new Date().toISOString(),
          status: AssignmentStatus.ASSIGNED,
          acceptBy: '2030-01-01T00:00:00Z',
        }),
      });
      return eventId;
    };

    it('requires the API key, and names a bad URL or record type', async () => {
      const body = { url: receiver.url('/ok/x') };
      expect((await http('POST', '/v1/webhooks', { body, key: null })).status).toBe(401);
      expect((await http('GET', '/v1/webhooks', { key: null })).status).toBe(401);
      const bad = await http<{ issues: Issue[] }>('POST', '/v1/webhooks', {
        body: { url: 'ftp://example.com/hook' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.issues.map((i) => i.field)).toEqual(['url']);
      const badEvents = await http<{ issues: Issue[] }>('POST', '/v1/webhooks', {
        body: { ...body, events: ['handoff.closed'] },
      });
      expect(badEvents.status).toBe(400);
      expect(badEvents.body.issues.map((i) => i.field)).toEqual(['events[0]']);
    });

    it('delivers handoffs and assignments signed per Standard Webhooks, once per record', async () => {
      // Given a subscription to every record type
      const hook = await subscribe(`/ok/${run}`);
      expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(hook.events).toEqual(['handoff.requested', 'handoff.assignment']);
      expect(hook.active).toBe(true);

      // When the decider hands a conversation off
      const h = await publishHandoff();
      await waitUntil(
        'the handoff to reach the receiver',
        () => receiver.about(`/ok/${run}`, h.handoffId).length > 0,
      );
      const [got] = receiver.about(`/ok/${run}`, h.handoffId);
      // Then the receiver can verify its signature with the secret
      const verified = new Webhook(hook.secret).verify(got.raw, got.headers) as Received['body'];
      expect(verified).toEqual(got.body);
      expect(() =>
        new Webhook(`whsec_${Buffer.from('not the secret').toString('base64')}`).verify(
          got.raw,
          got.headers,
        ),
      ).toThrow();
      expect(() =>
        new Webhook(hook.secret).verify(got.raw.replace('URGENT', 'LOW'), got.headers),
      ).toThrow();
      expect(got.headers['content-type']).toBe('application/json');
      expect(got.body).toEqual({
        type: 'handoff.requested',
        id: h.eventId,
        occurredAt: expect.any(String),
        data: expect.objectContaining({
          handoffId: h.handoffId,
          conversationId: h.conversationId,
          priority: 'PRIORITY_URGENT',
          requiredSkills: ['legal'],
          language: 'de',
          revision: 1,
          briefing: expect.objectContaining({ summary: 'Threatens legal action' }),
        }),
      });
      expect(Date.parse(got.body.occurredAt)).not.toBeNaN();
      const delivery = await deliveryOf(
        hook.id,
        h.eventId,
        (d) => d.status === 'delivered',
        'delivered',
      );
      expect(delivery).toMatchObject({ type: 'handoff.requested', attempts: 1, lastStatus: 200 });
      expect(got.headers['webhook-id']).toBe(delivery.id);

      // and an assignment of it
      const assignmentId = await publishAssignment(h.handoffId, h.conversationId);
      await waitUntil('the assignment to reach the receiver', () =>
        receiver.about(`/ok/${run}`, h.handoffId).some((r) => r.body.type === 'handoff.assignment'),
      );
      const assignment = receiver
        .about(`/ok/${run}`, h.handoffId)
        .find((r) => r.body.type === 'handoff.assignment')!;
      expect(new Webhook(hook.secret).verify(assignment.raw, assignment.headers)).toEqual(
        assignment.body,
      );
      expect(assignment.body).toMatchObject({
        id: assignmentId,
        data: {
          handoffId: h.handoffId,
          agentId: `itest-agent-${run}`,
          status: 'ASSIGNMENT_STATUS_ASSIGNED',
          acceptBy: '2030-01-01T00:00:00Z',
        },
      });

      // A record delivered again by Kafka (the same record id) is the same delivery
      await publishHandoff(h.eventId);
      await waitForGroupToCatchUp(
        rig.bus.kafka,
        `${SERVICE}.webhooks-requests`,
        Topics.handoffRequests.name,
      );
      const forRecord = (await deliveries(hook.id)).filter((d) => d.eventId === h.eventId);
      expect(forRecord).toHaveLength(1);
      expect(forRecord[0]).toMatchObject({ status: 'delivered', attempts: 1 });
    });

    it('retries a failed delivery with the same webhook-id until the receiver takes it', async () => {
      const hook = await subscribe(`/flaky/${run}`, ['handoff.requested']);
      const h = await publishHandoff();
      const delivery = await deliveryOf(
        hook.id,
        h.eventId,
        (d) => d.status !== 'pending',
        'delivered or failed',
      );
      expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, lastStatus: 200 });
      expect(delivery.deliveredAt).not.toBeNull();
      const got = receiver.about(`/flaky/${run}`, h.handoffId);
      expect(got).toHaveLength(3);
      expect(got.map((r) => r.headers['webhook-id'])).toEqual([
        delivery.id,
        delivery.id,
        delivery.id,
      ]);
      // the same message each time, each attempt signed
      expect(new Set(got.map((r) => r.raw)).size).toBe(1);
      for (const r of got)
        expect(new Webhook(hook.secret).verify(r.raw, r.headers)).toEqual(r.body);

      // A subscription to handoffs only gets no assignments
      await publishAssignment(h.handoffId, h.conversationId);
      await waitForGroupToCatchUp(
        rig.bus.kafka,
        `${SERVICE}.webhooks-assignments`,
        Topics.handoffAssignments.name,
      );
      expect((await deliveries(hook.id)).map((d) => d.type)).toEqual(['handoff.requested']);
    });

    it('gives up after the maximum attempts, lists the failure, and sends it again when told', async () => {
      receiver.down = true;
      const hook = await subscribe(`/down/${run}`, ['handoff.requested']);
      const h = await publishHandoff();
      const failed = await deliveryOf(
        hook.id,
        h.eventId,
        (d) => d.status !== 'pending',
        'delivered or failed',
      );
      expect(failed).toMatchObject({
        status: 'failed',
        attempts: MAX_ATTEMPTS,
        lastStatus: 500,
        lastError: 'HTTP 500',
        deliveredAt: null,
      });
      expect(receiver.about(`/down/${run}`, h.handoffId)).toHaveLength(MAX_ATTEMPTS);
      expect((await deliveries(hook.id, '?status=failed')).map((d) => d.id)).toEqual([failed.id]);
      expect(await deliveries(hook.id, '?status=delivered')).toEqual([]);
      const badQuery = await http<{ issues: Issue[] }>(
        'GET',
        `/v1/webhooks/${hook.id}/deliveries?status=lost`,
      );
      expect(badQuery.status).toBe(400);
      expect(badQuery.body.issues.map((i) => i.field)).toEqual(['query.status']);

      // When the receiver is back and the delivery is retried by hand
      receiver.down = false;
      const retry = await http('POST', `/v1/webhooks/${hook.id}/deliveries/${failed.id}/retry`);
      expect(retry.status).toBe(202);
      expect(retry.body).toEqual({ deliveryId: failed.id, status: 'pending' });
      // Then it is sent again, with a fresh count of attempts
      const delivered = await deliveryOf(
        hook.id,
        h.eventId,
        (d) => d.status === 'delivered',
        'delivered',
      );
      expect(delivered).toMatchObject({ attempts: 1, lastStatus: 200, lastError: '' });
      const got = receiver.about(`/down/${run}`, h.handoffId);
      expect(got).toHaveLength(MAX_ATTEMPTS + 1);
      expect(new Set(got.map((r) => r.headers['webhook-id']))).toEqual(new Set([failed.id]));

      expect(
        (await http('POST', `/v1/webhooks/${hook.id}/deliveries/${randomUUID()}/retry`)).status,
      ).toBe(404);
    });

    it('lists webhooks without their secrets, and deletes them', async () => {
      const hook = await subscribe(`/ok/listed-${run}`);
      const list = await http<{ webhooks: Record<string, unknown>[] }>('GET', '/v1/webhooks');
      expect(list.status).toBe(200);
      expect(list.body.webhooks.find((w) => w.id === hook.id)).toMatchObject({
        url: hook.url,
        events: hook.events,
        description: `itest ${run}`,
        active: true,
      });
      for (const w of list.body.webhooks) expect(w).not.toHaveProperty('secret');
      expect(JSON.stringify(list.body)).not.toContain('whsec_');

      expect((await http('DELETE', `/v1/webhooks/${hook.id}`)).status).toBe(204);
      expect((await http('DELETE', `/v1/webhooks/${hook.id}`)).status).toBe(404);
      const after = await http<{ webhooks: { id: string }[] }>('GET', '/v1/webhooks');
      expect(after.body.webhooks.map((w) => w.id)).not.toContain(hook.id);
    });
  });
});
