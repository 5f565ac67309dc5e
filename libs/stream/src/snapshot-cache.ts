import type { OfConversation } from './projection.js';
import type { Snapshot } from './snapshots.js';

/** How much of a namespace's snapshots a process keeps in memory. */
export interface CacheLimits {
  /** At most this many conversations (SNAPSHOT_CACHE_SIZE, default 10,000). */
  size?: number;
  /** Dropped when not changed for this long (SNAPSHOT_CACHE_IDLE_SECONDS, default 300). */
  idleSeconds?: number;
  /** The clock, in milliseconds (tests pass their own). */
  now?: () => number;
}

function cacheLimitsFromEnv(): Required<CacheLimits> {
  const positive = (name: string, fallback: number): number => {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0)
      throw new Error(`${name} must be a positive number, not '${raw}'`);
    return n;
  };
  return {
    size: positive('SNAPSHOT_CACHE_SIZE', 10_000),
    idleSeconds: positive('SNAPSHOT_CACHE_IDLE_SECONDS', 300),
    now: Date.now,
  };
}

/**
 * The snapshots a process keeps in memory besides the dirty ones, least recently put first: at
 * most `size`, and none quiet for longer than `idleSeconds`, so that memory follows the
 * conversations that are active, not the ones open. A sweep runs only while it holds something.
 */
export class SnapshotCache<S extends OfConversation> {
  private readonly entries = new Map<string, { snapshot: Snapshot<S>; at: number }>();
  private readonly limits: Required<CacheLimits>;
  private nextSweep = 0;
  private sweeper?: NodeJS.Timeout;

  constructor(limits: CacheLimits = {}) {
    this.limits = { ...cacheLimitsFromEnv(), ...limits };
  }

  get size(): number {
    return this.entries.size;
  }

  get(conversationId: string): Snapshot<S> | undefined {
    return this.entries.get(conversationId)?.snapshot;
  }

  clear(): void {
    this.entries.clear();
  }

  remember(snapshot: Snapshot<S>): void {
    const id = snapshot.state.conversationId;
    const now = this.limits.now();
    this.entries.delete(id);
    this.entries.set(id, { snapshot, at: now });
    if (this.entries.size > this.limits.size)
      this.entries.delete(this.entries.keys().next().value!);
    if (now >= this.nextSweep) this.evictIdle(now);
    this.sweeper ??= setInterval(() => this.evictIdle(this.limits.now()), this.sweepEvery).unref();
  }

  /** Drops the snapshots of partitions this process no longer owns. */
  keepOnly(owned: (partition: number) => boolean): void {
    for (const [id, { snapshot }] of this.entries)
      if (!owned(snapshot.partition)) this.entries.delete(id);
  }

  private get sweepEvery(): number {
    return Math.max(1000, (this.limits.idleSeconds * 1000) / 10);
  }

  /** Drops the snapshots put longer than `idleSeconds` ago (the oldest are first in the map). */
  private evictIdle(now: number): void {
    const idleMs = this.limits.idleSeconds * 1000;
    this.nextSweep = now + this.sweepEvery;
    for (const [id, { at }] of this.entries) {
      if (now - at < idleMs) break;
      this.entries.delete(id);
    }
    if (this.entries.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
