/**
 * How often and how long a failing handler is retried before its record is
 * dead-lettered. Pure.
 */
export interface RetryPolicy {
  /** Handler attempts (the first included) before the record is dead-lettered. */
  maxAttempts: number;
  /** Time from the first failure after which the record is dead-lettered, whatever the attempts. */
  maxRetryMs: number;
  /** Wait after the first failure; doubled after each further one. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 8,
  maxRetryMs: 60_000,
  initialBackoffMs: 250,
  maxBackoffMs: 10_000,
};

/**
 * The policy from the environment: BUS_HANDLER_MAX_ATTEMPTS,
 * BUS_HANDLER_MAX_RETRY_MS, BUS_HANDLER_BACKOFF_MS and
 * BUS_HANDLER_MAX_BACKOFF_MS, each defaulting to defaultRetryPolicy's.
 */
export function retryPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  const num = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`${name} must be an integer of at least ${min}, got "${raw}"`);
    return n;
  };
  return {
    maxAttempts: num('BUS_HANDLER_MAX_ATTEMPTS', defaultRetryPolicy.maxAttempts, 1),
    maxRetryMs: num('BUS_HANDLER_MAX_RETRY_MS', defaultRetryPolicy.maxRetryMs, 0),
    initialBackoffMs: num('BUS_HANDLER_BACKOFF_MS', defaultRetryPolicy.initialBackoffMs, 0),
    maxBackoffMs: num('BUS_HANDLER_MAX_BACKOFF_MS', defaultRetryPolicy.maxBackoffMs, 0),
  };
}

/**
 * After a record's `attempts`-th failed attempt (the first at `firstFailedAt`):
 * give up (dead-letter it), or wait this long and try again. The wait doubles
 * from initialBackoffMs up to maxBackoffMs and never runs past maxRetryMs.
 */
export function nextRetry(
  policy: RetryPolicy,
  attempts: number,
  firstFailedAt: number,
  now: number,
): { giveUp: true } | { giveUp: false; waitMs: number } {
  const left = firstFailedAt + policy.maxRetryMs - now;
  if (attempts >= policy.maxAttempts || left <= 0) return { giveUp: true };
  const backoff = Math.min(
    policy.maxBackoffMs,
    policy.initialBackoffMs * 2 ** Math.min(30, attempts - 1),
  );
  return { giveUp: false, waitMs: Math.min(backoff, left) };
}
