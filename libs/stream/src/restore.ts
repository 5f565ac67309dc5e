import type { Bus } from '@support/bus';
import type { OfConversation } from './projection.js';
import { replayLog } from './replay.js';
import type { PartitionRestorer, Snapshot, SnapshotStore } from './snapshots.js';

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
/**
 * How long after an assignment an exactly-once consumer with an `onCaughtUp` hook looks for
 * partitions that no record has reached, to catch them up without one (and again, up to ten
 * times, while its positions are not read yet).
 */
const QUIET_CATCH_UP_MS = Math.max(50, Number(process.env.LOG_QUIET_CATCH_UP_MS ?? 1000));

export class LogPartitionRestorer<S extends OfConversation> implements PartitionRestorer {
  /** Partitions waiting for the next restore, each with the offset to fold up to and its waiters. */
  private readonly pending = new Map<number, { upTo: bigint; waiters: Waiter[] }>();
  /** Exactly-once: the partitions caught up since this member was assigned them. */
  private readonly caughtUp = new Set<number>();
  /**
   * Exactly-once: per partition, the offset up to which the group has committed what this member
   * handled (where it was assigned the partition, then each transaction's). A restore writes to
   * Redis nothing at or past it (see `restore`).
   */
  private readonly committedAt = new Map<number, bigint>();
  /** Exactly-once: whether this member owns a partition now. */
  private owned: (partition: number) => boolean = () => true;
  /** Exactly-once: how many assignments this member has had. */
  private assignment = 0;
  /** Exactly-once: the catch-ups under way, by partition. */
  private readonly catching = new Map<number, Promise<void>>();
  private working?: Promise<void>;

  constructor(
    private readonly bus: Bus,
    private readonly store: SnapshotStore<S>,
    private readonly hooks: RestorerHooks<S> = {},
  ) {}

  /**
   * Exactly-once consumers: before the first record of a partition this member was assigned,
   * the snapshots are brought to where the group stands. The partition's checkpoint (see
   * SnapshotStore.flushCommitted) may lag the committed offset, by what was committed after the
   * last checkpoint: that stretch of the log is folded into the snapshots, without reactions
   * (their outputs were committed with it). No checkpoint at all: the whole partition is
   * restored (`ensure`). Throws for a record handled beside others (`alone` false) when there
   * is anything to fold: it is handled again alone.
   */
  catchUp(partition: number, offset: string, alone = true): Promise<void> {
    if (this.caughtUp.has(partition)) return Promise.resolve();
    // One catch-up of a partition at a time: a record that comes during another waits for it.
    const running = this.catching.get(partition);
    if (running) return running;
    const work = this.catchUpNow(partition, offset, alone).finally(() =>
      this.catching.delete(partition),
    );
    this.catching.set(partition, work);
    return work;
  }

  private async catchUpNow(partition: number, offset: string, alone: boolean): Promise<void> {
    const assignment = this.assignment;
    // The first record after an assignment is where the group stands (or a quiet partition's position).
    this.committedAt.set(partition, BigInt(offset));
    const checkpoint = await this.store.checkpoint(partition);
    if (checkpoint === undefined) await this.ensure(partition, offset, alone);
    else if (checkpoint < BigInt(offset)) {
      if (!alone)
        throw new Error(
          `snapshots of partition ${partition} lag its committed offset: caught up with its records handled one at a time`,
        );
      await this.foldGap(partition, checkpoint, BigInt(offset));
    }
    // Reassigned meanwhile: where the group stands may have moved; the next record catches up again.
    if (assignment !== this.assignment) return;
    this.caughtUp.add(partition);
    await this.hooks.onCaughtUp?.(partition);
  }

  /**
   * Exactly-once: partitions just assigned that no record reaches are caught up once quiet, at
   * the position the member would read next (`idleAt`, libs/bus ConsumerHandle), so that what the
   * service left waiting on them (the decider's waits, taken up in `onCaughtUp`) runs without a
   * record. A record that comes meanwhile waits for the catch-up.
   */
  catchUpWhenQuiet(
    partitions: number[],
    idleAt: (partition: number) => bigint | undefined,
    tries = 10,
  ): void {
    const timer = setTimeout(() => {
      const left = partitions.filter((p) => this.owned(p) && !this.caughtUp.has(p));
      for (const p of left) {
        const at = idleAt(p);
        if (at === undefined) continue; // a record is coming (it catches up), or positions are not read yet
        this.catchUp(p, at.toString()).catch((err: Error) =>
          this.bus.logger.warn('a quiet partition was not caught up; its next record will be', {
            namespace: this.store.namespace,
            partition: p,
            error: err.message,
          }),
        );
      }
      if (left.length && tries > 1) this.catchUpWhenQuiet(left, idleAt, tries - 1);
    }, QUIET_CATCH_UP_MS);
    timer.unref();
  }

  /** The partitions this member owns now: one it lost must be caught up again if it comes back. */
  assigned(owned: (partition: number) => boolean): void {
    this.assignment++;
    this.owned = owned;
    for (const p of this.caughtUp) if (!owned(p)) this.caughtUp.delete(p);
    for (const p of this.committedAt.keys()) if (!owned(p)) this.committedAt.delete(p);
  }

  /** Exactly-once: a transaction (or an offset commit) committed these offsets (the next to read). */
  committed(offsets: Map<number, bigint>): void {
    for (const [p, next] of offsets)
      if (next > (this.committedAt.get(p) ?? -1n)) this.committedAt.set(p, next);
  }

  /** Folds the log's records from `from` up to `upTo` (exclusive) of one partition into its snapshots. */
  private async foldGap(partition: number, from: bigint, upTo: bigint): Promise<void> {
    const started = Date.now();
    const { evolve } = this.store.projection;
    const changed = new Map<string, Snapshot<S>>();
    const { events } = await replayLog(
      this.bus,
      async (event, p, offset) => {
        const id = event.conversationId;
        const current = changed.get(id) ?? (await this.store.get(id));
        // Applied already (a snapshot written before the checkpoint was held back for another).
        if (current && current.partition === p && BigInt(offset) <= BigInt(current.offset)) return;
        const state = evolve(current?.state ?? this.store.projection.initial(id), event);
        changed.set(id, { state, partition: p, offset });
      },
      new Map([[partition, upTo]]),
      new Map([[partition, from]]),
    );
    await this.store.putAll(changed.values());
    await this.hooks.onRestored?.([...changed.values()]);
    await this.store.markPartitionIntact(partition, upTo);
    this.bus.logger.log('snapshots caught up with the committed offset from the log', {
      namespace: this.store.namespace,
      partition,
      from: from.toString(),
      upTo: upTo.toString(),
      events,
      conversations: changed.size,
      ms: Date.now() - started,
    });
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
      [...upTo].map(([p, o]) => [p, min(o, this.committedAt.get(p) ?? o)] as const),
    );
    const settled = new Map<string, Snapshot<S>>();
    const ahead = new Map<string, { snapshot: Snapshot<S>; since: bigint }>();
    const { events } = await replayLog(
      this.bus,
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
      upTo,
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
        conversations: restored.size,
        ahead: ahead.size,
        ms: Date.now() - started,
      });
  }
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

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
