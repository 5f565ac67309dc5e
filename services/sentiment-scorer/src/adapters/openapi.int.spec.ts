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

  it('documents exactly the routes it serves: health, readiness, liveness, metrics and the document', () => {
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/health',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/v1/openapi.json',
    ]);
  });

  it('answers health, readiness, liveness and metrics as documented', async () => {
    const health = await fetchChecked(doc, rig.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual(
      expect.objectContaining({
        status: 'ok',
        service: SERVICE,
        checks: { kafka: 'ok', redis: 'ok' },
      }),
    );
    const ready = await fetchChecked(doc, rig.url, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual(expect.objectContaining({ status: 'ok', service: SERVICE }));
    const live = await fetchChecked(doc, rig.url, 'GET', '/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({
      status: 'ok',
      service: SERVICE,
      consumers: { [`${SERVICE}.log`]: 'running' },
    });
    const metrics = await fetchChecked<string>(doc, rig.url, 'GET', '/metrics');
    expect(metrics.body).toMatch(/^bus_records_total\{kind="handled"\} \d+/m);
  });
});
