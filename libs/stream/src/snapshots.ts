import type { Redis } from 'ioredis';
import type { ConversationState } from '@support/conversation';
import { conversationProjection, type OfConversation, type Projection } from './projection.js';
import { SnapshotCache, type CacheLimits } from './snapshot-cache.js';

export type { CacheLimits } from './snapshot-cache.js';

/** A service's snapshot of one conversation: its projection's state and the last log offset applied to it. */
export interface Snapshot<S extends OfConversation = ConversationState> {
  state: S;
  partition: number;
  offset: string;
}

/**
 * Snapshots of the conversation log, one namespace per service: held in memory by the process
 * that applies the log, and checkpointed to Redis in batches (write-behind).
 *
 * - `put` changes memory only and marks the snapshot dirty; `flush` writes every dirty snapshot in
 *   one pipelined round trip. The log consumer flushes before it commits offsets (the bus's
 *   `beforeCommit`), so a committed offset never runs ahead of the snapshots in Redis: a replica
 *   that takes the partition over, or this one after a crash, finds state at least as new as the
 *   committed position, and folds what follows from the log.
 * - A bounded cache of clean snapshots saves reading back what this process wrote; it is dropped
 *   (clearCache) whenever partitions are reassigned, since another replica may have moved a
 *   snapshot on meanwhile. Dirty snapshots are never evicted before they are flushed.
 * - A conversation quiet for `idleSeconds` (resolved, abandoned, or waiting on a slow reply) leaves
 *   the cache, and the cache holds at most `size`: memory follows the conversations that are
 *   active, not the ones open. Its next event reads it back from its Redis checkpoint.
 */
export class SnapshotStore<S extends OfConversation = ConversationState> {
  /** The snapshots this process put or restored, clean ones included, within its limits. */
  private readonly cache: SnapshotCache<S>;
  /** Snapshots changed since the last flush, by conversation id. */
  private readonly dirty = new Map<string, Snapshot<S>>();
  /** Of each dirty snapshot, the offset of the first record folded into it since its last flush. */
  private readonly since = new Map<string, bigint>();
  /** Exactly-once: the partitions this process owns (forgetPartitions), undefined until told. */
  private owned?: Set<number>;
  /** Conversations changed by a punctuation whose transaction has not committed (putUnsettled). */
  private readonly unsettled = new Set<string>();

  constructor(
    private readonly redis: Redis,
    readonly namespace: string,
    /** What the snapshots hold (default the whole conversation). */
    readonly projection: Projection<S> = conversationProjection as unknown as Projection<S>,
    limits: CacheLimits = {},
  ) {
    this.cache = new SnapshotCache<S>(limits);
  }

  clearCache(): void {
    this.cache.clear();
  }

  /** How many snapshots this process holds in memory besides the dirty ones. */
  get cached(): number {
    return this.cache.size;
  }

  private key(conversationId: string): string {
    return `snap:${this.namespace}:${conversationId}`;
  }

  async get(conversationId: string): Promise<Snapshot<S> | undefined> {
    return this.held(conversationId) ?? (await this.stored(conversationId));
  }

  /** The snapshot this process holds in memory (dirty or cached), if any. */
  held(conversationId: string): Snapshot<S> | undefined {
    return this.dirty.get(conversationId) ?? this.cache.get(conversationId);
  }

  /** Redis's copy of the snapshot, if any. */
  async stored(conversationId: string): Promise<Snapshot<S> | undefined> {
    const raw = await this.redis.get(this.key(conversationId));
    return raw ? (JSON.parse(raw) as Snapshot<S>) : undefined;
  }

  async state(conversationId: string): Promise<S> {
    return (await this.get(conversationId))?.state ?? this.projection.initial(conversationId);
  }

  /** Keeps a snapshot in memory; Redis has it after the next `flush`. */
  async put(snapshot: Snapshot<S>): Promise<void> {
    const id = snapshot.state.conversationId;
    if (!this.dirty.has(id)) this.since.set(id, BigInt(snapshot.offset));
    this.dirty.set(id, snapshot);
    this.cache.remember(snapshot);
  }

  /**
   * Exactly-once: keeps a snapshot that a punctuation changed (work outside any record, whose
   * publications go out in the partition's next transaction: libs/bus ConsumerHandle.punctuate).
   * It goes to Redis only once that transaction has committed (`settle`), and so does every later
   * snapshot of the conversation, which holds the change too; meanwhile the partition's checkpoint
   * stays behind it. A crash before the commit loses the change with what it published.
   */
  async putUnsettled(snapshot: Snapshot<S>): Promise<void> {
    await this.put(snapshot);
    this.unsettled.add(snapshot.state.conversationId);
  }

  /** The punctuation's transaction committed: the conversation's snapshot may be checkpointed. */
  settle(conversationId: string): void {
    this.unsettled.delete(conversationId);
  }

  /** How many snapshots wait for the next flush. */
  get unflushed(): number {
    return this.dirty.size;
  }

  /**
   * Writes every snapshot put since the last flush, pipelined a thousand at a time. Throws when
   * Redis refused any (they stay dirty, and the caller must not commit past them).
   */
  async flush(): Promise<number> {
    if (this.dirty.size === 0) return 0;
    const taken = [...this.dirty.values()].filter(
      (s) => !this.unsettled.has(s.state.conversationId),
    );
    await this.write(taken);
    this.cleaned(taken);
    return taken.length;
  }

  /** A snapshot put again while its write was on its way stays dirty. */
  private cleaned(written: Snapshot<S>[]): void {
    for (const s of written) {
      const id = s.state.conversationId;
      if (this.dirty.get(id) !== s) continue;
      this.dirty.delete(id);
      this.since.delete(id);
    }
  }

  /**
   * The checkpoint of an exactly-once consumer, after its transaction committed `committed`
   * (per partition, the next offset to read): writes the dirty snapshots of those partitions
   * that hold only committed records, and each partition's checkpoint offset, in one MULTI.
   *
   * A snapshot that folded a record at or past the committed offset stays dirty: the record may
   * be handled again (its transaction may yet abort), and a snapshot in Redis ahead of it would
   * skip it. Its Redis copy is older; the partition's checkpoint is then held back to the first
   * record it lacks, so the checkpoint always means "every snapshot of the partition holds every
   * record before this offset", and a restart folds the log from there to where the group stands
   * (LogPartitionRestorer.catchUp) before it handles anything.
   *
   * A checkpoint only moves a mark that Redis still holds (SET XX): after Redis has lost its data,
   * a snapshot it lost must be missed (the partition then restored from the log, restore.ts), not
   * hidden behind a mark written again as if every snapshot of the partition were there.
   */
  async flushCommitted(committed: Map<number, bigint>): Promise<number> {
    // (A partition lost since: its snapshots were dropped, and its new owner checkpoints it.)
    const checkpoints = new Map(
      [...committed].filter(([partition]) => this.owned?.has(partition) ?? true),
    );
    const written: Snapshot<S>[] = [];
    for (const [id, s] of this.dirty) {
      const checkpoint = checkpoints.get(s.partition);
      if (checkpoint === undefined) continue;
      if (BigInt(s.offset) < committed.get(s.partition)! && !this.unsettled.has(id))
        written.push(s);
      else {
        const since = this.since.get(id)!;
        if (since < checkpoint) checkpoints.set(s.partition, since);
      }
    }
    const multi = this.redis.multi();
    for (const s of written) multi.set(this.key(s.state.conversationId), JSON.stringify(s));
    for (const [partition, upTo] of checkpoints)
      multi.set(...this.partitionMark(partition, upTo), 'XX');
    const failed = (await multi.exec())?.find(([err]) => err)?.[0];
    if (failed) throw failed;
    this.cleaned(written);
    return written.length;
  }

  /**
   * Drops every snapshot this process holds of partitions it no longer owns, dirty ones too (an
   * exactly-once consumer's, which may be ahead of what was committed: the new owner folds the
   * log from the checkpoint instead).
   */
  forgetPartitions(owned: Set<number>): void {
    this.owned = owned;
    for (const [id, s] of this.dirty)
      if (!owned.has(s.partition)) {
        this.dirty.delete(id);
        this.since.delete(id);
        this.unsettled.delete(id);
      }
    this.cache.keepOnly((partition) => owned.has(partition));
  }

  /**
   * Whether this process owns the log partition (exactly-once consumers, once told by
   * forgetPartitions; otherwise always): a snapshot of a partition it does not own may be behind
   * what its new owner has folded.
   */
  owns(partition: number): boolean {
    return this.owned?.has(partition) ?? true;
  }

  /**
   * Writes many snapshots at once (a restore, a rebuild), replacing any older ones in memory. A
   * snapshot this process holds at the same offset stays: it may know more (the events its
   * reaction appended, folded at once, which the log holds only further on; a punctuation's
   * change). A clean one (what Redis had) is written back in place of the one given.
   */
  async putAll(snapshots: Iterable<Snapshot<S>>): Promise<number> {
    const all = [...snapshots].map((s) => {
      const id = s.state.conversationId;
      const clean = this.dirty.has(id) ? undefined : this.cache.get(id);
      return clean && isAtLeastAsNew(clean, s) ? clean : s;
    });
    await this.write(all);
    for (const snapshot of all) {
      const id = snapshot.state.conversationId;
      const held = this.dirty.get(id);
      if (held && !isAtLeastAsNew(held, snapshot)) {
        this.dirty.delete(id);
        this.since.delete(id);
      }
      if (!this.dirty.has(id)) this.cache.remember(snapshot);
    }
    return all.length;
  }

  /**
   * Exactly-once: a restore's snapshot that folded records not yet committed (`since`, the first
   * of them) is kept in memory, dirty, like one this process put: it reaches Redis once their
   * transaction commits. One this process holds at the same offset or later stays.
   */
  async putRestored(snapshot: Snapshot<S>, since: bigint): Promise<void> {
    const id = snapshot.state.conversationId;
    const held = this.dirty.get(id);
    const earliest = this.since.get(id);
    if (!held || !isAtLeastAsNew(held, snapshot)) await this.put(snapshot);
    this.since.set(id, earliest !== undefined && earliest < since ? earliest : since);
  }

  private async write(snapshots: Snapshot<S>[]): Promise<void> {
    for (let i = 0; i < snapshots.length; i += 1000) {
      const batch = this.redis.pipeline();
      for (const s of snapshots.slice(i, i + 1000))
        batch.set(this.key(s.state.conversationId), JSON.stringify(s));
      const failed = (await batch.exec())?.find(([err]) => err)?.[0];
      if (failed) throw failed;
    }
  }

  private partitionKey(partition: number): string {
    return `snap-partition:${this.namespace}:${partition}`;
  }

  /**
   * Whether Redis holds every snapshot of a log partition that this namespace
   * has written: the mark is set when a partition's snapshots are complete (a
   * restore or a rebuild), and goes with them when Redis loses its data.
   */
  async partitionIntact(partition: number): Promise<boolean> {
    return (await this.redis.exists(this.partitionKey(partition))) === 1;
  }

  async markPartitionIntact(partition: number, upTo: bigint): Promise<void> {
    await this.redis.set(...this.partitionMark(partition, upTo));
  }

  private partitionMark(partition: number, upTo: bigint): [string, string] {
    return [
      this.partitionKey(partition),
      JSON.stringify({ upTo: upTo.toString(), at: new Date().toISOString() }),
    ];
  }

  /**
   * The partition's checkpoint: every snapshot of it holds every record before this offset
   * (exactly-once consumers; a restore or a rebuild sets it too). Undefined when Redis has no
   * mark: nothing of the partition can be trusted.
   */
  async checkpoint(partition: number): Promise<bigint | undefined> {
    const raw = await this.redis.get(this.partitionKey(partition));
    return raw ? BigInt((JSON.parse(raw) as { upTo: string }).upTo) : undefined;
  }

  /** Every snapshot of this namespace, keyed by conversation id. */
  async all(): Promise<Map<string, Snapshot<S>>> {
    const out = new Map<string, Snapshot<S>>();
    const prefix = `snap:${this.namespace}:`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) {
        const values = await this.redis.mget(...keys);
        keys.forEach((k, i) => {
          if (values[i]) out.set(k.slice(prefix.length), JSON.parse(values[i]!) as Snapshot<S>);
        });
      }
    } while (cursor !== '0');
    return out;
  }

  async clear(): Promise<number> {
    this.cache.clear();
    this.dirty.clear();
    this.since.clear();
    this.unsettled.clear();
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `snap:${this.namespace}:*`,
        'COUNT',
        500,
      );
      cursor = next;
      if (keys.length) removed += await this.redis.del(...keys);
    } while (cursor !== '0');
    return removed;
  }
}

/** Whether `a` holds the position of the log that `b` holds, or a later one (the same partition). */
function isAtLeastAsNew(a: Snapshot<OfConversation>, b: Snapshot<OfConversation>): boolean {
  return a.partition === b.partition && BigInt(a.offset) >= BigInt(b.offset);
}
