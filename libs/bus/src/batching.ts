import type { IHeaders } from 'kafkajs';
import {
  BATCH_OVERHEAD,
  isTooLarge,
  KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
  recordBytes,
  RecordTooLargeError,
  soloBatchBytes,
} from './size.js';

export interface OutgoingRecord {
  topic: string;
  key: string | Buffer | null;
  /** null: a tombstone (compacted topics). */
  value: Buffer | null;
  headers?: IHeaders;
}

export interface BatchLimits {
  /** Records in one produce request. */
  maxRecords: number;
  /** Bytes of one produce request (the broker's socket.request.max.bytes is 100 MiB). */
  maxRequestBytes: number;
  /** A topic's max.message.bytes: the most one partition's batch may take. */
  limitOf: (topic: string) => number;
}

export const defaultBatchLimits: BatchLimits = {
  maxRecords: 1000,
  maxRequestBytes: 16 * 1024 * 1024,
  limitOf: () => KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
};

/** One caller's records and how far they have been sent. */
export interface QueuedRecords {
  records: readonly OutgoingRecord[];
  /** The first record not sent yet. */
  next: number;
  /** Sent in requests of its own (after a request it shared was refused as too large). */
  solo?: boolean;
}

/** Records `from` (inclusive) to `to` (exclusive) of the queue's entry `entry`. */
export interface Slice {
  entry: number;
  from: number;
  to: number;
}

/**
 * Counts what a request holds. Every record of a topic may land in the same
 * partition (the partitioner is kafkajs's), so a topic's records together stay
 * within its limit: then every partition's batch does.
 */
class RequestBudget {
  count = 0;
  total = 0;
  private readonly perTopic = new Map<string, number>();
  constructor(private readonly limits: BatchLimits) {}

  fits(r: OutgoingRecord): boolean {
    const bytes = recordBytes(r);
    const topicBytes = this.perTopic.get(r.topic) ?? BATCH_OVERHEAD;
    const added = bytes + (this.perTopic.has(r.topic) ? 0 : BATCH_OVERHEAD);
    return (
      this.count + 1 <= this.limits.maxRecords &&
      topicBytes + bytes <= this.limits.limitOf(r.topic) &&
      this.total + added <= this.limits.maxRequestBytes
    );
  }

  add(r: OutgoingRecord): void {
    const bytes = recordBytes(r);
    this.total += bytes + (this.perTopic.has(r.topic) ? 0 : BATCH_OVERHEAD);
    this.perTopic.set(r.topic, (this.perTopic.get(r.topic) ?? BATCH_OVERHEAD) + bytes);
    this.count++;
  }

  /** Whether all these records would fit on top of what the request holds. */
  fitsAll(records: readonly OutgoingRecord[]): boolean {
    const trial = new RequestBudget(this.limits);
    trial.count = this.count;
    trial.total = this.total;
    for (const [t, b] of this.perTopic) trial.perTopic.set(t, b);
    for (const r of records) {
      if (!trial.fits(r)) return false;
      trial.add(r);
    }
    return true;
  }
}

/**
 * Which queued records go in the next produce request, in queue order: whole
 * callers while they fit by count, by each topic's bytes and by the request's
 * bytes. A caller is split over several requests only when its records could
 * never share one; the first record always goes (each was checked to fit alone).
 */
export function planRequest(queue: readonly QueuedRecords[], limits: BatchLimits): Slice[] {
  const budget = new RequestBudget(limits);
  const slices: Slice[] = [];
  for (let i = 0; i < queue.length; i++) {
    const entry = queue[i];
    if (slices.length > 0) {
      if (entry.solo) break;
      const rest = entry.records.slice(entry.next);
      // A caller that fits a request of its own waits for one rather than being split.
      if (!budget.fitsAll(rest) && new RequestBudget(limits).fitsAll(rest)) break;
    }
    let j = entry.next;
    while (j < entry.records.length && (budget.count === 0 || budget.fits(entry.records[j]))) {
      budget.add(entry.records[j]);
      j++;
    }
    if (j > entry.next) slices.push({ entry: i, from: entry.next, to: j });
    if (j < entry.records.length || entry.solo) break;
  }
  return slices;
}

interface Pending extends QueuedRecords {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Coalesces concurrent publishes into one produce request. The idempotent
 * producer allows one request in flight, so without this every concurrent
 * caller queues behind the others one round trip at a time; with it, what
 * arrives while a request is in flight goes out together in the next one (as
 * the Java client's batching does), split by count and bytes so that every
 * request fits its destinations' limits. A caller's promise settles when the
 * requests that carried its records have; the order of one caller's records is
 * kept. A record too large for its topic is refused at once (RecordTooLargeError,
 * nothing of that call sent); if the broker still refuses a shared request as
 * too large, its callers are retried one by one and only the culprit fails.
 */
export class BatchingSender {
  private queue: Pending[] = [];
  private inFlight = false;
  private readonly limits: BatchLimits;

  constructor(
    private readonly send: (records: OutgoingRecord[]) => Promise<void>,
    limits: Partial<BatchLimits> = {},
  ) {
    this.limits = { ...defaultBatchLimits, ...limits };
  }

  /** Why these records could never be sent: the first that is larger than its topic allows. */
  refusal(records: readonly OutgoingRecord[]): RecordTooLargeError | undefined {
    for (const r of records) {
      const bytes = soloBatchBytes(r);
      const limit = Math.min(this.limits.limitOf(r.topic), this.limits.maxRequestBytes);
      if (bytes > limit) return new RecordTooLargeError(r.topic, bytes, limit);
    }
    return undefined;
  }

  submit(records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const refused = this.refusal(records);
    if (refused) return Promise.reject(refused);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, next: 0, resolve, reject });
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    const slices = planRequest(this.queue, this.limits);
    const entries = slices.map((s) => this.queue[s.entry]);
    const finished = new Set<Pending>();
    try {
      await this.send(slices.flatMap((s) => this.queue[s.entry].records.slice(s.from, s.to)));
      slices.forEach((s, i) => {
        entries[i].next = s.to;
        if (s.to === entries[i].records.length) finished.add(entries[i]);
      });
      for (const e of finished) e.resolve();
    } catch (err) {
      if (isTooLarge(err) && entries.length > 1) {
        // Someone's record is larger than its topic allows: find whose, alone.
        for (const e of entries) e.solo = true;
      } else {
        for (const e of entries) {
          finished.add(e);
          e.reject(
            isTooLarge(err) && !(err instanceof RecordTooLargeError)
              ? new RecordTooLargeError(e.records[e.next].topic, undefined, undefined, {
                  cause: err,
                })
              : (err as Error),
          );
        }
      }
    } finally {
      this.queue = this.queue.filter((e) => !finished.has(e));
      this.inFlight = false;
      void this.flush();
    }
  }
}
