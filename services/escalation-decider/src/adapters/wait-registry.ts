import type { Redis } from 'ioredis';
import type { Waiting } from './join-timeouts.js';

/**
 * The decider's open waits, per log partition, in Redis: a replica that takes a partition over,
 * or this one after a restart, takes up the waits left on it once it has caught the partition up
 * (`onCaughtUp` of the log consumer), so that a message whose inputs never come still ends in a
 * decision even when no input reaches the new process.
 *
 * A wait is registered inside the reaction that starts it, before that record's transaction: a
 * transaction that committed has its wait registered. It is removed once the decision's
 * transaction has committed; one left behind by a crash in between is taken up again, and its
 * decision is then found already made. When Redis loses the registry it loses the snapshots too:
 * the restore of those from the log finds the messages still undecided, and registers their
 * waits again (`restore`).
 */
export class WaitRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly service: string,
  ) {}

  private key(partition: number): string {
    return `${this.service}:waits:${partition}`;
  }

  async add(waiting: Waiting): Promise<void> {
    await this.redis.hset(this.key(waiting.at.partition), waiting.messageId, stored(waiting));
  }

  /**
   * Waits found again (in snapshots restored from the log): each registered where the registry
   * lacks it, one already there kept (its `since` is when the reaction began it). Returns them as
   * registered, in one round trip.
   */
  async restore(waits: Waiting[]): Promise<Waiting[]> {
    if (!waits.length) return [];
    const batch = this.redis.pipeline();
    for (const w of waits) {
      batch.hsetnx(this.key(w.at.partition), w.messageId, stored(w));
      batch.hget(this.key(w.at.partition), w.messageId);
    }
    const replies = (await batch.exec()) ?? [];
    const failed = replies.find(([err]) => err)?.[0];
    if (failed) throw failed;
    return waits.map((w, i) => {
      const raw = replies[2 * i + 1]?.[1];
      return typeof raw === 'string' ? (JSON.parse(raw) as Stored) : w;
    });
  }

  async remove(partition: number, messageId: string): Promise<void> {
    await this.redis.hdel(this.key(partition), messageId);
  }

  /** The waits registered on a partition, oldest first. */
  async on(partition: number): Promise<Waiting[]> {
    const entries = Object.values(await this.redis.hgetall(this.key(partition)));
    return entries.map((raw) => JSON.parse(raw) as Stored).sort((a, b) => a.since - b.since);
  }
}

/** What is kept of a wait (the responder's position is looked up again by whoever takes it up). */
type Stored = Omit<Waiting, 'proposalBefore'>;

function stored({ conversationId, messageId, at, since, trace }: Waiting): string {
  const entry: Stored = { conversationId, messageId, at, since, trace };
  return JSON.stringify(entry);
}
