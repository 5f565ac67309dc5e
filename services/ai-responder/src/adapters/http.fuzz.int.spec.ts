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

describe('ai-responder: every endpoint refuses bad input with a 4xx and publishes nothing for it (fuzz)', () => {
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      LOG_LEVEL: 'error',
      AI_RESPONDER_API_KEYS: API_KEY,
      // Nothing of the service's own making is published while the fuzzer compares offsets.
      KB_SEED: 'false',
      LLM_PROVIDER: 'extractive',
      EMBEDDINGS_PROVIDER: 'none',
      KB_OUTBOX_POLL_MS: '200',
    });
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'ai-responder-fuzz-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      ready: {
        what: "the responder's consumers to join their groups",
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.events],
      readyTimeoutMs: 90_000,
    });
  }, 150_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('answers every generated bad request below 500', async () => {
    const report = await fuzzHttpApp({
      app: rig.app,
      url: rig.url,
      kafka: rig.bus.kafka,
      seed: 'ai-responder',
      auth: [{ name: 'api key', headers: { authorization: `Bearer ${API_KEY}` } }],
      params: { id: ['fuzz-none', '00000000-0000-4000-8000-00000000f022'] },
      queryNames: ['q', 'tag', 'productArea', 'locale', 'status', 'limit', 'offset'],
    });
    expectHardened(report);
  });
});
