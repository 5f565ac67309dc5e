import type { Redis } from 'ioredis';

/** As long as `once` remembers that a message was appended. */
const FINGERPRINT_TTL_SECONDS = 14 * 24 * 60 * 60;

/** An idempotency key already names another message (other text, customer or conversation). */
export class IdempotencyConflict extends Error {
  constructor(readonly idempotencyKey: string) {
    super(
      `idempotencyKey ${JSON.stringify(idempotencyKey)} was already used for a different message`,
    );
  }
}

/**
 * Records which message (its fingerprint, see messageFingerprint) a message id, and so an
 * idempotency key, stands for; the first claim wins. 'same' is a retry of that message, 'conflict'
 * another message under the same key.
 */
export async function claimFingerprint(
  redis: Redis,
  messageId: string,
  fingerprint: string,
): Promise<'first' | 'same' | 'conflict'> {
  const before = await redis.set(
    `ingest:fingerprint:${messageId}`,
    fingerprint,
    'EX',
    FINGERPRINT_TTL_SECONDS,
    'NX',
    'GET',
  );
  if (before === null) return 'first';
  return before === fingerprint ? 'same' : 'conflict';
}
