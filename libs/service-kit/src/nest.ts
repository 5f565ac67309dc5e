import {
  CanActivate,
  Controller,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Module,
  Res,
  UnauthorizedException,
  type DynamicModule,
  type ExecutionContext,
  type BeforeApplicationShutdown,
  type OnModuleInit,
  type OnApplicationShutdown,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { timingSafeEqual } from 'node:crypto';
import { Redis } from 'ioredis';
import * as prom from 'prom-client';
import { Bus } from '@support/bus';
import { stopTracing } from '@support/telemetry';
import type { BaseConfig } from './config.js';
import { JsonLogger } from './logger.js';
import { startProfilingIfAsked, stopProfiling } from './profiling.js';
import { healthChecks } from './health.js';
import { bodyGuard, bodyParserErrors, requestLineGuard } from './input-guard.js';
import { securityHeaders } from './security-headers.js';

export const REDIS = Symbol('REDIS');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
export const API_KEYS = Symbol('API_KEYS');
export const CONFIG = Symbol('CONFIG');

@Controller()
class OpsController {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  /**
   * 200 while every part works: Kafka (each consumer consuming), Redis and the service's own
   * checks; 503 (with the failing part) otherwise.
   */
  @Get('health')
  async health(): Promise<Record<string, unknown>> {
    const kafka = this.bus.health();
    return this.answer(kafka.ok, kafka.consumers);
  }

  /**
   * Readiness (to take traffic): Redis and the service's own checks work, and every consumer has
   * joined its group once. A consumer joining again after a broker died keeps it ready: HTTP
   * serves meanwhile, and the records it has not read wait in Kafka.
   */
  @Get('health/ready')
  async ready(): Promise<Record<string, unknown>> {
    const kafka = this.bus.health();
    return this.answer(kafka.ready, kafka.consumers);
  }

  /** Liveness: the process answers and no consumer has stopped for good (restart it otherwise). */
  @Get('health/live')
  live(): Record<string, unknown> {
    const { consumers } = this.bus.health();
    const crashed = Object.values(consumers).includes('crashed');
    const body = { status: crashed ? 'error' : 'ok', service: this.service, consumers };
    if (crashed) throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }

  private async answer(
    kafkaOk: boolean,
    consumers: Record<string, string>,
  ): Promise<Record<string, unknown>> {
    const checks: Record<string, string> = {};
    checks.kafka = kafkaOk ? 'ok' : 'down';
    try {
      await this.redis.ping();
      checks.redis = 'ok';
    } catch (err) {
      checks.redis = `down: ${(err as Error).message}`;
    }
    for (const c of healthChecks()) {
      try {
        await c.check();
        checks[c.name] = 'ok';
      } catch (err) {
        checks[c.name] = `down: ${(err as Error).message}`;
      }
    }
    const ok = Object.values(checks).every((v) => v === 'ok');
    const body = { status: ok ? 'ok' : 'error', service: this.service, checks, consumers };
    if (!ok) throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }

  /** Prometheus metrics for operators. */
  @Get('metrics')
  async metrics(
    @Res() res: { setHeader(k: string, v: string): void; end(body: string): void },
  ): Promise<void> {
    res.setHeader('Content-Type', prom.register.contentType);
    res.end(await prom.register.metrics());
  }
}

/** Requires `Authorization: Bearer <key>` with one of the configured API keys. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(API_KEYS) private readonly keys: string[]) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined> }>();
    const header = req.headers['authorization'] ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = Buffer.from(match?.[1]?.trim() ?? '');
    const ok = this.keys.some((k) => {
      const key = Buffer.from(k);
      return key.length === given.length && timingSafeEqual(key, given);
    });
    if (!ok)
      throw new UnauthorizedException('a valid API key is required: Authorization: Bearer <key>');
    return true;
  }
}

/**
 * Start-up creates the topics. Shutdown order: consumers stop first (finishing and committing the message
 * in hand) in beforeApplicationShutdown; only then, in onApplicationShutdown,
 * do services close their databases and this closes Redis, then flushes the traces.
 */
@Injectable()
class Lifecycle implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}
  /** Every catalogued topic exists before any service starts consuming (in onApplicationBootstrap). */
  async onModuleInit(): Promise<void> {
    await this.bus.ensureTopics();
  }
  async beforeApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
    await stopProfiling(this.bus.service);
    // Last: the spans of everything above are exported before the process exits.
    await stopTracing();
  }
}

export interface KitOptions {
  service: string;
  config: BaseConfig;
  apiKeys?: string[];
  logger: JsonLogger;
}

@Module({})
export class ServiceKitModule {
  static forRoot(options: KitOptions): DynamicModule {
    const bus = new Bus({
      service: options.service,
      brokers: options.config.KAFKA_BROKERS,
      logger: options.logger,
      sessionTimeoutMs: options.config.KAFKA_SESSION_TIMEOUT_MS,
      instanceId: options.config.KAFKA_INSTANCE_ID,
    });
    const busCollector = new prom.Gauge({
      name: 'bus_records_total',
      help: 'Records handled, published and dead-lettered by this process',
      labelNames: ['kind'],
      collect() {
        this.set({ kind: 'handled' }, bus.stats.handled);
        this.set({ kind: 'published' }, bus.stats.published);
        this.set({ kind: 'dead_lettered' }, bus.stats.deadLettered);
      },
    });
    void busCollector;
    return {
      module: ServiceKitModule,
      global: true,
      controllers: [OpsController],
      providers: [
        { provide: Bus, useValue: bus },
        {
          provide: REDIS,
          // Auto-pipelining: the commands every lane issues in one turn of the event loop go to
          // Redis in one write (a write per command cost more than the commands themselves).
          useFactory: () =>
            new Redis(options.config.REDIS_URL, {
              maxRetriesPerRequest: 3,
              enableAutoPipelining: true,
            }),
        },
        { provide: SERVICE_NAME, useValue: options.service },
        { provide: API_KEYS, useValue: options.apiKeys ?? [] },
        { provide: CONFIG, useValue: options.config },
        { provide: JsonLogger, useValue: options.logger },
        ApiKeyGuard,
        Lifecycle,
      ],
      exports: [Bus, REDIS, SERVICE_NAME, API_KEYS, CONFIG, JsonLogger, ApiKeyGuard],
    };
  }
}

const BODY_LIMIT = '5mb';

/**
 * Creates a service's Nest application, configured the same way in production
 * and in tests, in this order for every request:
 * - security headers (helmet, security-headers.ts; a route overrides its page's CSP with
 *   overrideSecurityHeaders), no X-Powered-By;
 * - the shared input check of the path, query string and headers (input-guard.ts): a 400
 *   naming the field for NUL and other control characters, lone surrogates, invalid
 *   percent-encoding or over-long values, before the body is read;
 * - JSON, text (bulk imports arrive as JSON, Markdown or HTML documents) and form bodies up
 *   to 5 MB; a body that is not valid JSON is a 400 naming `body`;
 * - the same check of every key and string of the parsed body;
 * - then the routes. Shutdown hooks are on.
 */
export async function createServiceApp(
  rootModule: Type<unknown> | DynamicModule,
  logger: JsonLogger,
): Promise<NestExpressApplication> {
  // Start-up failures throw (serviceMain logs them and exits 1) instead of Nest exiting the process itself.
  const app = await NestFactory.create<NestExpressApplication>(rootModule, {
    logger,
    abortOnError: false,
    // The parsers are registered below, before the body check; Nest would add its own after it.
    bodyParser: false,
  });
  app.disable('x-powered-by');
  app.use(securityHeaders());
  app.use(requestLineGuard);
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('text', {
    type: ['text/*', 'application/yaml', 'application/x-yaml'],
    limit: BODY_LIMIT,
  });
  app.useBodyParser('urlencoded', { extended: true, limit: BODY_LIMIT });
  app.use(bodyParserErrors);
  app.use(bodyGuard);
  app.enableShutdownHooks();
  return app;
}

/** Starts a service's Nest application on its port with shutdown hooks and JSON logs. */
export async function runService(
  rootModule: Type<unknown> | DynamicModule,
  opts: { service: string; host: string; port: number; logger: JsonLogger },
): Promise<void> {
  await startProfilingIfAsked();
  prom.collectDefaultMetrics({ labels: { service: opts.service } });
  const app = await createServiceApp(rootModule, opts.logger);
  await app.listen(opts.port, opts.host);
  opts.logger.log(`${opts.service} listening on http://${opts.host}:${opts.port}`, {
    port: opts.port,
  });
  // A graceful stop that hangs (a handler that does not end, a broker that does not answer) must
  // not keep the process: it exits after SHUTDOWN_DEADLINE_MS, as a supervisor would kill it.
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      setTimeout(() => {
        opts.logger.error('graceful shutdown did not end in time; exiting', {
          signal,
          deadlineMs: SHUTDOWN_DEADLINE_MS,
        });
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
    });
}

/** How long a service's graceful stop may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 25_000;
