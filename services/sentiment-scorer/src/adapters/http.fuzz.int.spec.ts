import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { expectHardened, fuzzHttpApp, startServiceRig, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';

jest.setTimeout(120_000);

describe('sentiment-scorer: every endpoint refuses bad input with a 4xx and publishes nothing for it (fuzz)', () => {
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    const config = loadConfig(configSchema, { ...process.env, LOG_LEVEL: 'error' });
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'sentiment-scorer-fuzz-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: {
        what: "the scorer's consumer to join its group",
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.events],
    });
  }, 90_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('answers every generated bad request below 500 (it has only the operational endpoints)', async () => {
    const report = await fuzzHttpApp({
      app: rig.app,
      url: rig.url,
      kafka: rig.bus.kafka,
      seed: 'sentiment-scorer',
      maxRequests: 150,
    });
    expectHardened(report);
  });
});
