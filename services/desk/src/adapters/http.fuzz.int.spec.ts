import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  expectHardened,
  fuzzHttpApp,
  startServiceRig,
  waitForGroupToCatchUp,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { SESSION_COOKIE } from './session';

jest.setTimeout(120_000);

const API_KEY = `fuzz-${randomUUID()}`;
const run = randomUUID().slice(0, 8);
const agent = {
  login: `fuzz-${run}@desk.example`,
  password: `fuzz-password-${run}`,
  agentId: `fuzz-agent-${run}`,
  name: 'Fuzz Agent',
  team: 'Support',
};

/**
 * The metrics service as the desk's analytics proxy sees it: it knows no rule
 * and answers every read with an empty result (the desk's own handling of bad
 * input is under test, not a metrics service that is down: that is a 502).
 */
function startMetricsStub(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.statusCode = req.method === 'GET' ? 200 : 404;
      res.end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('desk: every endpoint refuses bad input with a 4xx and publishes nothing for it (fuzz)', () => {
  let rig: ServiceRig<INestApplication>;
  let metrics: Server;
  let cookie: string;

  const call = (method: string, path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${rig.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    metrics = await startMetricsStub();
    const config = loadConfig(configSchema, {
      ...process.env,
      DESK_API_KEYS: API_KEY,
      DESK_SESSION_SECRET: `fuzz-session-secret-${randomUUID()}`,
      DESK_DEMO_PASSWORD: '',
      METRICS_URL: `http://127.0.0.1:${(metrics.address() as AddressInfo).port}`,
      LOG_LEVEL: 'error',
    });
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'desk-fuzz-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: {
        what: "the desk's consumers to join their groups",
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.deskActions],
    });
    await waitForGroupToCatchUp(rig.bus.kafka, `${SERVICE}.log`, Topics.events.name);
    const { login, ...rest } = agent;
    const put = await call('PUT', `/v1/logins/${login}`, rest, {
      authorization: `Bearer ${API_KEY}`,
    });
    expect(put.status).toBe(200);
    const session = await call('POST', '/v1/session', { login, password: agent.password }, {});
    expect(session.status).toBe(200);
    cookie = (session.headers.get('set-cookie') ?? '').split(';')[0];
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
  }, 90_000);

  afterAll(async () => {
    if (rig)
      await fetch(`${rig.url}/v1/logins/${agent.login}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${API_KEY}` },
      }).catch(() => undefined);
    await rig?.close();
    metrics?.close();
  });

  it('answers every generated bad request below 500', async () => {
    const report = await fuzzHttpApp({
      app: rig.app,
      url: rig.url,
      kafka: rig.bus.kafka,
      seed: 'desk',
      auth: [
        { name: 'api key', headers: { authorization: `Bearer ${API_KEY}` } },
        { name: 'session', headers: { cookie } },
      ],
      params: {
        id: [randomUUID(), 'fuzz-none'],
        login: ['fuzz-nobody@desk.example'],
        name: ['overview', 'fuzz-none'],
      },
      queryNames: ['status', 'limit', 'from', 'to'],
      maxRequests: 700,
    });
    expectHardened(report);
  });
});
