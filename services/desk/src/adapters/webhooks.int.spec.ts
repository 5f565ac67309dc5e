import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { Bus, Topics } from '@support/bus';
import {
  create,
  HandoffRequestSchema,
  InsightAlertSchema,
  Priority,
  type MessageInitShape,
} from '@support/contracts';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  startServiceRig,
  waitForGroupToCatchUp,
  waitUntil,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const run = randomUUID().slice(0, 8);

interface Received {
  path: string;
  headers: Record<string, string>;
  raw: string;
  body: Record<string, unknown>;
}

/** A receiver on a local port: `/flaky/...` answers 500 to the first two attempts of each message. */
class Receiver {
  readonly received: Received[] = [];
  private readonly attempts = new Map<string, number>();
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, String(v)]),
      );
      const path = req.url ?? '';
      this.received.push({ path, headers, raw, body: JSON.parse(raw) as Record<string, unknown> });
      const id = `${path} ${headers['webhook-id']}`;
      const attempt = (this.attempts.get(id) ?? 0) + 1;
      this.attempts.set(id, attempt);
      res.writeHead(path.startsWith('/flaky/') && attempt <= 2 ? 500 : 200).end();
    });
  });

  start = () => new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  url = (path: string) => `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  at = (path: string) => this.received.filter((r) => r.path === path);
  close = () =>
    new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
}

describe('desk webhooks for insight alerts and in the Slack format (Kafka, PostgreSQL)', () => {
  let rig: ServiceRig<INestApplication>;
  const receiver = new Receiver();
  const webhookIds: string[] = [];

  const http = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ) => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  const subscribe = async (path: string, events: string[], format?: string) => {
    const res = await http<{ id: string; secret: string; events: string[]; format: string }>(
      'POST',
      '/v1/webhooks',
      { url: receiver.url(path), events, ...(format ? { format } : {}) },
    );
    expect(res.status).toBe(201);
    webhookIds.push(res.body.id);
    return res.body;
  };
  const deliveries = async (webhookId: string) =>
    (
      await http<{
        deliveries: { eventId: string; type: string; status: string; attempts: number }[];
      }>('GET', `/v1/webhooks/${webhookId}/deliveries`)
    ).body.deliveries;
  const publishAlert = (init: MessageInitShape<typeof InsightAlertSchema>, key: string) =>
    rig.bus.publish({
      topic: Topics.insightAlerts,
      key,
      eventId: randomUUID(),
      value: create(InsightAlertSchema, { occurredAt: new Date().toISOString(), ...init }),
    });

  beforeAll(async () => {
    await receiver.start();
    const config = loadConfig(configSchema, {
      ...process.env,
      DESK_API_KEYS: API_KEY,
      DESK_SESSION_SECRET: `itest-session-secret-${randomUUID()}`,
      DESK_DEMO_PASSWORD: `demo-${randomUUID()}`,
      DESK_WEBHOOK_MAX_ATTEMPTS: '5',
      DESK_WEBHOOK_RETRY_BASE_MS: '50',
      DESK_WEBHOOK_POLL_MS: '50',
      // The receiver listens on 127.0.0.1: allowed as a range, as an operator would allow an internal one.
      DESK_WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      LOG_LEVEL: 'error',
    });
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'desk-webhooks-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: { what: "the desk's consumers to join", check: (app) => app.get(Bus).health().ok },
      watch: [Topics.insightAlerts],
    });
    await Promise.all([
      waitForGroupToCatchUp(
        rig.bus.kafka,
        `${SERVICE}.webhooks-insights`,
        Topics.insightAlerts.name,
      ),
      waitForGroupToCatchUp(
        rig.bus.kafka,
        `${SERVICE}.webhooks-requests`,
        Topics.handoffRequests.name,
      ),
    ]);
  }, 90_000);

  afterAll(async () => {
    if (rig) for (const id of webhookIds) await http('DELETE', `/v1/webhooks/${id}`).catch(() => 0);
    await rig?.close();
    await receiver.close();
  });

  it('names an unknown event or format', async () => {
    const url = receiver.url('/ok/x');
    const badEvent = await http<{ issues: { field: string }[] }>('POST', '/v1/webhooks', {
      url,
      events: ['churn_risk', 'churn-risk'],
    });
    expect(badEvent.status).toBe(400);
    expect(badEvent.body.issues.map((i) => i.field)).toEqual(['events[1]']);
    const badFormat = await http<{ issues: { field: string }[] }>('POST', '/v1/webhooks', {
      url,
      format: 'teams',
    });
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.issues.map((i) => i.field)).toEqual(['format']);
  });

  it('delivers a churn alert signed to its subscribers, as a record or a Slack message, retrying', async () => {
    // Given a churn_risk subscriber in the standard format, a Slack channel for every alert that
    // fails twice before it takes a message, and a subscriber to knowledge gaps only
    const standard = await subscribe(`/ok/churn-${run}`, ['churn_risk']);
    const slack = await subscribe(
      `/flaky/slack-${run}`,
      ['churn_risk', 'knowledge_gap', 'handoff.requested'],
      'slack',
    );
    const gapsOnly = await subscribe(`/ok/gaps-${run}`, ['knowledge_gap']);
    expect(slack).toMatchObject({ format: 'slack' });
    expect(standard).toMatchObject({ format: 'standard', events: ['churn_risk'] });

    // When the metrics service raises a churn risk
    const alertId = `churn:acct-${run}:2025-03-04`;
    const churn: MessageInitShape<typeof InsightAlertSchema> = {
      alertId,
      payload: {
        case: 'churnRisk',
        value: {
          accountId: `acct-${run}`,
          accountName: 'Acme',
          tier: 'enterprise',
          monthlyValue: 4000,
          currency: 'EUR',
          owner: 'Maria Rossi',
          conversationId: 'c-1',
          reasons: ['flagged at risk in the CRM', 'sentiment fell to -0.7'],
          sentiment: -0.7,
        },
      },
    };
    await publishAlert(churn, `acct-${run}`);

    // Then the standard subscriber gets the alert as a record, signed
    await waitUntil(
      'the alert to reach the standard subscriber',
      () => receiver.at(`/ok/churn-${run}`).length > 0,
    );
    const [got] = receiver.at(`/ok/churn-${run}`);
    expect(new Webhook(standard.secret).verify(got.raw, got.headers)).toEqual(got.body);
    expect(got.body).toEqual({
      type: 'churn_risk',
      id: alertId,
      occurredAt: expect.any(String),
      data: expect.objectContaining({
        accountId: `acct-${run}`,
        monthlyValue: 4000,
        reasons: ['flagged at risk in the CRM', 'sentiment fell to -0.7'],
      }),
    });

    // and the Slack channel gets a Slack message, the third attempt taken, each one signed
    await waitUntil('the Slack delivery to be taken', async () =>
      (await deliveries(slack.id)).some((d) => d.eventId === alertId && d.status === 'delivered'),
    );
    const toSlack = receiver.at(`/flaky/slack-${run}`);
    expect(toSlack).toHaveLength(3);
    expect(new Set(toSlack.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of toSlack)
      expect(new Webhook(slack.secret).verify(r.raw, r.headers)).toEqual(r.body);
    expect(toSlack[2].body).toEqual({
      text: 'Churn risk: Acme (enterprise, 4,000 EUR/month, owner Maria Rossi) — flagged at risk in the CRM; sentiment fell to -0.7',
      blocks: expect.arrayContaining([
        {
          type: 'section',
          text: { type: 'mrkdwn', text: expect.stringContaining('*Churn risk: Acme') },
        },
        { type: 'context', elements: [expect.objectContaining({ type: 'mrkdwn' })] },
      ]),
    });
    expect((await deliveries(slack.id)).find((d) => d.eventId === alertId)).toMatchObject({
      type: 'churn_risk',
      attempts: 3,
    });

    // An alert raised again (the same alert id) is not delivered again, and the subscriber to
    // knowledge gaps got no churn risk
    await publishAlert(churn, `acct-${run}`);
    await waitForGroupToCatchUp(
      rig.bus.kafka,
      `${SERVICE}.webhooks-insights`,
      Topics.insightAlerts.name,
    );
    expect((await deliveries(standard.id)).filter((d) => d.eventId === alertId)).toHaveLength(1);
    expect(await deliveries(gapsOnly.id)).toEqual([]);
  });

  it('sends knowledge gaps and handoffs to a Slack channel as messages', async () => {
    const slack = await subscribe(
      `/ok/slack2-${run}`,
      ['knowledge_gap', 'handoff.requested'],
      'slack',
    );
    await publishAlert(
      {
        alertId: `gap:billing-${run}:2025-03-04T00:24h`,
        payload: {
          case: 'knowledgeGap',
          value: {
            topic: `billing-${run}`,
            escalations: 9,
            previousEscalations: 3,
            windowHours: 24,
            examples: ['Why was I charged twice?'],
          },
        },
      },
      `billing-${run}`,
    );
    const conversationId = randomUUID();
    await rig.bus.publish({
      topic: Topics.handoffRequests,
      key: conversationId,
      eventId: randomUUID(),
      value: create(HandoffRequestSchema, {
        handoffId: randomUUID(),
        conversationId,
        priority: Priority.HIGH,
        requiredSkills: ['billing'],
        briefing: {
          summary: 'Disputes the March invoice',
          intent: 'billing',
          topic: 'dispute',
          account: { accountId: `acct-${run}`, name: 'Acme', tier: 'enterprise' },
        },
        requestedAt: new Date().toISOString(),
        revision: 1,
      }),
    });
    await waitUntil(
      'both to reach the channel',
      () => receiver.at(`/ok/slack2-${run}`).length >= 2,
    );
    const texts = receiver.at(`/ok/slack2-${run}`).map((r) => r.body.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        `Knowledge gap: billing-${run} — 9 escalations in 24 h (3 before)`,
        'Handoff: billing, dispute for Acme (enterprise), priority high — Disputes the March invoice',
      ]),
    );
    for (const r of receiver.at(`/ok/slack2-${run}`))
      expect(new Webhook(slack.secret).verify(r.raw, r.headers)).toEqual(r.body);
  });
});
