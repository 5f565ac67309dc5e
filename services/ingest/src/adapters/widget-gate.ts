import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  type NestMiddleware,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { CONFIG, REDIS } from '@support/service-kit';
import type { Config, WidgetKey } from '../config.js';
import { checkOrigin } from '../domain/origins.js';
import { isOneOf } from './keys.js';

const ALLOWED_HEADERS =
  'authorization, content-type, idempotency-key, x-correlation-id, last-event-id';

/** Express's "trust proxy" from INGEST_TRUST_PROXY: how req.ip finds the client's address. */
function trustProxy(setting: string): boolean | number | string {
  const s = setting.trim();
  if (s === '' || s === 'false') return false;
  if (s === 'true') return true;
  if (/^\d+$/.test(s)) return Number(s);
  return s;
}

/**
 * What every widget request passes before it is served: the widget key's origins (CORS) and its
 * rate limits, per key and per client address (Redis, so they hold across replicas).
 */
@Injectable()
export class WidgetGate implements OnApplicationBootstrap {
  private readonly keys: readonly WidgetKey[];
  private readonly limiters = new Map<
    string,
    { key: RateLimiterRedis; address: RateLimiterRedis }
  >();

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REDIS) redis: Redis,
    private readonly http: HttpAdapterHost,
  ) {
    this.keys = config.INGEST_WIDGET_KEYS;
    for (const k of this.keys) {
      this.limiters.set(k.id, {
        key: new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: 'rl:widget:key',
          points: k.requestsPerMinute,
          duration: 60,
        }),
        address: new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: 'rl:widget:address',
          points: k.requestsPerMinutePerAddress,
          duration: 60,
        }),
      });
    }
  }

  onApplicationBootstrap(): void {
    const app = this.http.httpAdapter?.getInstance() as { set?: (k: string, v: unknown) => void };
    app?.set?.('trust proxy', trustProxy(this.config.INGEST_TRUST_PROXY));
  }

  /** The widget key presented, or undefined (compared in constant time). */
  keyOf(given: string): WidgetKey | undefined {
    return this.keys.find((k) => isOneOf([k.key], given));
  }

  byId(id: string): WidgetKey | undefined {
    return this.keys.find((k) => k.id === id);
  }

  /** Every widget key's origins: what a preflight, which names no key, may be allowed for. */
  anyOrigins(): string[] {
    return [...new Set(this.keys.flatMap((k) => k.origins))];
  }

  /**
   * Lets a request for `key` through, or throws: 403 when the browser's origin may not use the
   * key, 429 with Retry-After when the client address or the key has used its requests a minute.
   */
  async admit(key: WidgetKey, req: Request, res: Response): Promise<void> {
    const origin = req.headers.origin;
    if (checkOrigin(origin, key.origins, req.headers.host) === 'refused') {
      throw new ForbiddenException({
        error: 'origin_not_allowed',
        message: `origin ${origin} may not use widget key ${key.id}`,
      });
    }
    const limiters = this.limiters.get(key.id)!;
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    await this.consume(limiters.address, `${key.id}:${address}`, res, 'client address');
    await this.consume(limiters.key, key.id, res, 'widget key');
  }

  private async consume(
    limiter: RateLimiterRedis,
    id: string,
    res: Response,
    what: string,
  ): Promise<void> {
    try {
      await limiter.consume(id);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const seconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      res.setHeader('Retry-After', String(seconds));
      throw new HttpException(
        {
          error: 'rate_limited',
          message: `too many requests for this ${what}: try again in ${seconds} s`,
          limit: what,
          retryAfterSeconds: seconds,
        },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }
}

/**
 * CORS for the widget API. A preflight names no key, so it is answered for any widget key's
 * origin (the request itself is then checked against its own key's origins, see admit); a
 * request from an origin no widget key allows is refused before it reaches a handler.
 */
@Injectable()
export class WidgetCorsMiddleware implements NestMiddleware {
  constructor(private readonly gate: WidgetGate) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const origin = req.headers.origin;
    res.setHeader('Vary', 'Origin');
    const verdict = checkOrigin(origin, this.gate.anyOrigins(), req.headers.host);
    if (verdict === 'allowed') {
      res.setHeader('Access-Control-Allow-Origin', origin!);
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
    }
    if (verdict === 'refused') {
      res.status(403).json({
        statusCode: 403,
        error: 'origin_not_allowed',
        message: `origin ${origin} may not use the widget API`,
      });
      return;
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  }
}
