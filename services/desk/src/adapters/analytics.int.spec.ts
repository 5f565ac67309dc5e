import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Bus } from '@support/bus';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { startServiceRig, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { SESSION_COOKIE } from './session';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const METRICS_KEY = `itest-metrics-${randomUUID()}`;
const run = randomUUID().slice(0, 8);
const analyst = {
  login: `ana-${run}@desk.example`,
  password: `ana-password-${run}`,
  agentId: `itest-ana-${run}`,
  name: 'Ana Lytic',
  team: 'Insights',
};

/** What the stand-in for the metrics service received. */
interface Received {
  method: string;
  url: string;
  authorization?: string;
  accept?: string;
  body: string;
}

/**
 * A stand-in for the metrics service that records each request and answers
 * by path: the proxy's own behaviour is under test here (the real analyst
 * API is exercised end to end in e2e/src/dashboard.e2e.spec.ts).
 */
class MetricsStandIn {
  readonly received: Received[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private async answer(req: IncomingMessage, res: import('node:http').ServerResponse) {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    this.received.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      accept: req.headers.accept,
      body,
    });
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('from') === 'yesterday') {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: 'validation_failed',
          issues: [{ field: 'from', rule: 'format', message: 'must be an ISO 8601 date' }],
        }),
      );
    } else if (url.searchParams.get('crash') === 'socket') {
      req.socket.destroy();
    } else if (url.searchParams.get('key') === 'refused') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'missing or wrong API key' }));
    } else if (url.searchParams.get('format') === 'csv') {
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
      res.end('rule,fires\nexplicit_human_request,3\n');
    } else if (url.pathname === '/v1/metrics/rules/unknown_rule/whatif') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'no rule unknown_rule' }));
    } else {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ path: url.pathname, conversations: 7 }));
    }
  }
}

describe('desk: the analytics proxy to the metrics service (session, allow-list, key, pass-through)', () => {
  const metrics = new MetricsStandIn();
  let rig: ServiceRig<INestApplication>;
  let cookie = '';
  /** The session's CSRF token, sent with the cookie on requests that change something. */
  let csrf = '';

  const http = async (
    method: string,
    path: string,
    { body, session = true, accept }: { body?: unknown; session?: boolean; accept?: string } = {},
  ) => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(session ? { cookie } : {}),
        ...(session && method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
        ...(accept ? { accept } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json')
      ? (JSON.parse(text) as Record<string, unknown>)
      : undefined;
    return { status: res.status, headers: res.headers, text, json };
  };

  beforeAll(async () => {
    await metrics.start();
    const config = loadConfig(configSchema, {
      ...process.env,
      DESK_API_KEYS: API_KEY,
      DESK_SESSION_SECRET: `itest-session-secret-${randomUUID()}`,
      DESK_DEMO_PASSWORD: '',
      METRICS_URL: `${metrics.url}/`,
      METRICS_API_KEY: METRICS_KEY,
      LOG_LEVEL: 'warn',
    });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'desk-analytics-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: { what: "the desk's consumers to join", check: (app) => app.get(Bus).health().ok },
      watch: [],
    });
    const { login, password, ...rest } = analyst;
    const put = await fetch(`${rig.url}/v1/logins/${login}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ ...rest, password }),
    });
    expect(put.status).toBe(200);
    const signIn = await fetch(`${rig.url}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login, password }),
    });
    expect(signIn.status).toBe(200);
    cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    csrf = ((await signIn.json()) as { csrfToken: string }).csrfToken;
  }, 90_000);

  afterAll(async () => {
    if (rig)
      await fetch(`${rig.url}/v1/logins/${analyst.login}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${API_KEY}` },
      }).catch(() => undefined);
    await rig?.close();
    await metrics.stop();
  });

  beforeEach(() => metrics.received.splice(0));

  it('requires a signed-in agent and forwards nothing without one', async () => {
    const get = await http('GET', '/v1/analytics/overview', { session: false });
    const post = await http('POST', '/v1/analytics/rules/explicit_human_request/whatif', {
      session: false,
      body: {},
    });
    expect([get.status, post.status]).toEqual([401, 401]);
    expect(metrics.received).toEqual([]);
  });

  it("forwards an allowed view with the query unchanged and the desk's key", async () => {
    const query = '?from=2026-01-01T00%3A00%3A00Z&channel=web&channel=email&interval=day';
    const res = await http('GET', `/v1/analytics/timeseries${query}`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ path: '/v1/metrics/timeseries', conversations: 7 });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(metrics.received).toEqual([
      {
        method: 'GET',
        url: `/v1/metrics/timeseries${query}`,
        authorization: `Bearer ${METRICS_KEY}`,
        accept: 'application/json',
        body: '',
      },
    ]);
  });

  it('forwards every view of the analyst API', async () => {
    const views = [
      'overview',
      'timeseries',
      'breakdown',
      'handoffs',
      'rules',
      'topics',
      'churn-risk',
    ];
    for (const view of views) expect((await http('GET', `/v1/analytics/${view}`)).status).toBe(200);
    expect(metrics.received.map((r) => r.url)).toEqual(views.map((v) => `/v1/metrics/${v}`));
  });

  it('answers 404 for a name outside the allow-list without forwarding it', async () => {
    for (const name of ['summary', '..%2Fhealth', 'rules%2Fx']) {
      const res = await http('GET', `/v1/analytics/${name}`);
      expect(res.status).toBe(404);
    }
    expect((await http('GET', '/v1/analytics/unknown')).json?.message).toMatch(/overview/);
    expect(metrics.received).toEqual([]);
  });

  it("passes the metrics service's 400 through with its body", async () => {
    const res = await http('GET', '/v1/analytics/overview?from=yesterday');
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: 'validation_failed',
      issues: [{ field: 'from', rule: 'format', message: 'must be an ISO 8601 date' }],
    });
  });

  it('passes CSV through as a download, for format=csv and for Accept: text/csv', async () => {
    const res = await http('GET', '/v1/analytics/rules?format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="rules-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(res.text).toBe('rule,fires\nexplicit_human_request,3\n');

    await http('GET', '/v1/analytics/handoffs', { accept: 'text/csv' });
    expect(metrics.received.at(-1)?.accept).toBe('text/csv');
  });

  it('forwards the what-if with its body, and passes a 404 for an unknown rule through', async () => {
    const res = await http('POST', '/v1/analytics/rules/sentiment_drop/whatif?from=2026-01-01', {
      body: { threshold: 0.4 },
    });
    expect(res.status).toBe(200);
    expect(metrics.received[0]).toEqual({
      method: 'POST',
      url: '/v1/metrics/rules/sentiment_drop/whatif?from=2026-01-01',
      authorization: `Bearer ${METRICS_KEY}`,
      accept: 'application/json',
      body: JSON.stringify({ threshold: 0.4 }),
    });
    const unknown = await http('POST', '/v1/analytics/rules/unknown_rule/whatif', { body: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.json?.message).toBe('no rule unknown_rule');
  });

  it('answers 400 naming the rule for a malformed rule name', async () => {
    const res = await http('POST', `/v1/analytics/rules/${encodeURIComponent('a b')}/whatif`, {
      body: {},
    });
    expect(res.status).toBe(400);
    expect(res.json?.issues).toEqual([expect.objectContaining({ field: 'rule' })]);
    expect(metrics.received).toEqual([]);
  });

  it("answers 502 (not 401, which would sign the agent out) when the desk's key is refused", async () => {
    const res = await http('GET', '/v1/analytics/overview?key=refused');
    expect(res.status).toBe(502);
    expect(res.json?.message).toMatch(/METRICS_API_KEY/);
  });

  it('answers 502 with a clear message when the metrics service drops the connection or is down', async () => {
    const dropped = await http('GET', '/v1/analytics/overview?crash=socket');
    expect(dropped.status).toBe(502);
    expect(dropped.json?.message).toMatch(/metrics service at .* is unreachable/);
    await metrics.stop();
    const down = await http('GET', '/v1/analytics/overview');
    expect(down.status).toBe(502);
    expect(down.json?.message).toContain(`the metrics service at ${metrics.url} is unreachable`);
  });
});
