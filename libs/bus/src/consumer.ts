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
 * Its options are consumer-options.ts; how its parts hang together, consumer-wiring.ts.
 */
import {
  Consumer as KafkaConsumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import type { DescMessage } from '@support/contracts';
import type { ConsumeOptions, ConsumerDeps, ConsumerStatus } from './consumer-options.js';
import { wireConsumer, type LaneItem } from './consumer-wiring.js';
import type { PartitionLanes } from './lanes.js';
import { errorText, type RawRecord, type RecordHandler } from './record-handler.js';
import { withTimeout } from './timeout.js';
import type { OffsetCommits } from './offset-commits.js';
import { ReadCommittedConsumer } from './read-committed.js';

export { InvalidRecordError, type Incoming, type RawRecord } from './record-handler.js';
export type { ConsumeOptions, ConsumerDeps, ConsumerStatus } from './consumer-options.js';

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
    const parts = wireConsumer(this.groupId, deps, options, {
      client: () => this.client,
      stream: () => this.stream,
      halted: () => this.halted(),
    });
    this.records = parts.records;
    this.lanes = parts.lanes;
    this.commits = parts.commits;
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

  /** Exactly-once: see HeldOutputs.punctuate (held-outputs.ts). */
  async punctuate<R>(partition: number, after: bigint, work: () => Promise<R>): Promise<R> {
    const held = this.commits.held;
    if (!held) throw new Error(`${this.groupId} is not exactly-once: nothing to punctuate`);
    return held.punctuate(partition, after, work);
  }

  /** See ConsumerHandle.idleAt (bus.ts). */
  idleAt(partition: number): bigint | undefined {
    return this.halted() ? undefined : this.commits.idleAt(partition);
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
