import type { Redis } from 'ioredis';

const DONE_TTL_SECONDS = 14 * 24 * 60 * 60;

/**
 * Runs a side effect at most once per key as far as redeliveries go: the key
 * is marked done only after the effect succeeded (so nothing is lost if the
 * process dies in between), and a later delivery of the same cause finds the
 * mark and does nothing. The effect must itself carry deterministic ids so
 * that the one window left (death between the effect and the mark) is
 * recognisable downstream.
 */
export async function once(
  redis: Redis,
  key: string,
  effect: () => Promise<void>,
): Promise<boolean> {
  const doneKey = `done:${key}`;
  if (await redis.exists(doneKey)) return false;
  await effect();
  await redis.set(doneKey, '1', 'EX', DONE_TTL_SECONDS);
  return true;
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
