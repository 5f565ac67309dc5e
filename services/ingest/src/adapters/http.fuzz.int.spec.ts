import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Topics } from '@support/bus';
import { expectHardened, fuzzHttpApp, type ServiceRig } from '@support/testing';
import { startIngestRig } from '../../test/rig';

jest.setTimeout(120_000);

const API_KEY = `fuzz-${randomUUID()}`;

describe('ingest: every endpoint refuses bad input with a 4xx and publishes nothing for it (fuzz)', () => {
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    ({ rig } = await startIngestRig(
      'ingest-fuzz-itest',
      {
        INGEST_API_KEYS: API_KEY,
        STREAM_TOKEN_SECRET: `fuzz-stream-secret-${randomUUID()}`,
        // No conversation goes quiet (and is closed, published) while the fuzzer compares offsets.
        QUIET_WINDOW_SECONDS: '3600',
      },
      [Topics.inbound],
    ));
  }, 90_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('answers every generated bad request below 500', async () => {
    const report = await fuzzHttpApp({
      app: rig.app,
      url: rig.url,
      kafka: rig.bus.kafka,
      seed: 'ingest',
      auth: [{ name: 'api key', headers: { authorization: `Bearer ${API_KEY}` } }],
      params: { id: [randomUUID(), 'fuzz-none'] },
      queryNames: ['token'],
    });
    expectHardened(report);
  });
});
