import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JsonLogger, loadConfig } from '@support/service-kit';
import {
  checkServedOpenApi,
  fetchChecked,
  startServiceRig,
  type OpenApiDoc,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';

jest.setTimeout(60_000);

describe('the sentiment scorer serves an OpenAPI document of its HTTP API', () => {
  let rig: ServiceRig<INestApplication>;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    const config = loadConfig(configSchema, { ...process.env, LOG_LEVEL: 'warn' });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'sentiment-scorer-openapi-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => NestFactory.create(AppModule.create(config, logger), { logger }),
      watch: [],
    });
    doc = await checkServedOpenApi(rig.app, rig.url);
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('documents exactly the routes it serves: health, metrics and the document', () => {
    expect(Object.keys(doc.paths).sort()).toEqual(['/health', '/metrics', '/v1/openapi.json']);
  });

  it('answers health and metrics as documented', async () => {
    const health = await fetchChecked(doc, rig.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual(
      expect.objectContaining({
        status: 'ok',
        service: SERVICE,
        checks: { kafka: 'ok', redis: 'ok' },
      }),
    );
    const metrics = await fetchChecked<string>(doc, rig.url, 'GET', '/metrics');
    expect(metrics.body).toMatch(/^bus_records_total\{kind="handled"\} \d+/m);
  });
});
