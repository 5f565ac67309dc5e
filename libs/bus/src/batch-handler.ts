/**
 * Consume-side batches: a partition's waiting records handed to the service's `handleBatch` at
 * once (one database transaction, one round of writes for many records). Anything unusual goes
 * through the one-record path of record-handler.ts, which owns retries, dead letters and crash
 * marks: a record with a crash mark, a tombstone, one that does not decode or validate, and every
 * record of a batch whose handler threw (each is then handled alone, so that only the culprit is
 * retried and dead-lettered). So a batch handler must be idempotent per record, as handlers are.
 */
import { fromBinary, type DescMessage, type MessageShape } from '@support/contracts';
import { register, type Histogram } from 'prom-client';
import { inBatchSpan } from '@support/telemetry';
import type { CrashMarks } from './crash-marks.js';
import { decodeHeaders } from './headers.js';
import type { BusLogger } from './logger.js';
import {
  errorText,
  Interrupted,
  type Incoming,
  type RawRecord,
  type RecordHandler,
  type RecordOptions,
} from './record-handler.js';

export interface BatchOptions<Desc extends DescMessage> {
  /**
   * Handles several records of one partition at once, in offset order. Optional: without it every
   * record goes to `handle`. It throws for the batch as a whole (then each record is handled
   * alone by `handle`); InvalidRecordError has no special meaning here.
   */
  handleBatch?: (records: Incoming<Desc>[]) => Promise<void>;
  /** The most records of one partition in a batch (default 200). */
  maxBatch?: number;
}

export interface BatchDeps<Desc extends DescMessage> {
  groupId: string;
  logger: BusLogger;
  marks: CrashMarks;
  records: RecordHandler<Desc>;
  stats: { handled: number };
}

/** A failure after the first `settled` records of a batch were done with (see PartitionLanes). */
export class PartlySettled extends Error {
  constructor(
    override readonly cause: unknown,
    readonly settled: number,
  ) {
    super(errorText(cause));
    this.name = 'PartlySettled';
  }
}

export class BatchSettler<Desc extends DescMessage> {
  constructor(
    private readonly deps: BatchDeps<Desc>,
    private readonly options: RecordOptions<Desc> & BatchOptions<Desc>,
  ) {}

  /** Settles records of one partition in order; throws PartlySettled when it could not settle them all. */
  async settle(raws: RawRecord[]): Promise<void> {
    let done = 0;
    try {
      await this.deps.marks.ready;
      while (done < raws.length) {
        const run = this.decodedRun(raws, done);
        if (run.length >= 2 && (await this.tryBatch(run))) {
          done += run.length;
          continue;
        }
        // One at a time: a lone record, one that needs the careful path, or a failed batch's.
        for (let k = Math.max(1, run.length); k > 0; k--) {
          await this.deps.records.settle(raws[done]);
          done++;
        }
      }
    } catch (err) {
      if (err instanceof Interrupted && done === 0) throw err;
      throw new PartlySettled(err, done);
    }
  }

  /** The decoded records from `from` on, up to the first that needs the one-record path. */
  private decodedRun(raws: RawRecord[], from: number): Incoming<Desc>[] {
    const run: Incoming<Desc>[] = [];
    for (let i = from; i < raws.length; i++) {
      const decoded = this.decode(raws[i]);
      if (!decoded) break;
      run.push(decoded);
    }
    return run;
  }

  private decode(raw: RawRecord): Incoming<Desc> | undefined {
    const { options } = this;
    if (!raw.value || this.deps.marks.get(this.deps.groupId, raw.topic, raw.partition)) return;
    let value: MessageShape<Desc>;
    try {
      value = fromBinary(options.topic.schema, raw.value);
    } catch {
      return undefined;
    }
    if (options.validate?.(value)) return undefined;
    const { topic, partition, offset } = raw;
    const meta = decodeHeaders(raw.headers);
    return { topic, partition, offset, key: raw.key?.toString('utf8') ?? '', value, meta, raw };
  }

  private async tryBatch(run: Incoming<Desc>[]): Promise<boolean> {
    const labels = { topic: run[0].topic, group: this.deps.groupId };
    const now = Date.now();
    for (const r of run)
      recordAge()?.observe(labels, Math.max(0, now - Number(r.raw.timestamp)) / 1000);
    try {
      // One span for the batch, linked to each record's trace (when tracing is on).
      await inBatchSpan(
        run.map((r) => ({ ...r, group: this.deps.groupId, headers: r.raw.headers })),
        () => this.options.handleBatch!(run),
      );
    } catch (err) {
      this.deps.logger.warn('batch handler failed; handling its records one at a time', {
        groupId: this.deps.groupId,
        partition: run[0].partition,
        from: run[0].offset,
        records: run.length,
        error: errorText(err),
      });
      return false;
    }
    // Per record, as the one-record path counts it.
    const seconds = (Date.now() - now) / 1000 / run.length;
    for (const r of run) {
      handleTime()?.observe(labels, seconds);
      this.options.onSettled?.(r.partition, r.offset);
    }
    this.deps.stats.handled += run.length;
    return true;
  }
}

/** The bus's histograms (record-handler.ts registers them). */
const recordAge = () => register.getSingleMetric('bus_record_age_seconds') as Histogram | undefined;
const handleTime = () => register.getSingleMetric('bus_handle_seconds') as Histogram | undefined;
