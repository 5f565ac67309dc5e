import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { expectHardened, fuzzHttpApp, startServiceRig, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';

jest.setTimeout(120_000);

const API_KEY = `fuzz-${randomUUID()}`;

describe('escalation-decider: every endpoint refuses bad input with a 4xx and publishes nothing for it (fuzz)', () => {
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      LOG_LEVEL: 'error',
      LLM_PROVIDER: 'extractive',
      DECIDER_POLICY_FILE: '',
      CRM_LOOKUP_URL: '',
      DECIDER_API_KEYS: API_KEY,
    });
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'escalation-decider-fuzz-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: {
        what: "the decider's consumers to join their groups",
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.events],
    });
  }, 90_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('answers every generated bad request below 500', async () => {
    const report = await fuzzHttpApp({
      app: rig.app,
      url: rig.url,
      kafka: rig.bus.kafka,
      seed: 'escalation-decider',
      auth: [{ name: 'api key', headers: { authorization: `Bearer ${API_KEY}` } }],
      queryNames: ['from', 'to'],
    });
    expectHardened(report);
  });
});
