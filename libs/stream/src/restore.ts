import type { Bus } from '@support/bus';
import type { OfConversation } from './projection.js';
import { foldPartitions } from './partition-fold.js';
import type { PartitionRestorer } from './apply.js';
import type { Snapshot, SnapshotStore } from './snapshots.js';

/**
 * Restores a service's snapshots of a log partition from the log when Redis
 * no longer holds them, so that losing Redis loses no state and needs no
 * manual step.
 *
 * A partition's snapshots are marked complete in Redis (a restore or a
 * rebuild sets the mark; losing Redis's data loses it too). A record whose
 * conversation has no snapshot is either the first of a new conversation or
 * a sign that the snapshots are gone: the mark tells which. Without it, the
 * partition is folded from its start up to the record (exclusive), its
 * snapshots written, the mark set, and only then is the record applied, with
 * the whole conversation behind it. A service that has never consumed the
 * partition meets it at its first offset, where there is nothing to fold.
 *
 * The records of the partition are handled one at a time while it is restored (a record handled
 * beside others of its partition does not restore: it is handled again alone), so nothing of the
 * partition moves meanwhile; other partitions go on.
 */
export class LogPartitionRestorer<S extends OfConversation> implements PartitionRestorer {
  readonly hooks: RestorerHooks<S>;
  /** Partitions waiting for the next restore, each with the offset to fold up to and its waiters. */
  private readonly pending = new Map<number, { upTo: bigint; waiters: Waiter[] }>();
  private working?: Promise<void>;

  constructor(
    private readonly bus: Bus,
    private readonly store: SnapshotStore<S>,
    private readonly options: RestorerOptions<S> = {},
  ) {
    this.hooks = options.hooks ?? {};
  }

  async ensure(partition: number, offset: string, alone = true): Promise<void> {
    if (await this.store.partitionIntact(partition)) return;
    if (!alone)
      throw new Error(
        `snapshots of partition ${partition} are missing: restored with its records handled one at a time`,
      );
    await new Promise<void>((resolve, reject) => {
      const entry = this.pending.get(partition) ?? { upTo: BigInt(offset), waiters: [] };
      entry.waiters.push({ resolve, reject });
      this.pending.set(partition, entry);
      this.work();
    });
  }

  /**
   * One restore at a time, of every partition waiting: after a loss of Redis all of them
   * are, and one pass over the log serves them all.
   */
  private work(): void {
    if (this.working) return;
    const round = new Map(this.pending);
    this.pending.clear();
    this.working = this.restore(new Map([...round].map(([p, e]) => [p, e.upTo])))
      .then(
        () => round.forEach((e) => e.waiters.forEach((w) => w.resolve())),
        (error: Error) => round.forEach((e) => e.waiters.forEach((w) => w.reject(error))),
      )
      .finally(() => {
        this.working = undefined;
        if (this.pending.size) this.work();
      });
  }

  /**
   * Folds the log up to `upTo` (exclusive) for each partition. For an exactly-once consumer the
   * records at or past its committed offset were handled by this member but not yet committed
   * (their transaction may still fail, and a new owner handle them again): Redis gets the
   * snapshots as they stood before the committed offset, and the partition's checkpoint there;
   * what follows it stays in memory, dirty, for the checkpoint after its transaction commits
   * (SnapshotStore.flushCommitted), exactly as if Redis had lost nothing.
   */
  private async restore(upTo: Map<number, bigint>): Promise<void> {
    const started = Date.now();
    const { evolve, initial } = this.store.projection;
    const settledBefore = new Map(
      [...upTo].map(([p, o]) => [p, min(o, this.options.committedBefore?.(p) ?? o)] as const),
    );
    const settled = new Map<string, Snapshot<S>>();
    const ahead = new Map<string, { snapshot: Snapshot<S>; since: bigint }>();
    const { events, own } = await foldPartitions(
      this.bus,
      // (Only an exactly-once consumer marks what it folded at once: see applyLogRecord.)
      this.options.committedBefore ? this.store.namespace : undefined,
      upTo,
      undefined,
      async (event, partition, offset) => {
        const id = event.conversationId;
        const at = BigInt(offset);
        const held = ahead.get(id);
        if (!held && at < settledBefore.get(partition)!) {
          const state = evolve(settled.get(id)?.state ?? initial(id), event);
          settled.set(id, { state, partition, offset });
          return;
        }
        const state = evolve(held?.snapshot.state ?? settled.get(id)?.state ?? initial(id), event);
        ahead.set(id, { snapshot: { state, partition, offset }, since: held?.since ?? at });
      },
      (event) => {
        // Committed (read-committed), so part of what Redis may hold.
        const id = event.conversationId;
        const done = settled.get(id);
        if (done) settled.set(id, { ...done, state: evolve(done.state, event) });
        const held = ahead.get(id);
        if (held) held.snapshot = { ...held.snapshot, state: evolve(held.snapshot.state, event) };
      },
    );
    await this.store.putAll(settled.values());
    for (const { snapshot, since } of ahead.values()) await this.store.putRestored(snapshot, since);
    const restored = new Map(settled);
    for (const [id, { snapshot }] of ahead) restored.set(id, snapshot);
    await this.hooks.onRestored?.([...restored.values()]);
    for (const [partition, offset] of settledBefore)
      await this.store.markPartitionIntact(partition, offset);
    if (events > 0)
      this.bus.logger.warn('snapshots of log partitions were missing: restored from the log', {
        namespace: this.store.namespace,
        partitions: [...upTo.keys()],
        events,
        ownEventsAfter: own,
        conversations: restored.size,
        ahead: ahead.size,
        ms: Date.now() - started,
      });
  }
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export interface RestorerOptions<S extends OfConversation> {
  hooks?: RestorerHooks<S>;
  /**
   * Exactly-once: per partition, the offset up to which the group has committed what this
   * member handled (PartitionCatchUp.committedBefore). A restore writes to Redis nothing at or
   * past it (see `restore`).
   */
  committedBefore?: (partition: number) => bigint | undefined;
}

export interface RestorerHooks<S extends OfConversation> {
  /** What a service derives from its snapshots besides them (e.g. agents' loads), restored with them. */
  onRestored?: (snapshots: Snapshot<S>[]) => Promise<void>;
  /**
   * Exactly-once: a partition newly assigned is caught up, before its first record is handled:
   * where a service takes up what it left waiting on the partition (the decider's waits).
   */
  onCaughtUp?: (partition: number) => Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}
