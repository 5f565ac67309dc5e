/** What a group consumer is given: its options (Bus.consume's), and what the bus lends it. */
import type { DescMessage } from '@support/contracts';
import type { BatchOptions } from './batch-handler.js';
import type { GroupConsumer } from './consumer.js';
import type { HandlingDeps, RecordOptions } from './record-handler.js';
import type { RetryPolicy } from './retry.js';

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

export interface ConsumerDeps extends HandlingDeps {
  brokers: string[];
  /** Static membership: this replica's id, stable across its restarts (none: a dynamic member). */
  instanceId?: string;
  sessionTimeoutMs: number;
  /** A topic's max.message.bytes (transactions split what they send by it). */
  limitOf: (topic: string) => number;
  stopping: () => boolean;
  /** The consumer cannot go on (it could not join its group, again and again). */
  crashedForGood: (consumer: GroupConsumer, error: Error) => void;
}
