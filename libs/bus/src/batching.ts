import type { IHeaders } from 'kafkajs';

export interface OutgoingRecord {
  topic: string;
  key: string | Buffer | null;
  value: Buffer;
  headers?: IHeaders;
}

/**
 * Coalesces concurrent publishes into one produce request. The idempotent
 * producer allows one request in flight, so without this every concurrent
 * caller queues behind the others one round trip at a time; with it, what
 * arrives while a request is in flight goes out together in the next one (as
 * the Java client's batching does). A caller's promise settles with the request
 * that carried its records; the order of one caller's records is kept.
 */
export class BatchingSender {
  private readonly queue: {
    records: OutgoingRecord[];
    resolve: () => void;
    reject: (err: Error) => void;
  }[] = [];
  private inFlight = false;

  constructor(
    private readonly send: (records: OutgoingRecord[]) => Promise<void>,
    private readonly maxRecords = 1000,
  ) {}

  submit(records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    let count = 0;
    let take = 0;
    while (
      take < this.queue.length &&
      (take === 0 || count + this.queue[take].records.length <= this.maxRecords)
    ) {
      count += this.queue[take].records.length;
      take++;
    }
    const batch = this.queue.splice(0, take);
    try {
      await this.send(batch.flatMap((b) => b.records));
      for (const b of batch) b.resolve();
    } catch (err) {
      for (const b of batch) b.reject(err as Error);
    } finally {
      this.inFlight = false;
      void this.flush();
    }
  }
}
