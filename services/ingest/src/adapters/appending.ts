import type { Redis } from 'ioredis';
import { afterTransaction } from '@support/bus';
import { areDone, markDone } from '@support/stream';

/** Where an inbound record is: its partition and offset. */
export interface RecordAt {
  partition: number;
  offset: string;
}

/**
 * What ingest appends once per key (a message's id, a rating's event id), from support.inbound
 * records handled in Kafka transactions.
 *
 * A key's done mark in Redis is set once the transaction that appended it has committed: set
 * before, it would outlive a transaction that was lost, and the record's next handling would
 * drop a message nobody saw. Meanwhile the key is held here, by the record that appends it, so
 * that a repeat (a channel's retry, the same idempotency key again) read before that commit is
 * dropped as well. A repeat is on the same partition as the record it repeats (the inbound key
 * is the channel's conversation) and after it, so its offset is never committed before that
 * record's: dropping it is safe even if that record's transaction is lost and it is handled
 * again. After a rebalance every record not committed is handled again, in order, by whoever
 * owns its partition: what is held here is forgotten then.
 */
export class Appending {
  private readonly held = new Map<string, string>();

  constructor(private readonly redis: Redis) {}

  /**
   * The keys of these records that are theirs to append (not done, and not held by another
   * record), each held by its record from now on. `at` undefined: not a record's (an HTTP
   * call), checked against the done marks only.
   */
  async claim(items: { key: string; at?: RecordAt }[]): Promise<boolean[]> {
    const done = await areDone(
      this.redis,
      items.map((i) => i.key),
    );
    return items.map(({ key, at }, k) => {
      if (done[k]) return false;
      if (!at) return true;
      const by = `${at.partition}:${at.offset}`;
      const holder = this.held.get(key);
      if (holder !== undefined && holder !== by) return false;
      this.held.set(key, by);
      return true;
    });
  }

  /**
   * Runs `append` for the keys claimed: when it returns they are marked done once their
   * transaction has committed (at once outside one); when it throws they are let go, so that the
   * record's next try, or once it is dead-lettered a repeat of its key, may append them.
   */
  async append<T>(keys: string[], append: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await append();
    } catch (err) {
      for (const key of keys) this.held.delete(key);
      throw err;
    }
    await afterTransaction(async () => {
      await markDone(this.redis, ...keys);
      for (const key of keys) this.held.delete(key);
    });
    return result;
  }

  /** The group assigned partitions again: every record not committed is handled again. */
  forget(): void {
    this.held.clear();
  }
}
