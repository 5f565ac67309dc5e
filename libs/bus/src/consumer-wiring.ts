/**
 * How a group consumer's parts hang together: the record handler (and the batch settler), the
 * partition lanes that feed them, and the commits; exactly-once wraps the handlers so that what
 * they publish is held for the records' transaction.
 */
import type { Consumer as KafkaConsumer, MessagesStream } from '@platformatic/kafka';
import type { DescMessage } from '@support/contracts';
import { BatchSettler } from './batch-handler.js';
import type { ConsumeOptions, ConsumerDeps } from './consumer-options.js';
import { PartitionLanes } from './lanes.js';
import { OffsetCommits } from './offset-commits.js';
import { RecordHandler, type RawRecord } from './record-handler.js';

/** A record waiting in its partition's lane. */
export interface LaneItem {
  partition: number;
  offset: bigint;
  raw: RawRecord;
  /** The record's key as text, once keyed lanes have read it (they look at it again and again). */
  key?: string;
}

/** What the parts ask of the consumer while it runs: its client and fetch stream, and whether it has halted. */
export interface LiveConsumer {
  client: () => KafkaConsumer | undefined;
  stream: () => MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  halted: () => boolean;
}

export interface ConsumerParts<Desc extends DescMessage> {
  records: RecordHandler<Desc>;
  batches?: BatchSettler<Desc>;
  lanes: PartitionLanes<LaneItem>;
  commits: OffsetCommits;
}

export function wireConsumer<Desc extends DescMessage>(
  groupId: string,
  deps: ConsumerDeps,
  options: ConsumeOptions<Desc>,
  live: LiveConsumer,
): ConsumerParts<Desc> {
  // Each part reaches the others through `parts`, once they are all made.
  const parts = {} as ConsumerParts<Desc>;
  parts.records = recordHandler(groupId, deps, options, live, parts);
  parts.batches = batchSettler(groupId, deps, options, parts);
  parts.lanes = partitionLanes(options, live, parts);
  parts.commits = offsetCommits(groupId, deps, options, live, parts.lanes);
  return parts;
}

/** What happens to each record; exactly-once, its handler's publications held for its transaction. */
function recordHandler<Desc extends DescMessage>(
  groupId: string,
  deps: ConsumerDeps,
  options: ConsumeOptions<Desc>,
  live: LiveConsumer,
  parts: ConsumerParts<Desc>,
): RecordHandler<Desc> {
  return new RecordHandler(
    {
      groupId,
      service: deps.service,
      logger: deps.logger,
      slowHandlerMs: deps.slowHandlerMs,
      retry: { ...deps.retry, ...options.retry },
      deadLetters: deps.deadLetters,
      marks: deps.marks,
      stats: deps.stats,
      owns: (p) => !live.halted() && parts.lanes.isAssigned(p),
      commitPast: (r) => parts.commits.commitPast(r),
    },
    options.exactlyOnce
      ? { ...options, handle: (r) => parts.commits.held!.captured(r, () => options.handle(r)) }
      : options,
  );
}

/** With handleBatch: a partition's waiting records handled together, what they published held under the last. */
function batchSettler<Desc extends DescMessage>(
  groupId: string,
  deps: ConsumerDeps,
  options: ConsumeOptions<Desc>,
  parts: ConsumerParts<Desc>,
): BatchSettler<Desc> | undefined {
  const { handleBatch } = options;
  if (!handleBatch) return undefined;
  return new BatchSettler(
    { groupId, logger: deps.logger, marks: deps.marks, records: parts.records, stats: deps.stats },
    options.exactlyOnce
      ? {
          ...options,
          handleBatch: (run) =>
            parts.commits.held!.captured(run[run.length - 1], () => handleBatch(run)),
        }
      : options,
  );
}

/** The partitions' queues: in order within one, side by side across them (or keys, with parallelKeys). */
function partitionLanes<Desc extends DescMessage>(
  options: ConsumeOptions<Desc>,
  live: LiveConsumer,
  parts: ConsumerParts<Desc>,
): PartitionLanes<LaneItem> {
  const { records } = parts;
  return new PartitionLanes<LaneItem>({
    concurrency:
      options.partitionsConcurrently ?? Number(process.env.KAFKA_PARTITIONS_CONCURRENTLY ?? 6),
    maxBuffered: 512,
    maxBatch: options.handleBatch ? (options.maxBatch ?? 200) : 1,
    retryAfterMs: 1_000,
    handle: (items) =>
      parts.batches ? parts.batches.settle(items.map((i) => i.raw)) : records.settle(items[0].raw),
    ...(!options.handleBatch && (options.parallelKeys ?? 1) > 1
      ? {
          keyed: {
            max: options.parallelKeys!,
            keyOf: (item: LaneItem) => (item.key ??= item.raw.key?.toString('utf8') ?? ''),
            tryOne: async (item: LaneItem) => {
              const handled = await records.tryConcurrently(item.raw);
              if (handled) records.settled(item.raw);
              return handled;
            },
          },
        }
      : {}),
    forgetRevoked: !!options.exactlyOnce,
    onFull: () => live.stream()?.pause(),
    onDrained: () => live.stream()?.resume(),
  });
}

/** The offset commits, plain or (exactly-once) in transactions with what the records published. */
function offsetCommits<Desc extends DescMessage>(
  groupId: string,
  deps: ConsumerDeps,
  options: ConsumeOptions<Desc>,
  live: LiveConsumer,
  lanes: PartitionLanes<LaneItem>,
): OffsetCommits {
  const transactional = {
    service: deps.service,
    brokers: deps.brokers,
    groupId,
    instanceId: deps.instanceId,
    limitOf: deps.limitOf,
  };
  return new OffsetCommits(
    {
      groupId,
      logger: deps.logger,
      lanes,
      client: live.client,
      stream: live.stream,
      halted: live.halted,
    },
    {
      topic: options.topic.name,
      commitOffsets: options.commitOffsets !== false,
      beforeCommit: options.beforeCommit,
      afterCommit: options.afterCommit,
      ...(options.exactlyOnce ? { transactional } : {}),
    },
  );
}
