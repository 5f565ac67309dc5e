import type { Bus } from '@support/bus';
import type { OfConversation } from './projection.js';
import type { SnapshotStore } from './snapshots.js';

/**
 * How long an exactly-once log consumer gathers its group's commits before it checkpoints its
 * snapshots (LOG_CHECKPOINT_MS, default 200; 0 checkpoints after every transaction).
 */
const CHECKPOINT_MS = Math.max(0, Number(process.env.LOG_CHECKPOINT_MS ?? 200));

/**
 * The checkpoints of an exactly-once log consumer, in Redis, a while after its transactions
 * commit (Kafka Streams' commit interval): the commits of that while go in one write, a
 * conversation changed by several of them is written once, and no transaction waits for Redis.
 *
 * A checkpoint only ever trails the group's committed offsets, which is what a crash between a
 * commit and its checkpoint already left behind: the next owner of the partition folds the log
 * from the checkpoint to the committed offset (catch-up.ts). A longer interval costs that fold a
 * few more records, never a record handled twice or skipped. A shutdown waits for the last one
 * (the bus's tracked work).
 */
export class CommittedCheckpoints<S extends OfConversation> {
  /** Per partition, the newest committed offset not yet checkpointed. */
  private readonly pending = new Map<number, bigint>();
  private scheduled?: Promise<void>;

  constructor(
    private readonly bus: Bus,
    private readonly store: SnapshotStore<S>,
    private readonly everyMs = CHECKPOINT_MS,
  ) {}

  /** The group committed `offsets` (per partition, the next offset to read). */
  committed(offsets: Map<number, bigint>): Promise<void> {
    for (const [partition, offset] of offsets)
      if (offset > (this.pending.get(partition) ?? -1n)) this.pending.set(partition, offset);
    if (this.everyMs === 0) return this.flush();
    this.scheduled ??= this.bus.track(
      new Promise<void>((resolve) => setTimeout(resolve, this.everyMs)).then(() => {
        this.scheduled = undefined;
        return this.flush();
      }),
    );
    return Promise.resolve();
  }

  /** Checkpoints what is pending; what fails stays pending for the next commit's checkpoint. */
  private async flush(): Promise<void> {
    const committed = new Map(this.pending);
    if (committed.size === 0) return;
    try {
      await this.store.flushCommitted(committed);
      for (const [partition, offset] of committed)
        if (this.pending.get(partition) === offset) this.pending.delete(partition);
    } catch (err) {
      this.bus.logger.warn('checkpoint failed; trying again after the next commit', {
        namespace: this.store.namespace,
        error: (err as Error).message,
      });
    }
  }
}
