/**
 * The bus's one idempotent producer, on @platformatic/kafka: acks=all, and Java's partitioner
 * (murmur2 of the key with the sign bit masked), so that every client, in any language, puts a
 * key on the partition the log already holds it on. The client's own default partitioner does
 * not mask the sign bit and would move some conversations to another partition.
 */
import {
  compatibilityPartitioner,
  ProduceAcks,
  Producer,
  type MessageToProduce,
} from '@platformatic/kafka';
import { endPublishSpan } from '@support/telemetry';
import type { OutgoingRecord } from './batching.js';
import { headerEntries, isTooLarge } from './size.js';

/** Records as the client sends them. */
export function toMessages(records: OutgoingRecord[]): MessageToProduce[] {
  return records.map((r) => ({
    topic: r.topic,
    key: typeof r.key === 'string' ? Buffer.from(r.key) : (r.key ?? undefined),
    // A record without a value is a tombstone (compacted topics).
    value: r.value ?? undefined,
    headers: new Map(
      headerEntries(r.headers).map(([k, v]) => [
        Buffer.from(k),
        Buffer.isBuffer(v) ? v : Buffer.from(v),
      ]),
    ),
  }));
}

/** The client's settings every producer of the bus shares (transactional ones too). */
export function producerSettings(options: ProducerOptions) {
  return {
    clientId: options.service,
    bootstrapBrokers: options.brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
    // A partition leader lost with its broker is replaced once the controller notices (KRaft's
    // broker session, 9 s by default): the producer rides that out instead of failing the caller.
    retries: 12,
    retryDelay: 1_000,
  } as const;
}

export interface ProducerOptions {
  service: string;
  brokers: string[];
}

export class BusProducer {
  private producer?: Producer;

  constructor(private readonly options: ProducerOptions) {}

  /** Sends the records in one produce request per broker; rejects if the broker refuses any. */
  async send(records: OutgoingRecord[]): Promise<void> {
    const producer = this.current();
    try {
      await producer.send({ messages: toMessages(records) });
      for (const r of records) endPublishSpan(r.headers, r);
    } catch (err) {
      for (const r of records) endPublishSpan(r.headers, r, err);
      // Of a request the broker refused in part, the client's sequence numbers may no longer
      // match the broker's: a new producer (a new producer id) starts afresh. What the caller
      // sends again may repeat a record (at least once).
      if (isTooLarge(err) && this.producer === producer) {
        this.producer = undefined;
        void producer.close().catch(() => undefined);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close();
  }

  private current(): Producer {
    this.producer ??= new Producer<Buffer, Buffer, Buffer, Buffer>(producerSettings(this.options));
    return this.producer;
  }
}
