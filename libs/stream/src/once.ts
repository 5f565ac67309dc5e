import type { Redis } from 'ioredis';
import { afterTransaction } from '@support/bus';

const DONE_TTL_SECONDS = 14 * 24 * 60 * 60;

/**
 * Runs a side effect at most once per key as far as redeliveries go: the key
 * is marked done only after the effect succeeded (so nothing is lost if the
 * process dies in between), and a later delivery of the same cause finds the
 * mark and does nothing. The effect must itself carry deterministic ids so
 * that the one window left (death between the effect and the mark) is
 * recognisable downstream.
 *
 * Inside the handler of an exactly-once consumer the effect's records go out with the record's
 * transaction, and the mark is set only once that has committed (`afterTransaction`): a mark
 * set before would outlive a transaction that aborted, and the record's next handling would
 * skip an effect nobody saw.
 */
export async function once(
  redis: Redis,
  key: string,
  effect: () => Promise<void>,
): Promise<boolean> {
  const doneKey = `done:${key}`;
  if (await isDone(redis, key)) return false;
  await effect();
  await afterTransaction(async () => void (await redis.set(doneKey, '1', 'EX', DONE_TTL_SECONDS)));
  return true;
}

/**
 * Marks the effects under these keys as run, in one round trip (for callers that run many effects
 * together, as `once` would each).
 */
export async function markDone(redis: Redis, ...keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.set(`done:${key}`, '1', 'EX', DONE_TTL_SECONDS);
  for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
}

/** Whether the effect of `once`/`onceChecked` under this key has run. */
export async function isDone(redis: Redis, key: string): Promise<boolean> {
  return (await redis.exists(`done:${key}`)) === 1;
}

/** `isDone` for several keys, in one round trip. */
export async function areDone(redis: Redis, keys: readonly string[]): Promise<boolean[]> {
  if (keys.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.exists(`done:${key}`);
  const replies = (await pipeline.exec()) ?? [];
  return keys.map((key, k) => {
    const [err, value] = replies[k] ?? [new Error(`no reply for ${key}`)];
    if (err) throw err;
    return value === 1;
  });
}

/** Serialises work per key inside one process (e.g. per conversation). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

/** Where the effect's own log events will land, so that a doubtful earlier attempt can be checked. */
export interface LogCheck {
  /** Looks in `partition` of the log after `afterOffset` for any of these event ids. */
  contains: (partition: number, afterOffset: string, eventIds: string[]) => Promise<boolean>;
  /** The conversation's partition of the log and an offset the effect's events will come after. */
  partition: number;
  afterOffset: string;
  /** The deterministic ids of the log events the effect appends (any one of them proves it ran). */
  eventIds: string[];
}

/**
 * Like `once`, but closes its one window: before the effect runs, a pending
 * mark records where its events will land in the log; if a process dies after
 * publishing and before marking done, the next delivery finds the pending mark
 * and looks in the log for the effect's events instead of guessing. Exactly
 * once for effects whose events go to the conversation log in one request with
 * their other records (as a decision and its outbound message do), or in one
 * transaction with them inside an exactly-once handler (the done mark waits for
 * its commit, as `once`'s does).
 */
export async function onceChecked(
  redis: Redis,
  key: string,
  check: LogCheck,
  effect: () => Promise<void>,
): Promise<boolean> {
  const doneKey = `done:${key}`;
  const pendingKey = `pending:${key}`;
  if (await isDone(redis, key)) return false;
  const pending = await redis.get(pendingKey);
  if (pending !== null) {
    const [partition, afterOffset] = pending.split(':');
    if (await check.contains(Number(partition), afterOffset, check.eventIds)) {
      await redis.multi().set(doneKey, '1', 'EX', DONE_TTL_SECONDS).del(pendingKey).exec();
      return false;
    }
  }
  await redis.set(pendingKey, `${check.partition}:${check.afterOffset}`, 'EX', DONE_TTL_SECONDS);
  await effect();
  // Inside an exactly-once handler, once the transaction has committed (as `once`); an attempt
  // whose transaction failed leaves its pending mark, and the look in the log (read committed)
  // finds nothing of it.
  await afterTransaction(
    async () =>
      void (await redis.multi().set(doneKey, '1', 'EX', DONE_TTL_SECONDS).del(pendingKey).exec()),
  );
  return true;
}
