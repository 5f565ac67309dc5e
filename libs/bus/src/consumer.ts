/**
 * One consumer group on one topic: decodes, validates and hands each record to
 * the service's handler, and keeps any record from stopping the consumer. Bad
 * records are dead-lettered at once; a failing handler is retried (with
 * heartbeats) within the retry policy, then its record is dead-lettered; a
 * record the consumer crashed on is dead-lettered when the group comes back.
 * Each dead-lettering is committed at once, so it happens once per group.
 */
import type { Consumer, EachMessagePayload, Kafka, KafkaMessage } from 'kafkajs';
import { fromBinary, type DescMessage, type MessageShape } from '@support/contracts';
import { Histogram } from 'prom-client';
import type { CrashMarks } from './crash-marks.js';
import type { DeadLetterWriter } from './dead-letter.js';
import { decodeHeaders, type RecordMeta } from './headers.js';
import type { BusLogger } from './logger.js';
import { nextRetry, type RetryPolicy } from './retry.js';
import type { TopicSpec } from './topics.js';

/** A decoded record handed to a consumer's handler. */
export interface Incoming<Desc extends DescMessage> {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: MessageShape<Desc>;
  meta: RecordMeta;
  raw: KafkaMessage;
}

/** Thrown by a handler for a record that is well-formed protobuf but not acceptable: it is dead-lettered. */
export class InvalidRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRecordError';
  }
}

export interface ConsumeOptions<Desc extends DescMessage> {
  /** Consumer group, without the service prefix. */
  group: string;
  topic: TopicSpec<Desc>;
  fromBeginning?: boolean;
  partitionsConcurrently?: number;
  /** Returns a reason when the decoded value is not acceptable (the record is dead-lettered). */
  validate?: (value: MessageShape<Desc>) => string | undefined;
  /**
   * Handles a record. Throwing InvalidRecordError dead-letters it at once; any
   * other error is retried within the retry policy, then the record is
   * dead-lettered with "handler failed N times: <error>".
   */
  handle: (record: Incoming<Desc>) => Promise<void>;
  /**
   * For compacted topics: a record with no value (a tombstone) deletes its key.
   * Without this handler a tombstone is an undecodable record and is dead-lettered.
   */
  onTombstone?: (key: string, meta: { partition: number; offset: string }) => Promise<void>;
  /** Called whenever the group (re)assigns partitions: drop any cache of what other members may have changed. */
  onAssignment?: () => void;
  /** Overrides the bus's retry policy for this consumer's handler. */
  retry?: Partial<RetryPolicy>;
  /**
   * Commit the group's offsets (default true). False for a group that always reads from the
   * beginning (a replica following a compacted topic): nothing to resume, and the broker removes
   * an empty group without offsets at its next clean-up (offsets.retention.check.interval.ms, 10
   * minutes by default), where one with offsets stays for offsets.retention.minutes (7 days).
   */
  commitOffsets?: boolean;
}

export type ConsumerStatus = 'starting' | 'running' | 'stopped' | 'crashed';

const recordAge = new Histogram({
  name: 'bus_record_age_seconds',
  help: 'Time from a record being produced to its handler starting, by topic and consumer group',
  labelNames: ['topic', 'group'],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});
const handleTime = new Histogram({
  name: 'bus_handle_seconds',
  help: 'Time a handler took for one record, by topic and consumer group',
  labelNames: ['topic', 'group'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
});

export interface ConsumerDeps {
  kafka: Kafka;
  service: string;
  logger: BusLogger;
  sessionTimeoutMs: number;
  retry: RetryPolicy;
  deadLetters: DeadLetterWriter;
  marks: CrashMarks;
  stats: { handled: number; deadLettered: number };
  stopping: () => boolean;
  /** kafkajs gave up on this consumer (a crash it will not restart from). */
  crashedForGood: (consumer: GroupConsumer, error: Error) => void;
}

/** A record of a partition that has failed at least once and is not done with. */
interface Failing {
  offset: string;
  attempts: number;
  firstFailedAt: number;
  error: string;
  /** Set once it is to be dead-lettered, with the reason. */
  verdict?: string;
}

/** Not the record's fault: a rebalance, or the consumer stopping. The record comes again. */
class Interrupted extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : 'consumer stopping');
  }
}

const errorText = (err: unknown): string =>
  err instanceof Error
    ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`
    : String(err);

export class GroupConsumer<Desc extends DescMessage = DescMessage> {
  readonly groupId: string;
  status: ConsumerStatus = 'starting';
  consumer?: Consumer;
  /** Settles once the group join has ended (joined, failed, or stopped). */
  private joined: Promise<void> = Promise.resolve();
  private readonly retry: RetryPolicy;
  /** By "<topic>|<partition>": the record being retried, or whose dead-lettering failed. */
  private readonly failing = new Map<string, Failing>();

  constructor(
    private readonly deps: ConsumerDeps,
    private readonly options: ConsumeOptions<Desc>,
  ) {
    this.groupId = `${deps.service}.${options.group}`;
    this.retry = { ...deps.retry, ...options.retry };
  }

  async start(): Promise<Consumer> {
    const { sessionTimeoutMs } = this.deps;
    const consumer = this.deps.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeoutMs / 4)),
      rebalanceTimeout: 60_000,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.status = 'running';
      // Another member may have crashed on a partition this one now owns. Records wait for
      // this read (kafkajs emits the event before it fetches).
      void this.deps.marks.refresh();
      this.options.onAssignment?.();
    });
    consumer.on(consumer.events.STOP, () => {
      if (this.status !== 'crashed') this.status = 'stopped';
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.deps.logger.error('consumer crashed', {
        groupId: this.groupId,
        error: error.message,
        restart,
      });
      if (!restart && !this.deps.stopping()) this.deps.crashedForGood(this, error);
    });
    await consumer.connect();
    await consumer.subscribe({
      topic: this.options.topic.name,
      fromBeginning: this.options.fromBeginning ?? true,
    });
    // The group join goes on in the background: it takes seconds, and after a crash up to the
    // dead member's session timeout. Meanwhile the service serves HTTP (ingest accepts
    // messages), and /health answers 503 with this consumer 'starting' until it has joined.
    const running = consumer.run({
      // Offsets are committed at most once a second (and on shutdown), not after every
      // batch: a crash replays at most that second, which redelivery handling absorbs.
      // A dead-lettering is committed at once.
      autoCommit: this.options.commitOffsets ?? true,
      autoCommitInterval: 1000,
      partitionsConsumedConcurrently:
        this.options.partitionsConcurrently ??
        Number(process.env.KAFKA_PARTITIONS_CONCURRENTLY ?? 6),
      eachMessage: (payload) => this.onMessage(payload),
    });
    this.joined = running.then(
      // Stopped while it was joining: kafkajs would go on to fetch, so it is stopped again.
      async () => {
        if (this.deps.stopping()) await consumer.disconnect();
      },
      (error: Error) => {
        if (this.deps.stopping()) return;
        this.deps.logger.error('consumer could not join its group', {
          groupId: this.groupId,
          error: error.message,
        });
        this.deps.crashedForGood(this, error);
      },
    );
    return consumer;
  }

  /** Stops consuming; waits for a join under way to end, so that nothing runs after. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.joined;
  }

  /** The crash marks this consumer leaves if its process goes down now: the records it is failing on. */
  crashMarks(crash: Error) {
    return [...this.failing.entries()].map(([tp, f]) => {
      const [topic, partition] = splitTp(tp);
      return {
        consumerGroup: this.groupId,
        topic,
        partition,
        offset: f.offset,
        attempts: f.attempts,
        error: f.verdict ?? (f.error || errorText(crash)),
        crashedAt: new Date().toISOString(),
      };
    });
  }

  private async onMessage(payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    const tp = `${topic}|${partition}`;
    try {
      await this.deps.marks.ready;
      if (await this.settleCrashMark(payload)) return;
      await this.handleWithRetries(payload, tp);
    } catch (err) {
      if (err instanceof Interrupted) throw err.original ?? err;
      // The record could not be settled (say, its dead letter could not be written): kafkajs
      // delivers it again; if kafkajs gives up on the consumer, the crash mark names it.
      const f = this.failing.get(tp);
      if (!f || f.offset !== message.offset)
        this.failing.set(tp, {
          offset: message.offset,
          attempts: 0,
          firstFailedAt: Date.now(),
          error: errorText(err),
        });
      throw err;
    }
  }

  /** A record this group crashed on earlier is dead-lettered, not handled again. */
  private async settleCrashMark(payload: EachMessagePayload): Promise<boolean> {
    const { topic, partition, message } = payload;
    const mark = this.deps.marks.get(this.groupId, topic, partition);
    if (!mark) return false;
    if (mark.offset !== message.offset) {
      // The group went past it (or a mark of an offset it has not reached: kept).
      if (BigInt(mark.offset) < BigInt(message.offset))
        await this.deps.marks.clear(this.groupId, topic, partition);
      return false;
    }
    const attempts = mark.attempts === 1 ? '1 failed attempt' : `${mark.attempts} failed attempts`;
    await this.reject(payload, `consumer crashed on this record after ${attempts}: ${mark.error}`);
    await this.deps.marks.clear(this.groupId, topic, partition);
    return true;
  }

  private async handleWithRetries(payload: EachMessagePayload, tp: string): Promise<void> {
    const { message } = payload;
    let f = this.failing.get(tp);
    if (f && f.offset !== message.offset) f = undefined;
    while (!f?.verdict) {
      try {
        const reason = await this.process(payload);
        if (reason === undefined) {
          this.failing.delete(tp);
          return;
        }
        f = { offset: message.offset, attempts: f?.attempts ?? 0, firstFailedAt: 0, error: '' };
        f.verdict = reason;
      } catch (err) {
        const now = Date.now();
        f ??= { offset: message.offset, attempts: 0, firstFailedAt: now, error: '' };
        f.attempts++;
        f.error = errorText(err);
        this.failing.set(tp, f);
        const next = nextRetry(this.retry, f.attempts, f.firstFailedAt, now);
        if (next.giveUp) f.verdict = `handler failed ${f.attempts} times: ${f.error}`;
        else {
          this.deps.logger.warn('handler failed; retrying', {
            groupId: this.groupId,
            topic: payload.topic,
            partition: payload.partition,
            offset: message.offset,
            attempt: f.attempts,
            retryInMs: next.waitMs,
            error: f.error,
          });
          await this.pause(next.waitMs, payload.heartbeat);
        }
      }
    }
    this.failing.set(tp, f);
    await this.reject(payload, f.verdict);
    this.failing.delete(tp);
  }

  /** Waits, heartbeating so the group keeps the partition here; a rebalance or a stop interrupts. */
  private async pause(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const step = Math.max(100, Math.min(1_000, Math.floor(this.deps.sessionTimeoutMs / 10)));
    for (let waited = 0; ;) {
      if (this.deps.stopping() || this.status === 'crashed') throw new Interrupted(undefined);
      try {
        await heartbeat();
      } catch (err) {
        throw new Interrupted(err);
      }
      if (waited >= ms) return;
      const slice = Math.min(step, ms - waited);
      await new Promise((r) => setTimeout(r, slice));
      waited += slice;
    }
  }

  /** Decodes, validates and handles a record: undefined when handled, or why to dead-letter it. Throws when the handler fails. */
  private async process({ topic, partition, message }: EachMessagePayload) {
    const { options } = this;
    const key = message.key?.toString('utf8') ?? '';
    if (!message.value && options.onTombstone) {
      await options.onTombstone(key, { partition, offset: message.offset });
      return undefined;
    }
    let value: MessageShape<Desc>;
    const typeName = options.topic.schema.typeName;
    try {
      if (!message.value) throw new Error('empty value');
      value = fromBinary(options.topic.schema, message.value);
    } catch (err) {
      return `undecodable ${typeName}: ${(err as Error).message}`;
    }
    const invalid = options.validate?.(value);
    if (invalid) return `invalid ${typeName}: ${invalid}`;
    const labels = { topic, group: this.groupId };
    recordAge.observe(labels, Math.max(0, Date.now() - Number(message.timestamp)) / 1000);
    const stopTimer = handleTime.startTimer(labels);
    try {
      await options.handle({
        topic,
        partition,
        offset: message.offset,
        key,
        value,
        meta: decodeHeaders(message.headers),
        raw: message,
      });
    } catch (err) {
      if (err instanceof InvalidRecordError) return err.message;
      throw err;
    }
    stopTimer();
    this.deps.stats.handled++;
    return undefined;
  }

  /** Dead-letters the record, then commits past it at once so the group does not do it again. */
  private async reject(payload: EachMessagePayload, reason: string): Promise<void> {
    const { topic, partition, message } = payload;
    const spec = this.options.topic;
    if (!spec.deadLetter) {
      this.deps.logger.error('dropping bad record of a topic without dead letters', {
        topic,
        partition,
        offset: message.offset,
        reason,
      });
    } else {
      const written = await this.deps.deadLetters.write(spec.deadLetter, {
        consumerGroup: this.groupId,
        topic,
        partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: message.headers,
        reason,
        failedAt: new Date().toISOString(),
        producer: this.deps.service,
      });
      if (written) this.deps.stats.deadLettered++;
      this.deps.logger.warn('record dead-lettered', {
        groupId: this.groupId,
        topic,
        partition,
        offset: message.offset,
        reason,
        deadLetter: spec.deadLetter,
        truncated: written?.truncated,
      });
    }
    if (this.options.commitOffsets === false) return;
    await this.consumer
      ?.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }])
      .catch((err: Error) =>
        this.deps.logger.warn('commit after dead-lettering failed; kafkajs commits it later', {
          groupId: this.groupId,
          topic,
          partition,
          error: err.message,
        }),
      );
  }
}

function splitTp(tp: string): [string, number] {
  const at = tp.lastIndexOf('|');
  return [tp.slice(0, at), Number(tp.slice(at + 1))];
}
