/**
 * Kafka transactions for an exactly-once consumer: what the handled records published (held in
 * the outbox) and the offsets past them go to Kafka in one transaction, the consume-process-
 * produce loop of exactly-once semantics v2 (KIP-447). Consumers read committed records only
 * (the client's default isolation), so a record of a transaction that was aborted, or left open
 * by a process that died, is never seen; and offsets that were not committed are handled again,
 * their outputs published again in the next transaction.
 *
 * A zombie (a member that lost its partitions and does not know it yet) cannot commit: the
 * offsets carry the group's generation and member id, which the coordinator checks. A replica
 * restarted with the same instance id takes the same transactional id, and its first
 * transaction fences off whatever its previous life left open.
 */
import { randomUUID } from 'node:crypto';
import { Producer, txnOffsetCommitV4, type Consumer } from '@platformatic/kafka';
import { endPublishSpan } from '@support/telemetry';
import {
  defaultBatchLimits,
  planRequest,
  type BatchLimits,
  type OutgoingRecord,
} from './batching.js';
import { producerSettings, toMessages, type ProducerOptions } from './producer.js';
import { withTimeout } from './timeout.js';

export interface TransactionOptions extends ProducerOptions {
  /** The consumer group whose offsets the transactions commit. */
  groupId: string;
  /** The replica's stable id (static membership), else a random one per process. */
  instanceId?: string;
  limitOf: (topic: string) => number;
  /** How long a transaction may take before it is given up on (default 10 s). */
  timeoutMs?: number;
}

export class TransactionalCommitter {
  private producer?: Producer;
  readonly transactionalId: string;
  private readonly limits: BatchLimits;

  constructor(private readonly options: TransactionOptions) {
    this.transactionalId = `${options.groupId}:${options.instanceId ?? randomUUID()}`;
    this.limits = { ...defaultBatchLimits, limitOf: options.limitOf };
  }

  /**
   * Publishes `records` and commits `offsets` (the next offset to read, per partition of
   * `topic`) for the consumer's group, atomically. Throws when the transaction did not commit:
   * then nothing of it is visible to read-committed consumers, and the caller offers the same
   * records and offsets again (or drops those of partitions it lost).
   */
  async commit(
    consumer: Consumer,
    topic: string,
    offsets: Map<number, bigint>,
    records: OutgoingRecord[],
  ): Promise<void> {
    if (offsets.size === 0 && records.length === 0) return;
    const producer = this.current();
    try {
      // (What a transaction given up on does later is of no interest: its producer is closed.)
      await withTimeout(
        this.run(producer, consumer, topic, offsets, records),
        this.options.timeoutMs ?? 10_000,
      );
      for (const r of records) endPublishSpan(r.headers, r);
    } catch (err) {
      for (const r of records) endPublishSpan(r.headers, r, err);
      // Whatever state the producer is in (fenced, a request that timed out, an epoch to bump),
      // the next transaction starts on a new one: initialising the same transactional id
      // aborts what this one left open. A transaction that timed out is stopped at once, its
      // producer closed: left running, it could still commit long after its records were
      // offered to the next transaction, which would find it still active and fail too.
      this.reset(producer);
      throw err;
    }
  }

  private async run(
    producer: Producer,
    consumer: Consumer,
    topic: string,
    offsets: Map<number, bigint>,
    records: OutgoingRecord[],
  ): Promise<void> {
    // (Fails with CONCURRENT_TRANSACTIONS while the broker still aborts what a killed
    // predecessor with this transactional id left open: the next commit tries again.)
    const transaction = await producer.beginTransaction();
    for (const request of requests(records, this.limits))
      await transaction.send({ messages: toMessages(request) });
    if (offsets.size) {
      await transaction.addConsumer(consumer);
      await commitOffsets(producer, consumer, topic, offsets);
    }
    await transaction.commit();
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close();
  }

  private reset(producer: Producer): void {
    if (this.producer !== producer) return;
    this.producer = undefined;
    void producer.close(true).catch(() => undefined);
  }

  private current(): Producer {
    this.producer ??= new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...producerSettings(this.options),
      // A transaction begun while the broker still writes the last one's markers (a few ms) is
      // refused (CONCURRENT_TRANSACTIONS) and retried: after 1 ms first, doubling, not the bus's
      // 1 s, which would hold every customer-visible record a second. A first retry after 20 ms
      // made each transaction of a consumer taking them one after another wait that long: 27 ms
      // at p50 on an idle broker, 5-7 ms after 1 ms (bench/transactions.mjs). Doubling to 1 s
      // rides out a leader's move (20 tries, ~11 s).
      retries: 20,
      retryDelay: (_client: unknown, _operation: string, attempt: number) =>
        Math.min(1_000, 2 ** (attempt - 1)),
      transactionalId: this.transactionalId,
      // "No producer id yet" is -1 in InitProducerId; the client sends 0 when not told, which
      // the coordinator refuses (INVALID_PRODUCER_EPOCH) once the transactional id has state:
      // a restarted replica could never begin a transaction.
      producerId: -1n,
      producerEpoch: -1,
    });
    return this.producer;
  }
}

/**
 * Adds the offsets (the next to read, per partition) to the producer's open transaction, in one
 * TxnOffsetCommit request to the group's coordinator. The client's `addOffset` sends one request
 * per partition, one after another (run side by side, it would merge them and keep only one
 * partition's offset): a round trip each while the transaction holds back every read-committed
 * reader of its partitions.
 */
async function commitOffsets(
  producer: Producer<Buffer, Buffer, Buffer, Buffer>,
  consumer: Consumer,
  topic: string,
  offsets: Map<number, bigint>,
): Promise<void> {
  const metadata = await producer.metadata({ topics: [topic] });
  const coordinator = metadata.brokers.get(consumer.coordinatorId!);
  if (!coordinator) throw new Error(`group coordinator ${consumer.coordinatorId} not in metadata`);
  const partitions = metadata.topics.get(topic)!.partitions;
  const connection = await producer.connections.get(coordinator);
  await txnOffsetCommitV4.api.async(
    connection,
    producer.transaction!.id,
    consumer.groupId,
    producer.producerId!,
    producer.producerEpoch!,
    consumer.generationId,
    consumer.memberId!,
    null,
    [
      {
        name: topic,
        partitions: [...offsets].map(([partition, next]) => ({
          partitionIndex: partition,
          committedOffset: next,
          committedLeaderEpoch: partitions[partition]?.leaderEpoch ?? -1,
          committedMetadata: null,
        })),
      },
    ],
  );
}

/** The records in produce requests that each fit their topics' limits. */
function requests(records: OutgoingRecord[], limits: BatchLimits): OutgoingRecord[][] {
  const entry = { records, next: 0 };
  const out: OutgoingRecord[][] = [];
  while (entry.next < records.length) {
    const [slice] = planRequest([entry], limits);
    out.push(records.slice(slice.from, slice.to));
    entry.next = slice.to;
  }
  return out;
}
