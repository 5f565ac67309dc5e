import type { Bus } from '@support/bus';
import { foldPartitions } from './partition-fold.js';
import type { OfConversation } from './projection.js';
import type { LogPartitionRestorer, RestorerHooks } from './restore.js';
import type { Snapshot, SnapshotStore } from './snapshots.js';

/**
 * How long after an assignment a consumer with an `onCaughtUp` hook looks for partitions that no
 * record has reached, to catch them up without one (and again, up to ten times, while its
 * positions are not read yet).
 */
const QUIET_CATCH_UP_MS = Math.max(50, Number(process.env.LOG_QUIET_CATCH_UP_MS ?? 1000));

/**
 * Exactly-once log consumers: before the first record of a partition this member was assigned,
 * its snapshots are brought to where the group stands, and this member's commits are followed
 * (a restore after a loss of Redis writes nothing past them: restore.ts).
 *
 * The partition's checkpoint (SnapshotStore.flushCommitted) may lag the committed offset, by what
 * was committed after the last checkpoint: that stretch of the log is folded into the snapshots,
 * without reactions (their outputs were committed with it). No checkpoint at all: the whole
 * partition is restored (LogPartitionRestorer.ensure).
 */
export class PartitionCatchUp<S extends OfConversation> {
  /** The partitions caught up since this member was assigned them. */
  private readonly caughtUp = new Set<number>();
  /** Per partition, where the group stands: where this member was assigned it, then each commit's. */
  private readonly committedAt = new Map<number, bigint>();
  /** The catch-ups under way, by partition. */
  private readonly catching = new Map<number, Promise<void>>();
  private owned: (partition: number) => boolean = () => true;
  /** How many assignments this member has had. */
  private assignment = 0;

  constructor(
    private readonly bus: Bus,
    private readonly store: SnapshotStore<S>,
    private readonly restorer: LogPartitionRestorer<S>,
  ) {}

  private get hooks(): RestorerHooks<S> {
    return this.restorer.hooks;
  }

  /**
   * Catches the partition up to `offset` (where the group stands: the first record after an
   * assignment, or a quiet partition's position), once per assignment, one catch-up of a
   * partition at a time (a record that comes during another waits for it). Throws for a record
   * handled beside others (`alone` false) when there is anything to fold: it is handled again
   * alone.
   */
  catchUp(partition: number, offset: string, alone = true): Promise<void> {
    if (this.caughtUp.has(partition)) return Promise.resolve();
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
    this.committedAt.set(partition, BigInt(offset));
    const checkpoint = await this.store.checkpoint(partition);
    if (checkpoint === undefined) await this.restorer.ensure(partition, offset, alone);
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
   * Partitions just assigned that no record reaches are caught up once quiet, at the position
   * the member would read next (`idleAt`, libs/bus ConsumerHandle), so that what the service
   * left waiting on them (the decider's waits, taken up in `onCaughtUp`) runs without a record.
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
        // (The bus's close waits for it: its replay reads through the bus.)
        this.bus.track(this.catchUp(p, at.toString())).catch((err: Error) =>
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

  /** A transaction (or an offset commit) committed these offsets (the next to read). */
  committed(offsets: Map<number, bigint>): void {
    for (const [p, next] of offsets)
      if (next > (this.committedAt.get(p) ?? -1n)) this.committedAt.set(p, next);
  }

  /** Where the group stands on a partition this member owns, as far as it knows. */
  committedBefore(partition: number): bigint | undefined {
    return this.committedAt.get(partition);
  }

  /**
   * Folds the log's records from `from` up to `upTo` (exclusive) of one partition into its
   * snapshots, with what this service appended itself further on (partition-fold.ts).
   */
  private async foldGap(partition: number, from: bigint, upTo: bigint): Promise<void> {
    const started = Date.now();
    const { evolve, initial } = this.store.projection;
    const changed = new Map<string, Snapshot<S>>();
    const current = async (id: string) => changed.get(id) ?? (await this.store.get(id));
    const { events, own } = await foldPartitions(
      this.bus,
      this.store.namespace,
      new Map([[partition, upTo]]),
      new Map([[partition, from]]),
      async (event, p, offset) => {
        const id = event.conversationId;
        const held = await current(id);
        // Applied already (a snapshot written before the checkpoint was held back for another).
        if (held && held.partition === p && BigInt(offset) <= BigInt(held.offset)) return;
        changed.set(id, { state: evolve(held?.state ?? initial(id), event), partition: p, offset });
      },
      async (event) => {
        const held = await current(event.conversationId);
        const state = held && evolve(held.state, event);
        if (held && state !== held.state)
          changed.set(event.conversationId, { ...held, state: state! });
      },
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
      ownEventsAfter: own,
      conversations: changed.size,
      ms: Date.now() - started,
    });
  }
}
