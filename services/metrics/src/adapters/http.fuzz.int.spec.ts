import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { expectHardened, fuzzHttpApp, startServiceRig, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema } from '../config';

jest.setTimeout(120_000);

const API_KEY = `fuzz-${randomUUID()}`;

/**
 * The escalation decider as the what-if endpoint sees it: a policy without
 * thresholds, so a rule that fired has no suggestion (409). The metrics
 * service's own handling of bad input is under test, not a decider that is
 * down (a 502).
 */
function startDeciderStub(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/v1/policy')
        res.end(JSON.stringify({ version: 'fuzz', document: {}, yaml: '' }));
      else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('metrics: every endpoint refuses bad input with a 4xx and publishes nothing for it (fuzz)', () => {
  let rig: ServiceRig<INestApplication>;
  let decider: Server;

  beforeAll(async () => {
    decider = await startDeciderStub();
    const config = loadConfig(configSchema, {
      ...process.env,
      LOG_LEVEL: 'error',
      METRICS_API_KEYS: API_KEY,
      QUIET_WINDOW_SECONDS: '3600',
      DECIDER_URL: `http://127.0.0.1:${(decider.address() as AddressInfo).port}`,
    });
    const logger = new JsonLogger('metrics', 'error');
    rig = await startServiceRig({
      name: 'metrics-fuzz-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: {
        what: 'the metrics consumers to join their groups',
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.events],
    });
  }, 90_000);

  afterAll(async () => {
    await rig?.close();
    decider?.close();
  });

  it('answers every generated bad request below 500', async () => {
    const report = await fuzzHttpApp({
      app: rig.app,
      url: rig.url,
      kafka: rig.bus.kafka,
      seed: 'metrics',
      auth: [{ name: 'api key', headers: { authorization: `Bearer ${API_KEY}` } }],
      params: { rule: ['explicit_human_request', 'fuzz-none'] },
      queryNames: [
        'channel',
        'tier',
        'language',
        'topic',
        'policyVersion',
        'from',
        'to',
        'interval',
        'groupBy',
        'format',
      ],
    });
    expectHardened(report);
  });
});
