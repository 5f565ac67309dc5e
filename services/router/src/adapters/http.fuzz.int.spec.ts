import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, Topics } from '@support/bus';
import { createServiceApp, JsonLogger, loadConfig, REDIS } from '@support/service-kit';
import {
  expectHardened,
  fuzzHttpApp,
  startServiceRig,
  waitForGroupToCatchUp,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { Keys } from './load-store';

jest.setTimeout(120_000);

const API_KEY = `fuzz-${randomUUID()}`;

describe('router: every endpoint refuses bad input with a 4xx and publishes nothing for it (fuzz)', () => {
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      ROUTER_API_KEYS: API_KEY,
      ROUTER_SEED_DEMO: 'false',
      LOG_LEVEL: 'error',
    });
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'router-fuzz-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: {
        what: 'the router consumer to join its group',
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.events],
    });
    // Quiet: the log that earlier suites wrote is read, and no handoff they left waits (the
    // router's review would publish wait updates for it while the fuzzer compares offsets).
    await waitForGroupToCatchUp(rig.bus.kafka, `${SERVICE}.log`, Topics.events.name);
    const redis = rig.app.get<Redis>(REDIS);
    await redis.del(Keys.queue, Keys.items, Keys.claimed, Keys.acceptDue, Keys.acceptItems);
  }, 90_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('answers every generated bad request below 500', async () => {
    const report = await fuzzHttpApp({
      app: rig.app,
      url: rig.url,
      kafka: rig.bus.kafka,
      seed: 'router',
      auth: [{ name: 'api key', headers: { authorization: `Bearer ${API_KEY}` } }],
      params: { id: ['fuzz-agent-none'], name: ['fuzz-team-none'] },
    });
    expectHardened(report);
  });
});
