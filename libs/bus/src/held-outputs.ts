/**
 * An exactly-once consumer's outputs: what its handlers and punctuations publish, held in the
 * outbox (outbox.ts) until the transaction that commits them with the offsets past their records
 * (transactions.ts), and the linger that starts that transaction soon after something published.
 */
import type { Consumer as KafkaConsumer } from '@platformatic/kafka';
import type { CommitDeps } from './offset-commits.js';
import { Outbox, type AfterCommit } from './outbox.js';
import { errorText } from './record-handler.js';
import { TransactionalCommitter } from './transactions.js';

/** How long an exactly-once consumer waits after a record published before it commits (more records join the transaction). */
const LINGER_MS = Math.max(0, Number(process.env.EXACTLY_ONCE_LINGER_MS ?? 5));

export class HeldOutputs {
  private readonly outbox: Outbox;
  private readonly transactions: TransactionalCommitter;
  private lingering?: NodeJS.Timeout;

  constructor(
    private readonly deps: CommitDeps,
    settings: ConstructorParameters<typeof TransactionalCommitter>[0],
    /** Commits what is held (the consumer's commit, in turn with the others). */
    private readonly commitHeld: () => Promise<void>,
  ) {
    this.outbox = new Outbox((partition, records, why) =>
      deps.logger.warn('held outputs dropped: their records are handled again', {
        groupId: deps.groupId,
        partition,
        records,
        why,
      }),
    );
    this.transactions = new TransactionalCommitter(settings);
  }

  /** The group (re)assigned partitions: what those it lost published goes. */
  joined(owned: (partition: number) => boolean): void {
    this.outbox.forget(owned);
  }

  /** A handler, with what it publishes held for the record's transaction. */
  async captured<R>(
    record: { partition: number; offset: string },
    handle: () => Promise<R>,
  ): Promise<R> {
    const result = await this.outbox.capture(record.partition, BigInt(record.offset), handle);
    if (this.outbox.size) this.soon();
    return result;
  }

  /**
   * Work for a partition outside any record (a timer's), whose publications are held like a
   * record's and go out in the partition's next transaction, with its offsets, so that the
   * group's generation fences them: a member that lost the partition cannot commit them.
   * `after`: the offset of the last record the work's state saw, which that transaction commits
   * past (the work must not be committed ahead of the records it depends on).
   */
  async punctuate<R>(partition: number, after: bigint, work: () => Promise<R>): Promise<R> {
    if (!this.deps.lanes.isAssigned(partition))
      throw new Error(
        `partition ${partition} is not assigned to this member of ${this.deps.groupId}`,
      );
    const result = await this.outbox.capture(partition, after, work);
    if (this.outbox.size) this.soon();
    return result;
  }

  private soon(): void {
    if (this.lingering || this.deps.halted()) return;
    this.lingering = setTimeout(() => {
      this.lingering = undefined;
      void this.commitHeld().then(() => {
        // Records held behind one still being handled wait for the next round.
        if (this.outbox.size) this.soon();
      });
    }, LINGER_MS);
  }

  /**
   * A partition whose held outputs include a punctuation's may have no new record to commit: its
   * transaction commits the offset past what it has handled again (the same offset, fenced), or,
   * where it has handled nothing since its assignment, its quiet position (`idleAt`).
   */
  withPunctuations(
    offsets: Map<number, bigint>,
    idleAt: (partition: number) => bigint | undefined,
  ): void {
    for (const p of this.outbox.partitions()) {
      if (offsets.has(p)) continue;
      const next = this.deps.lanes.handledNext(p) ?? idleAt(p);
      if (next !== undefined && this.outbox.holdsBefore(p, next)) offsets.set(p, next);
    }
  }

  /**
   * Commits the offsets of the partitions whose records published in one transaction with what
   * they published; `plain`, the others, for a plain offset commit (one request instead of a
   * transaction's five or more). On failure what was taken is held again for the next
   * transaction, except for partitions this member lost.
   */
  async commit(
    client: KafkaConsumer,
    topic: string,
    offsets: Map<number, bigint>,
  ): Promise<{
    inTransaction: Map<number, bigint>;
    plain: Map<number, bigint>;
    afterCommit: AfterCommit[];
  }> {
    const taken = this.outbox.take(offsets);
    const inTransaction = new Map([...offsets].filter(([p]) => taken.held.has(p)));
    const plain = new Map([...offsets].filter(([p]) => !taken.held.has(p)));
    try {
      // (It gives up after its timeout, and stops what it began.)
      await this.transactions.commit(client, topic, inTransaction, taken.records);
    } catch (err) {
      this.outbox.giveBack(taken);
      this.outbox.forget((p) => this.deps.lanes.isAssigned(p));
      throw err;
    }
    return { inTransaction, plain, afterCommit: taken.afterCommit };
  }

  /** The handlers' steps that waited for their records' transaction (outbox.ts `afterTransaction`). */
  async runAfterCommit(steps: readonly AfterCommit[]): Promise<void> {
    for (const step of steps)
      await step().catch((err: unknown) =>
        this.deps.logger.warn('a step after the transaction failed', {
          groupId: this.deps.groupId,
          error: errorText(err),
        }),
      );
  }

  /** No more lingering commits. */
  stop(): void {
    clearTimeout(this.lingering);
  }

  /** The transactional producer goes (after the last commit). */
  async close(): Promise<void> {
    await this.transactions.close().catch(() => undefined);
  }
}
