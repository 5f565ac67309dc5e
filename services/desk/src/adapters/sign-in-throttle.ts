import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { CONFIG, REDIS } from '@support/service-kit';
import type { Config } from '../config.js';
import { addressKey, lockoutMessage, type LockoutScope } from '../domain/sign-in.js';

/** A lockout: 429 with Retry-After and a message saying when to try again. */
export class TooManyAttempts extends HttpException {
  constructor(
    readonly scope: LockoutScope,
    readonly retryAfterMs: number,
  ) {
    super(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'too_many_attempts',
        message: lockoutMessage(scope, retryAfterMs),
        retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }

  /** Sets Retry-After on the answer, then throws. */
  send(res: Response): never {
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil(this.retryAfterMs / 1000))));
    throw this;
  }
}

/**
 * Counts sign-in attempts per login and per client address in Redis (shared by the desk's
 * replicas; an in-memory count stands in while Redis is unreachable). Each attempt is counted
 * before the password is checked, so parallel guesses cannot slip past the limit, and a
 * successful sign-in takes its attempt back: what remains are failures. Past
 * DESK_SIGNIN_MAX_FAILURES for a login (any address), or DESK_SIGNIN_MAX_FAILURES_PER_ADDRESS
 * for an address (any login), within DESK_SIGNIN_LOCKOUT_MINUTES, that login or address is
 * refused for DESK_SIGNIN_LOCKOUT_MINUTES, the right password included. Unknown logins are
 * counted and locked exactly like known ones.
 */
@Injectable()
export class SignInThrottle {
  private readonly byLogin: RateLimiterRedis;
  private readonly byAddress: RateLimiterRedis;

  constructor(@Inject(CONFIG) config: Config, @Inject(REDIS) redis: Redis) {
    const seconds = config.DESK_SIGNIN_LOCKOUT_MINUTES * 60;
    const limiter = (keyPrefix: string, points: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix,
        points,
        duration: seconds,
        blockDuration: seconds,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({
          keyPrefix,
          points,
          duration: seconds,
          blockDuration: seconds,
        }),
      });
    this.byLogin = limiter('desk:signin:login', config.DESK_SIGNIN_MAX_FAILURES);
    this.byAddress = limiter('desk:signin:address', config.DESK_SIGNIN_MAX_FAILURES_PER_ADDRESS);
  }

  /** Counts a sign-in attempt; throws TooManyAttempts when the address or the login is locked. */
  async attempt(login: string, address: string): Promise<void> {
    await this.consume(this.byAddress, addressKey(address), 'address');
    await this.consume(this.byLogin, login, 'login');
  }

  /** The attempt succeeded: the login's failures are forgiven, and the address's attempt taken back. */
  async succeeded(login: string, address: string): Promise<void> {
    await this.byLogin.delete(login);
    await this.byAddress.reward(addressKey(address), 1);
  }

  /** Counts a check of the current password (a password change) against the login. */
  async passwordCheck(login: string): Promise<void> {
    await this.consume(this.byLogin, login, 'login');
  }

  async passwordCheckSucceeded(login: string): Promise<void> {
    await this.byLogin.delete(login);
  }

  private async consume(limiter: RateLimiterRedis, key: string, scope: LockoutScope) {
    try {
      await limiter.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw new TooManyAttempts(scope, err.msBeforeNext);
      throw err;
    }
  }
}
