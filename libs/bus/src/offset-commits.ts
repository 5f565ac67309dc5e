/**
 * A group consumer's commits: which offsets are committed when, plain or in a transaction with
 * what the handled records published (exactly-once), and the hooks a state store hangs on them.
 * Commits run one at a time, in order.
 */
import type { Consumer as KafkaConsumer, MessagesStream } from '@platformatic/kafka';
import type { PartitionLanes } from './lanes.js';
import type { BusLogger } from './logger.js';
import { HeldOutputs } from './held-outputs.js';
import { errorText, type RawRecord } from './record-handler.js';
import { withTimeout } from './timeout.js';
import type { TransactionalCommitter } from './transactions.js';

/** A commit that has not answered by then counts as failed (its offsets are offered again). */
const COMMIT_TIMEOUT_MS = 10_000;

export interface CommitOptions {
  topic: string;
  /** False: nothing is committed (see ConsumeOptions.commitOffsets). */
  commitOffsets: boolean;
  beforeCommit?: () => Promise<void>;
  afterCommit?: (committed: Map<number, bigint>) => Promise<void>;
  /** Exactly-once: the transactions' settings; none for plain offset commits. */
  transactional?: ConstructorParameters<typeof TransactionalCommitter>[0];
}

export interface CommitDeps {
  groupId: string;
  logger: BusLogger;
  lanes: Pick<
    PartitionLanes<never>,
    'takeCommittable' | 'restoreCommittable' | 'isIdle' | 'isAssigned' | 'handledNext'
  >;
  /** The client and its fetch stream, while the consumer has them. */
  client: () => KafkaConsumer | undefined;
  stream: () => MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  halted: () => boolean;
}

export class OffsetCommits {
  /** Exactly-once: what handled records (and punctuations) published, until their transaction. */
  readonly held?: HeldOutputs;
  private committing: Promise<void> = Promise.resolve();
  /** Offsets committed whose afterCommit has not succeeded yet. */
  private readonly uncommitted = new Map<number, bigint>();
  /** The offset last committed per partition since the last join. */
  private readonly committedAt = new Map<number, bigint>();
  /** Whether the stream has read the group's offsets since the last join (its fetch positions are this assignment's). */
  private positionsFresh = false;

  constructor(
    private readonly deps: CommitDeps,
    private readonly options: CommitOptions,
  ) {
    if (options.transactional)
      this.held = new HeldOutputs(
        deps,
        { timeoutMs: COMMIT_TIMEOUT_MS, ...options.transactional },
        () => this.commit({ heldOnly: true }),
      );
  }

  /** The group (re)assigned partitions: fetch positions are stale until the stream reads the offsets. */
  joined(owned: (partition: number) => boolean): void {
    this.positionsFresh = false;
    this.committedAt.clear();
    this.held?.joined(owned);
  }

  /** The stream has read the group's offsets for the current assignment. */
  positionsRead(): void {
    this.positionsFresh = true;
  }

  /**
   * Commits the offsets handled since the last commit (one request for every partition), after
   * the consumer's `beforeCommit`. `heldOnly`: only those of partitions whose records published
   * (in their transaction), the others left for the next full commit (a linger's: records that
   * published nothing need no hurry, and a plain commit beside each transaction was a second
   * request to the broker every few milliseconds).
   */
  commit({ heldOnly = false } = {}): Promise<void> {
    return this.enqueue(async () => {
      const commits = (this.held || this.options.commitOffsets) && !!this.deps.client();
      const offsets = commits ? this.deps.lanes.takeCommittable() : new Map<number, bigint>();
      if (commits) {
        this.pastMarkers(offsets);
        this.held?.withPunctuations(offsets, (p) => this.idleAt(p));
      }
      try {
        await this.options.beforeCommit?.();
        await this.send(offsets, heldOnly);
      } catch (err) {
        this.deps.lanes.restoreCommittable(offsets);
        this.deps.logger.warn('offset commit failed; trying again', {
          groupId: this.deps.groupId,
          error: errorText(err),
        });
      }
      await this.afterCommit();
    });
  }

  /** Commits past a dead-lettered record at once, in turn with the other commits. */
  commitPast(record: RawRecord): Promise<void> {
    return this.enqueue(async () => {
      if ((!this.held && !this.options.commitOffsets) || !this.deps.client()) return;
      const next = new Map([[record.partition, BigInt(record.offset) + 1n]]);
      try {
        await this.options.beforeCommit?.();
        await this.send(next);
        await this.afterCommit();
      } catch (err) {
        this.deps.logger.warn('commit after dead-lettering failed; committed with the next ones', {
          groupId: this.deps.groupId,
          partition: record.partition,
          error: errorText(err),
        });
      }
    });
  }

  /** No more lingering commits; the transactional producer goes (after the last commit). */
  stop(): void {
    this.held?.stop();
  }

  async close(): Promise<void> {
    await this.held?.close();
  }

  /**
   * A transaction's commit or abort marker takes an offset of the partition but never reaches the
   * handler, so the offset past the last handled record stays short of the partition's end, and
   * the group's lag would never reach 0 on a topic a transactional producer writes. A partition
   * whose fetched records are all handled (nothing waits in the stream or the lane) is committed
   * at the stream's fetch position instead, which has moved past such markers.
   */
  private pastMarkers(offsets: Map<number, bigint>): void {
    const prefix = `${this.options.topic}:`;
    for (const key of this.deps.stream()?.offsetsToFetch.keys() ?? []) {
      if (!key.startsWith(prefix)) continue;
      const partition = Number(key.slice(prefix.length));
      const next = this.idleAt(partition);
      if (next === undefined) continue;
      const known = offsets.get(partition) ?? this.committedAt.get(partition) ?? -1n;
      if (next > known) offsets.set(partition, next);
    }
  }

  /**
   * The offset an assigned partition's next record will have (its fetch position), when nothing
   * of it waits to be handled or is being handled, and the positions are this assignment's;
   * undefined otherwise.
   */
  idleAt(partition: number): bigint | undefined {
    const stream = this.deps.stream();
    if (!stream || !this.positionsFresh || stream.readableLength > 0) return undefined;
    if (!this.deps.lanes.isIdle(partition)) return undefined;
    return stream.offsetsToFetch.get(`${this.options.topic}:${partition}`);
  }

  /** Tells the consumer's afterCommit what was committed, with whatever it failed to take before. */
  private async afterCommit(): Promise<void> {
    if (!this.options.afterCommit || this.uncommitted.size === 0) return;
    const committed = new Map(this.uncommitted);
    try {
      await this.options.afterCommit(committed);
      for (const [p, o] of committed) if (this.uncommitted.get(p) === o) this.uncommitted.delete(p);
    } catch (err) {
      this.deps.logger.warn('after-commit step failed; trying again at the next commit', {
        groupId: this.deps.groupId,
        error: errorText(err),
      });
    }
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.committing = this.committing.then(work);
    return this.committing;
  }

  /**
   * Commits the offsets: those of partitions whose records published, in one transaction with
   * what they published (exactly-once); the others (and every partition of a consumer that is not
   * exactly-once) as a plain offset commit, which costs one request instead of a transaction's
   * five or more.
   */
  private async send(offsets: Map<number, bigint>, heldOnly = false): Promise<void> {
    const client = this.deps.client();
    if (!client) return;
    let plain = offsets;
    if (this.held) {
      const done = await this.held.commit(client, this.options.topic, offsets);
      this.committed(done.inTransaction);
      await this.held.runAfterCommit(done.afterCommit);
      plain = done.plain;
    }
    if (heldOnly) {
      this.deps.lanes.restoreCommittable(plain);
      return;
    }
    // A commit that never answers must not hold the next ones (or the shutdown) forever.
    if (plain.size) await withTimeout(this.plainCommit(client, plain), COMMIT_TIMEOUT_MS);
    this.committed(plain);
  }

  private plainCommit(client: KafkaConsumer, offsets: Map<number, bigint>): Promise<void> {
    return client.commit({
      offsets: [...offsets].map(([partition, offset]) => ({
        topic: this.options.topic,
        partition,
        offset,
        leaderEpoch: -1,
      })),
    });
  }

  private committed(offsets: Map<number, bigint>): void {
    for (const [p, o] of offsets) {
      this.uncommitted.set(p, o);
      this.committedAt.set(p, o);
    }
  }
}
