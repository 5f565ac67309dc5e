/**
 * What a consumer group does with one record, whatever client fetched it: dead-letters a record
 * it crashed on earlier, decodes and validates, runs the service's handler with retries within
 * the retry policy, and dead-letters what cannot be handled (then commits past it at once).
 */
import type { IHeaders } from 'kafkajs';
import { fromBinary, type DescMessage, type MessageShape } from '@support/contracts';
import { Histogram } from 'prom-client';
import { inConsumeSpan } from '@support/telemetry';
import type { CrashMarks } from './crash-marks.js';
import type { DeadLetterWriter } from './dead-letter.js';
import { decodeHeaders, type RecordMeta } from './headers.js';
import type { BusLogger } from './logger.js';
import { nextRetry, type RetryPolicy } from './retry.js';
import type { TopicSpec } from './topics.js';

/** A record as fetched, before decoding. */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** Milliseconds since the epoch, as a string. */
  timestamp: string;
}

/** A decoded record handed to a consumer's handler. */
export interface Incoming<Desc extends DescMessage> {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: MessageShape<Desc>;
  meta: RecordMeta;
  raw: RawRecord;
  /**
   * True when other records of the same partition (of other keys) may be handled at the same time
   * (ConsumeOptions.parallelKeys). A handler that needs the partition to itself (say, to restore
   * its state from the topic) throws then: the record is handled again alone, in order.
   */
  concurrent?: boolean;
}

/** Thrown by a handler for a record that is well-formed protobuf but not acceptable: it is dead-lettered. */
export class InvalidRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRecordError';
  }
}

/** How a consumer group treats its records (see Bus.consume). */
export interface RecordOptions<Desc extends DescMessage> {
  topic: TopicSpec<Desc>;
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
  /** Called once a record is done with: handled, a tombstone applied, or dead-lettered (with parallelKeys, as records finish, not in offset order). */
  onSettled?: (partition: number, offset: string) => void;
}

/** What handling records needs of the process: the same for each of its consumers. */
export interface HandlingDeps {
  service: string;
  logger: BusLogger;
  /** A handler running longer than this is logged as a warning (once per attempt). */
  slowHandlerMs: number;
  retry: RetryPolicy;
  deadLetters: DeadLetterWriter;
  marks: CrashMarks;
  stats: { handled: number; deadLettered: number };
}

export interface RecordHandlerDeps extends HandlingDeps {
  groupId: string;
  /** False once the consumer stops, crashes, or no longer owns the partition: retries end. */
  owns: (partition: number) => boolean;
  /** Commits past a dead-lettered record at once (nothing for a group that does not commit). */
  commitPast: (record: RawRecord) => Promise<void>;
}

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
export class Interrupted extends Error {
  constructor() {
    super('consumer stopping or partition revoked');
  }
}

export const errorText = (err: unknown): string =>
  err instanceof Error
    ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`
    : String(err);

export class RecordHandler<Desc extends DescMessage> {
  /** By "<topic>|<partition>": the record being retried, or whose dead-lettering failed. */
  private readonly failing = new Map<string, Failing>();

  constructor(
    private readonly deps: RecordHandlerDeps,
    private readonly options: RecordOptions<Desc>,
  ) {}

  /** Settles one record: handled, or dead-lettered. Throws when it could not be settled (it comes again). */
  async settle(record: RawRecord): Promise<void> {
    const tp = `${record.topic}|${record.partition}`;
    try {
      await this.deps.marks.ready;
      if (!(await this.settleCrashMark(record))) await this.handleWithRetries(record, tp);
      this.options.onSettled?.(record.partition, record.offset);
    } catch (err) {
      if (err instanceof Interrupted) throw err;
      // The record could not be settled (say, its dead letter could not be written): it is
      // tried again; if the process goes down meanwhile, the crash mark names it.
      const f = this.failing.get(tp);
      if (!f || f.offset !== record.offset)
        this.failing.set(tp, {
          offset: record.offset,
          attempts: 0,
          firstFailedAt: Date.now(),
          error: errorText(err),
        });
      throw err;
    }
  }

  /**
   * Handles a record once, with no retry and no dead letter, alongside other records of its
   * partition (Incoming.concurrent): true when it was handled. False when it needs the careful
   * path (`settle`): its partition has a crash mark or a record being retried, it does not decode
   * or validate, or the handler threw. onSettled is left to the caller, which knows the order.
   */
  async tryConcurrently(record: RawRecord): Promise<boolean> {
    const tp = `${record.topic}|${record.partition}`;
    if (
      this.failing.has(tp) ||
      this.deps.marks.get(this.deps.groupId, record.topic, record.partition)
    )
      return false;
    if (!this.deps.owns(record.partition)) return false;
    try {
      return (await this.process(record, true)) === undefined;
    } catch {
      return false;
    }
  }

  settled(record: RawRecord): void {
    this.options.onSettled?.(record.partition, record.offset);
  }

  /** Forgets the failures of partitions this member no longer owns: their new owner has them. */
  forget(owned: (partition: number) => boolean): void {
    for (const tp of this.failing.keys()) if (!owned(splitTp(tp)[1])) this.failing.delete(tp);
  }

  /** The crash marks this consumer leaves if its process goes down now: the records it is failing on. */
  crashMarks(crash: Error) {
    return [...this.failing.entries()].map(([tp, f]) => {
      const [topic, partition] = splitTp(tp);
      return {
        consumerGroup: this.deps.groupId,
        topic,
        partition,
        offset: f.offset,
        attempts: f.attempts,
        error: f.verdict ?? (f.error || errorText(crash)),
        crashedAt: new Date().toISOString(),
      };
    });
  }

  /** A record this group crashed on earlier is dead-lettered, not handled again. */
  private async settleCrashMark(record: RawRecord): Promise<boolean> {
    const { groupId, marks } = this.deps;
    const mark = marks.get(groupId, record.topic, record.partition);
    if (!mark) return false;
    if (mark.offset !== record.offset) {
      // The group went past it (or a mark of an offset it has not reached: kept).
      if (BigInt(mark.offset) < BigInt(record.offset))
        await marks.clear(groupId, record.topic, record.partition);
      return false;
    }
    const attempts = mark.attempts === 1 ? '1 failed attempt' : `${mark.attempts} failed attempts`;
    await this.reject(record, `consumer crashed on this record after ${attempts}: ${mark.error}`);
    await marks.clear(groupId, record.topic, record.partition);
    return true;
  }

  private async handleWithRetries(record: RawRecord, tp: string): Promise<void> {
    let f = this.failing.get(tp);
    if (f && f.offset !== record.offset) f = undefined;
    while (!f?.verdict) {
      try {
        const reason = await this.process(record);
        if (reason === undefined) {
          this.failing.delete(tp);
          return;
        }
        f = { offset: record.offset, attempts: f?.attempts ?? 0, firstFailedAt: 0, error: '' };
        f.verdict = reason;
      } catch (err) {
        const now = Date.now();
        f ??= { offset: record.offset, attempts: 0, firstFailedAt: now, error: '' };
        f.attempts++;
        f.error = errorText(err);
        this.failing.set(tp, f);
        const next = nextRetry(this.deps.retry, f.attempts, f.firstFailedAt, now);
        if (next.giveUp) f.verdict = `handler failed ${f.attempts} times: ${f.error}`;
        else {
          this.deps.logger.warn('handler failed; retrying', {
            groupId: this.deps.groupId,
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            attempt: f.attempts,
            retryInMs: next.waitMs,
            error: f.error,
          });
          await this.pause(next.waitMs, record.partition);
        }
      }
    }
    this.failing.set(tp, f);
    await this.reject(record, f.verdict);
    this.failing.delete(tp);
  }

  /** Waits before a retry; the consumer stopping or losing the partition interrupts. */
  private async pause(ms: number, partition: number): Promise<void> {
    for (let waited = 0; ;) {
      if (!this.deps.owns(partition)) throw new Interrupted();
      if (waited >= ms) return;
      const slice = Math.min(250, ms - waited);
      await new Promise((r) => setTimeout(r, slice));
      waited += slice;
    }
  }

  /** Decodes, validates and handles a record: undefined when handled, or why to dead-letter it. Throws when the handler fails. */
  private async process(record: RawRecord, concurrent = false) {
    const { options } = this;
    const key = record.key?.toString('utf8') ?? '';
    if (!record.value && options.onTombstone) {
      if (concurrent) throw new Error('a tombstone is applied alone');
      await options.onTombstone(key, { partition: record.partition, offset: record.offset });
      return undefined;
    }
    let value: MessageShape<Desc>;
    const typeName = options.topic.schema.typeName;
    try {
      if (!record.value) throw new Error('empty value');
      value = fromBinary(options.topic.schema, record.value);
    } catch (err) {
      return `undecodable ${typeName}: ${(err as Error).message}`;
    }
    const invalid = options.validate?.(value);
    if (invalid) return `invalid ${typeName}: ${invalid}`;
    const labels = { topic: record.topic, group: this.deps.groupId };
    recordAge.observe(labels, Math.max(0, Date.now() - Number(record.timestamp)) / 1000);
    const stopTimer = handleTime.startTimer(labels);
    const meta = decodeHeaders(record.headers);
    const watchdog = this.watch(record, meta.eventType);
    try {
      // The handler runs in the trace the record's headers carry (a span of its own when tracing is on).
      await inConsumeSpan(
        {
          ...record,
          key,
          group: this.deps.groupId,
          eventId: meta.eventId,
          eventType: meta.eventType,
        },
        () =>
          options.handle({
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            key,
            value,
            meta,
            raw: record,
            ...(concurrent ? { concurrent } : {}),
          }),
      );
    } catch (err) {
      if (err instanceof InvalidRecordError) return err.message;
      throw err;
    } finally {
      clearTimeout(watchdog);
    }
    stopTimer();
    this.deps.stats.handled++;
    return undefined;
  }

  /** Warns once if the handler is still running after slowHandlerMs: it holds its partition. */
  private watch(record: RawRecord, eventType: string | undefined): NodeJS.Timeout {
    const since = Date.now();
    const timer = setTimeout(() => {
      this.deps.logger.warn('handler still running: its partition waits behind it', {
        groupId: this.deps.groupId,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        ...(eventType ? { eventType } : {}),
        ms: Date.now() - since,
      });
    }, this.deps.slowHandlerMs);
    timer.unref();
    return timer;
  }

  /** Dead-letters the record, then commits past it at once so the group does not do it again. */
  private async reject(record: RawRecord, reason: string): Promise<void> {
    const { topic, partition, offset } = record;
    const spec = this.options.topic;
    const { groupId, logger } = this.deps;
    if (!spec.deadLetter) {
      logger.error('dropping bad record of a topic without dead letters', {
        topic,
        partition,
        offset,
        reason,
      });
    } else {
      const written = await this.deps.deadLetters.write(spec.deadLetter, {
        consumerGroup: groupId,
        topic,
        partition,
        offset,
        key: record.key,
        value: record.value,
        headers: record.headers,
        reason,
        failedAt: new Date().toISOString(),
        producer: this.deps.service,
      });
      if (written) this.deps.stats.deadLettered++;
      logger.warn('record dead-lettered', {
        groupId,
        topic,
        partition,
        offset,
        reason,
        deadLetter: spec.deadLetter,
        truncated: written?.truncated,
      });
    }
    await this.deps.commitPast(record);
  }
}

function splitTp(tp: string): [string, number] {
  const at = tp.lastIndexOf('|');
  return [tp.slice(0, at), Number(tp.slice(at + 1))];
}
