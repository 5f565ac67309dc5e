import { nextRetry, retryPolicyFromEnv, type RetryPolicy } from './retry';

const policy: RetryPolicy = {
  maxAttempts: 4,
  maxRetryMs: 10_000,
  initialBackoffMs: 100,
  maxBackoffMs: 350,
};

describe('handler retries', () => {
  it('wait longer after each failure, up to the cap, then give up after the last attempt', () => {
    expect(nextRetry(policy, 1, 0, 0)).toEqual({ giveUp: false, waitMs: 100 });
    expect(nextRetry(policy, 2, 0, 100)).toEqual({ giveUp: false, waitMs: 200 });
    expect(nextRetry(policy, 3, 0, 300)).toEqual({ giveUp: false, waitMs: 350 });
    expect(nextRetry(policy, 4, 0, 650)).toEqual({ giveUp: true });
  });

  it('give up once the time from the first failure is spent, and never wait past it', () => {
    const slow = { ...policy, maxAttempts: 100, maxRetryMs: 1_000 };
    expect(nextRetry(slow, 3, 5_000, 5_900)).toEqual({ giveUp: false, waitMs: 100 });
    expect(nextRetry(slow, 4, 5_000, 6_000)).toEqual({ giveUp: true });
  });

  it('read from the environment, refusing nonsense', () => {
    expect(retryPolicyFromEnv({ BUS_HANDLER_MAX_ATTEMPTS: '3' }).maxAttempts).toBe(3);
    expect(() => retryPolicyFromEnv({ BUS_HANDLER_MAX_ATTEMPTS: '0' })).toThrow(
      /BUS_HANDLER_MAX_ATTEMPTS must be an integer of at least 1/,
    );
  });
});
