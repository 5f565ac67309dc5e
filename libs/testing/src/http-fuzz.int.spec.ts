import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Inject,
  Module,
  Param,
  Post,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { fuzzHttpApp } from './http-fuzz';
import { fuzzRequests } from './fuzz-inputs';
import { fillPath, listRoutes, routeParams } from './http-routes';

jest.setTimeout(120_000);

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const TOPIC = `fuzz-selftest-${randomUUID().slice(0, 8)}`;
const PRODUCER = Symbol('PRODUCER');

/** An application with the faults the fuzzer must find. */
@Controller('items')
class FaultyController {
  constructor(@Inject(PRODUCER) private readonly producer: Producer) {}

  /** A NUL in the id reaches "the store", which throws: a 500. */
  @Get(':id')
  get(@Param('id') id: string) {
    if (id.includes('\u0000')) throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
    return { id };
  }

  /** Publishes before it validates: a 400 with a record on the topic. */
  @Post()
  async create(@Body() body: unknown) {
    await this.producer.send({ topic: TOPIC, messages: [{ value: JSON.stringify(body ?? null) }] });
    throw new BadRequestException({ error: 'validation_failed', issues: [] });
  }
}

describe('the HTTP fuzzer (fuzzHttpApp) on an application with known faults', () => {
  const kafka = new Kafka({ clientId: 'fuzz-selftest', brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  let app: INestApplication;

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: TOPIC, numPartitions: 1 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    await producer.connect();
    @Module({
      controllers: [FaultyController],
      providers: [{ provide: PRODUCER, useValue: producer }],
    })
    class FaultyModule {}
    app = await NestFactory.create(FaultyModule, { logger: false });
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [TOPIC] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("lists the application's routes from its router", () => {
    expect(listRoutes(app)).toEqual([
      { method: 'GET', path: '/items/:id' },
      { method: 'POST', path: '/items' },
    ]);
    expect(routeParams('/v1/a/:id/b/:deliveryId')).toEqual(['id', 'deliveryId']);
    expect(fillPath('/{*path}', { path: 'a%00' })).toBe('/a%00');
  });

  it('generates the same bounded requests from the same seed, and others from another', () => {
    const route = { method: 'POST', path: '/items/:id' };
    const opts = { auth: [{ name: 'key', headers: { authorization: 'Bearer k' } }], perRoute: 40 };
    const once = fuzzRequests(route, { ...opts, seed: 'a' });
    expect(once).toHaveLength(40);
    expect(fuzzRequests(route, { ...opts, seed: 'a' })).toEqual(once);
    expect(fuzzRequests(route, { ...opts, seed: 'b' })).not.toEqual(once);
    // The palettes' leading cases come first: a NUL in the path parameter, a NUL in a JSON string.
    expect(once.map((r) => r.target)).toContain('/items/a%00b');
    expect(once.some((r) => r.body?.toString() === '{"a":"\\u0000"}')).toBe(true);
  });

  it('reports the 5xx answers and the records published for refused requests', async () => {
    const report = await fuzzHttpApp({
      app,
      url: await app.getUrl(),
      kafka,
      seed: 'selftest',
      topics: [TOPIC],
      maxRequests: 60,
    });
    expect(report.requests).toBe(60);
    const nulInPath = report.serverErrors.filter((e) => e.route === 'GET /items/:id');
    expect(nulInPath.length).toBeGreaterThan(0);
    expect(nulInPath.every((e) => e.status === 500 && e.target.includes('%00'))).toBe(true);
    expect(report.publishedOnRejected.map((p) => p.route)).toContain('POST /items');
    expect(report.publishedOnRejected[0].moved[0]).toMatch(
      new RegExp(`^${TOPIC}\\[0\\]: \\d+ -> \\d+$`),
    );
  });
});
