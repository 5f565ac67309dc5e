/**
 * One consumer group on one topic, on @platformatic/kafka. What happens to each record (decoding,
 * validation, retries, dead letters, crash marks) is record-handler.ts; this is the membership,
 * the fetching and the commits:
 * - heartbeats run on their own timer, so a slow handler does not cost the partition;
 * - with an instance id the member is static: a replica restarted after a crash takes its
 *   partitions back at once, instead of after the dead member's session timeout;
 * - a partition's records are handled in order, partitions side by side (lanes.ts);
 * - offsets are committed once a second, on shutdown, and at once after a dead-lettering, plain or
 *   in a transaction (offset-commits.ts).
 */
import {
  Consumer as KafkaConsumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import type { DescMessage } from '@support/contracts';
import { BatchSettler, type BatchOptions } from './batch-handler.js';
import type { CrashMarks } from './crash-marks.js';
import type { DeadLetterWriter } from './dead-letter.js';
import { PartitionLanes } from './lanes.js';
import type { BusLogger } from './logger.js';
import { errorText, RecordHandler, type RawRecord, type RecordOptions } from './record-handler.js';
import type { RetryPolicy } from './retry.js';
import { withTimeout } from './timeout.js';
import { OffsetCommits } from './offset-commits.js';
import { ReadCommittedConsumer } from './read-committed.js';

export { InvalidRecordError, type Incoming, type RawRecord } from './record-handler.js';

export interface ConsumeOptions<Desc extends DescMessage>
  extends RecordOptions<Desc>, BatchOptions<Desc> {
  /** Consumer group, without the service prefix. */
  group: string;
  /** Where a group with no committed offset starts: the topic's beginning (default) or its end. */
  fromBeginning?: boolean;
  /** Partitions handled at the same time (default KAFKA_PARTITIONS_CONCURRENTLY, 6). */
  partitionsConcurrently?: number;
  /**
   * Records of one partition with different keys handled at the same time, up to this many; each
   * key's records in order, and offsets committed only past records all done (keyed-lanes.ts).
   * A record that needs care (a retry, a dead letter, a crash mark) is handled alone.
   * For handlers that keep no order between keys (the conversation log's: one conversation, one
   * key). Ignored with handleBatch.
   */
  parallelKeys?: number;
  /**
   * Called whenever the group (re)assigns partitions, with those this member owns now: drop any
   * cache of what other members may have changed (and, exactly-once, anything of the others).
   */
  onAssignment?: (partitions: number[]) => void;
  /**
   * For a reader in no hurry (a dashboard's read model, a learning loop): the broker holds each
   * fetch up to this long (default 0: answered as soon as a record is there) until 64 KiB have
   * gathered. Every group on the log is otherwise woken by each record and each transaction's
   * marker: at 25 msg/s that is tens of fetches a second per group, each a request the broker
   * answers, for records that then come one at a time. Such a group sees a record up to this much
   * later, in fewer and larger batches.
   */
  fetchWaitMs?: number;
  /** Overrides the bus's retry policy for this consumer's handler. */
  retry?: Partial<RetryPolicy>;
  /**
   * Commit the group's offsets (default true). False for a group that always reads from the
   * beginning (a replica following a compacted topic): nothing to resume, and the broker removes
   * an empty group without offsets at its next clean-up (offsets.retention.check.interval.ms, 10
   * minutes by default), where one with offsets stays for offsets.retention.minutes (7 days).
   */
  commitOffsets?: boolean;
  /**
   * Makes durable what the handled records changed before their offsets are committed (a state
   * store's write-behind: see SnapshotStore in libs/stream). Called about once a second, on a
   * rebalance and on shutdown, also when there is nothing to commit; when it throws, nothing is
   * committed and the same offsets are offered again next time.
   */
  beforeCommit?: () => Promise<void>;
  /**
   * Exactly-once: what the handler publishes (Bus.publish, anywhere in its call tree) is held, and
   * goes to Kafka in one transaction with the offsets past the records that caused it
   * (transactions.ts). The handler must not wait for its records to be readable, nor mark its
   * work done anywhere else: a record whose transaction did not commit is handled again. Commits
   * run within a few milliseconds of a record that published (EXACTLY_ONCE_LINGER_MS, 5), else
   * once a second. With handleBatch, what a batch published is held under its last record: its
   * records are settled together, so their offsets go in the same transaction.
   */
  exactlyOnce?: boolean;
  /**
   * Called after offsets were committed (with them), before the next commit: for a state store
   * that must never be ahead of what was committed (an exactly-once consumer's). When it throws,
   * the next commit calls it again with the offsets of both.
   */
  afterCommit?: (committed: Map<number, bigint>) => Promise<void>;
}

/**
 * starting: joining its group for the first time; running: consuming; rejoining: its fetch
 * stream failed (a broker died) and it joins again, having run before; stopped: closed on
 * shutdown; crashed: stopped for good (the process exits).
 */
export type ConsumerStatus = 'starting' | 'running' | 'rejoining' | 'stopped' | 'crashed';

export interface ConsumerDeps {
  brokers: string[];
  service: string;
  /** Static membership: this replica's id, stable across its restarts (none: a dynamic member). */
  instanceId?: string;
  logger: BusLogger;
  sessionTimeoutMs: number;
  /** A handler running longer is logged as a warning. */
  slowHandlerMs: number;
  retry: RetryPolicy;
  deadLetters: DeadLetterWriter;
  marks: CrashMarks;
  stats: { handled: number; deadLettered: number };
  /** A topic's max.message.bytes (transactions split what they send by it). */
  limitOf: (topic: string) => number;
  stopping: () => boolean;
  /** The consumer cannot go on (it could not join its group, again and again). */
  crashedForGood: (consumer: GroupConsumer, error: Error) => void;
}

const COMMIT_INTERVAL_MS = 1_000;
/** How long stop() lets a join under way finish, so that the member leaves the group cleanly. */
const JOIN_GRACE_MS = 10_000;
/** A close that hangs (a broker gone) is given up on after this. */
const CLOSE_TIMEOUT_MS = 5_000;
/** Join attempts before the consumer gives up (and the process exits to be restarted). */
const JOIN_ATTEMPTS = 10;
/** What a fetch of a consumer with `fetchWaitMs` waits to gather (or until that time). */
const LEISURELY_FETCH_BYTES = 64 * 1024;

/**
 * `fetchWaitMs` for the readers no customer or agent waits on (the metrics read model, the AI
 * responder's learning loop): BACKGROUND_FETCH_WAIT_MS, 250 by default.
 */
export const backgroundFetchWaitMs = Math.max(
  0,
  Number(process.env.BACKGROUND_FETCH_WAIT_MS ?? 250),
);

export class GroupConsumer<Desc extends DescMessage = DescMessage> {
  readonly groupId: string;
  status: ConsumerStatus = 'starting';
  /** Settles once the group join has ended (joined, failed, or stopped). */
  private joined: Promise<void> = Promise.resolve();
  private client?: KafkaConsumer;
  private stream?: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
  private readonly lanes: PartitionLanes<LaneItem>;
  private readonly records: RecordHandler<Desc>;
  private readonly batches?: BatchSettler<Desc>;
  private commitTimer?: NodeJS.Timeout;
  private readonly commits: OffsetCommits;
  private stopped = false;
  /** Resolves when stop() is called: a join under way gives up at once. */
  private readonly stopSignal: Promise<void>;
  private signalStop!: () => void;

  constructor(
    private readonly deps: ConsumerDeps,
    private readonly options: ConsumeOptions<Desc>,
  ) {
    this.groupId = `${deps.service}.${options.group}`;
    this.stopSignal = new Promise((resolve) => (this.signalStop = resolve));
    this.records = new RecordHandler(
      {
        groupId: this.groupId,
        service: deps.service,
        logger: deps.logger,
        slowHandlerMs: deps.slowHandlerMs,
        retry: { ...deps.retry, ...options.retry },
        deadLetters: deps.deadLetters,
        marks: deps.marks,
        stats: deps.stats,
        owns: (p) => !this.halted() && this.lanes.isAssigned(p),
        commitPast: (r) => this.commits.commitPast(r),
      },
      options.exactlyOnce
        ? {
            ...options,
            handle: (r) => this.commits.captured(r, () => options.handle(r)),
          }
        : options,
    );
    const { handleBatch } = options;
    if (handleBatch)
      this.batches = new BatchSettler(
        {
          groupId: this.groupId,
          logger: deps.logger,
          marks: deps.marks,
          records: this.records,
          stats: deps.stats,
        },
        options.exactlyOnce
          ? {
              ...options,
              handleBatch: (run) =>
                this.commits.captured(run[run.length - 1], () => handleBatch(run)),
            }
          : options,
      );
    this.lanes = new PartitionLanes({
      concurrency:
        options.partitionsConcurrently ?? Number(process.env.KAFKA_PARTITIONS_CONCURRENTLY ?? 6),
      maxBuffered: 512,
      maxBatch: options.handleBatch ? (options.maxBatch ?? 200) : 1,
      retryAfterMs: 1_000,
      handle: (items) =>
        this.batches
          ? this.batches.settle(items.map((i) => i.raw))
          : this.records.settle(items[0].raw),
      ...(!options.handleBatch && (options.parallelKeys ?? 1) > 1
        ? {
            keyed: {
              max: options.parallelKeys!,
              keyOf: (item: LaneItem) => (item.key ??= item.raw.key?.toString('utf8') ?? ''),
              tryOne: async (item: LaneItem) => {
                const handled = await this.records.tryConcurrently(item.raw);
                if (handled) this.records.settled(item.raw);
                return handled;
              },
            },
          }
        : {}),
      forgetRevoked: !!options.exactlyOnce,
      onFull: () => this.stream?.pause(),
      onDrained: () => this.stream?.resume(),
    });
    this.commits = new OffsetCommits(
      {
        groupId: this.groupId,
        logger: deps.logger,
        lanes: this.lanes,
        client: () => this.client,
        stream: () => this.stream,
        halted: () => this.halted(),
      },
      {
        topic: options.topic.name,
        commitOffsets: options.commitOffsets !== false,
        beforeCommit: options.beforeCommit,
        afterCommit: options.afterCommit,
        ...(options.exactlyOnce
          ? {
              transactional: {
                service: deps.service,
                brokers: deps.brokers,
                groupId: this.groupId,
                instanceId: deps.instanceId,
                limitOf: deps.limitOf,
              },
            }
          : {}),
      },
    );
  }

  /**
   * Starts joining the group in the background: it takes seconds, and a dynamic member that
   * replaces a crashed one waits for the dead member's session timeout. Meanwhile the service
   * serves HTTP, and /health answers 503 with this consumer 'starting' until it has joined.
   */
  start(): void {
    this.joined = this.join();
  }

  /** Stops consuming after the records being handled, commits what was handled, and leaves. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    // A join under way is let finish (then the member leaves the group, which so does not wait
    // for its session to expire), within JOIN_GRACE_MS.
    await this.joined;
    await this.lanes.close();
    clearInterval(this.commitTimer);
    this.commits.stop();
    await this.commits.commit();
    await this.closeClient();
    await this.commits.close();
    if (this.status !== 'crashed') this.status = 'stopped';
  }

  crashMarks(crash: Error) {
    return this.records.crashMarks(crash);
  }

  private halted(): boolean {
    return this.stopped || this.deps.stopping() || this.status === 'crashed';
  }

  private async join(): Promise<void> {
    for (let attempt = 1; !this.halted(); attempt++) {
      try {
        await this.connect();
        this.commitTimer ??= setInterval(() => void this.commits.commit(), COMMIT_INTERVAL_MS);
        return;
      } catch (err) {
        await this.closeClient();
        if (this.halted()) return;
        const error = err as Error;
        if (attempt >= JOIN_ATTEMPTS) {
          this.deps.logger.error('consumer could not join its group', {
            groupId: this.groupId,
            error: error.message,
          });
          this.deps.crashedForGood(this, error);
          return;
        }
        this.deps.logger.warn('consumer join failed; trying again', {
          groupId: this.groupId,
          attempt,
          error: errorText(error),
        });
        await new Promise((r) => setTimeout(r, Math.min(5_000, 300 * 2 ** (attempt - 1))));
      }
    }
  }

  private async connect(): Promise<void> {
    const { deps, options } = this;
    // (Read-committed, as the client's default, without the aborted records it lets through.)
    const client = new ReadCommittedConsumer({
      clientId: deps.service,
      bootstrapBrokers: deps.brokers,
      groupId: this.groupId,
      ...(deps.instanceId ? { groupInstanceId: deps.instanceId } : {}),
      sessionTimeout: deps.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.min(3_000, Math.floor(deps.sessionTimeoutMs / 4))),
      rebalanceTimeout: Math.max(60_000, deps.sessionTimeoutMs),
      autocommit: false,
      maxWaitTime: options.fetchWaitMs ? Math.min(options.fetchWaitMs, 1_000) : 1_000,
      ...(options.fetchWaitMs ? { minBytes: LEISURELY_FETCH_BYTES } : {}),
      retries: 5,
      retryDelay: 250,
    });
    this.client = client;
    client.on('consumer:group:join', ({ assignments }) => this.onJoin(assignments ?? []));
    // Partitions may move: what was handled is committed first, so their next owner does not redo it.
    client.on('consumer:group:rebalance', () => void this.commits.commit());
    // The client reports a connection it lost (it reconnects by itself, or the stream fails).
    client.on('error', (err: Error) => {
      if (!this.halted())
        this.deps.logger.warn('kafka consumer error', {
          groupId: this.groupId,
          error: errorText(err),
        });
    });
    const consuming = client.consume({
      topics: [options.topic.name],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode:
        (options.fromBeginning ?? true)
          ? MessagesStreamFallbackModes.EARLIEST
          : MessagesStreamFallbackModes.LATEST,
      autocommit: false,
    });
    // A join that does not end (the broker gone) is given up on a while after stop().
    const stream = await Promise.race([
      consuming,
      this.stopSignal
        .then(() => new Promise((r) => setTimeout(r, JOIN_GRACE_MS)))
        .then(() => {
          consuming.then((late) => void late.close().catch(() => undefined)).catch(() => undefined);
          throw new Error('consumer stopped while joining');
        }),
    ]);
    this.stream = stream;
    stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => this.lanes.push(toRecord(m)));
    // After a join the stream reads the group's offsets again; until then its positions may be a
    // former assignment's.
    stream.on('offsets', () => this.commits.positionsRead());
    stream.on('error', (err: Error) => void this.onStreamError(err));
    if (this.halted()) await this.closeClient();
  }

  private onJoin(assignments: { topic: string; partitions: number[] }[]): void {
    const partitions = assignments
      .filter((a) => a.topic === this.options.topic.name)
      .flatMap((a) => a.partitions);
    this.lanes.assign(partitions);
    this.records.forget((p) => this.lanes.isAssigned(p));
    this.commits.joined((p) => this.lanes.isAssigned(p));
    if (this.status === 'starting' || this.status === 'rejoining') this.status = 'running';
    // Another member may have crashed on a partition this one now owns: records wait for this read.
    void this.deps.marks.refresh();
    this.options.onAssignment?.(partitions);
  }

  /** The fetch stream failed for good (the client retries first): a new client joins again. */
  private async onStreamError(err: Error): Promise<void> {
    if (this.halted()) return;
    this.deps.logger.error('consumer stream failed; joining again', {
      groupId: this.groupId,
      error: errorText(err),
    });
    await this.lanes.idle();
    await this.commits.commit();
    await this.closeClient();
    this.lanes.assign([]);
    this.status = 'rejoining';
    this.joined = this.join();
  }

  private async closeClient(): Promise<void> {
    const { client, stream } = this;
    this.client = undefined;
    this.stream = undefined;
    try {
      if (stream) await withTimeout(stream.close(), CLOSE_TIMEOUT_MS);
    } catch {
      // closing anyway
    }
    try {
      if (client) await withTimeout(client.close(true), CLOSE_TIMEOUT_MS);
    } catch (err) {
      this.deps.logger.warn('consumer close failed', {
        groupId: this.groupId,
        error: errorText(err),
      });
    }
  }
}

interface LaneItem {
  partition: number;
  offset: bigint;
  raw: RawRecord;
  /** The record's key as text, once keyed lanes have read it (they look at it again and again). */
  key?: string;
}

function toRecord(m: Message<Buffer, Buffer, Buffer, Buffer>): LaneItem {
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of m.headers) headers[k.toString('utf8')] = v;
  const raw: RawRecord = {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset.toString(),
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
    timestamp: m.timestamp.toString(),
  };
  return { partition: m.partition, offset: m.offset, raw };
}
