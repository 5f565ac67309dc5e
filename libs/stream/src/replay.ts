// Reading the log again: replays of a topic (to its end, or up to given offsets), folds of the
// conversation log into snapshots, where consumer groups stand, the rebuild of a service's
// snapshots, and the look for an event after a doubtful attempt.
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import {
  fromBinary,
  type ConversationEvent,
  type DescMessage,
  type MessageShape,
} from '@support/contracts';
import {
  failOnFatalCrash,
  fetchTopicEnds,
  headersToStrings,
  Topics,
  type Bus,
  type TopicSpec,
} from '@support/bus';
import type { ConversationState } from '@support/conversation';
import { conversationProjection, type OfConversation, type Projection } from './projection.js';
import type { Snapshot, SnapshotStore } from './snapshots.js';
/**
 * Reads a topic from the beginning up to its end at the time of the call (or
 * per partition up to `upTo`), handing each decodable record to `onRecord` in
 * order per partition, with its key (a record that cannot be decoded, or whose
 * handling throws, is counted as skipped). A tombstone (no value) of a
 * compacted topic goes to `onTombstone` when given, else to `onRecord` as an
 * empty message. Uses a throw-away consumer group and deletes it afterwards.
 */
export async function replayTopic<Desc extends DescMessage>(
  bus: Bus,
  topic: Pick<TopicSpec<Desc>, 'name' | 'schema'>,
  onRecord: (
    value: MessageShape<Desc>,
    partition: number,
    offset: string,
    key: string,
    /** The record's headers, as text. */
    headers: Record<string, string>,
  ) => Promise<void>,
  upTo?: Positions,
  onTombstone?: (key: string) => Promise<void>,
  /** Per partition, where to start (default the partition's first offset). */
  from?: Positions,
  /** Records it refuses (by position and headers) are passed over undecoded, and not counted. */
  wanted?: (partition: number, offset: string, headers: Record<string, string>) => boolean,
): Promise<{ records: number; skipped: number }> {
  const admin = bus.kafka.admin();
  await admin.connect();
  const ends = await fetchTopicEnds(admin, topic.name);
  const remaining = new Map<number, bigint>();
  for (const p of ends) {
    // With `upTo`, a partition it does not name is not read.
    const stop = upTo ? (upTo.get(p.partition) ?? 0n) : BigInt(p.high);
    const high = stop < BigInt(p.high) ? stop : BigInt(p.high);
    const start = from?.get(p.partition) ?? 0n;
    const low = start > BigInt(p.low) ? start : BigInt(p.low);
    if (high > low) remaining.set(p.partition, high);
  }
  let records = 0;
  let skipped = 0;
  if (remaining.size === 0) {
    await admin.disconnect();
    return { records, skipped };
  }
  const groupId = `replay-${bus.service}-${process.pid}-${randomUUID()}`;
  const consumer = bus.kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic: topic.name, fromBeginning: true });
  /** Per partition, the next offset to hand on: a consumer that kafkajs restarts reads again from its start. */
  const handedOn = new Map<number, bigint>();
  await new Promise<void>((resolve, reject) => {
    failOnFatalCrash(consumer, reject);
    afterEachBatch(consumer, topic.name, (partition, next) => {
      const end = remaining.get(partition);
      if (end === undefined || next < end) return;
      remaining.delete(partition);
      if (remaining.size === 0) resolve();
    });
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          const end = remaining.get(batch.partition);
          if (end === undefined) return;
          // Below it: fetched before the seek took, or handed on before a restart.
          const start = handedOn.get(batch.partition) ?? from?.get(batch.partition) ?? 0n;
          for (const message of batch.messages) {
            if (BigInt(message.offset) < start) continue;
            if (BigInt(message.offset) >= end) break;
            handedOn.set(batch.partition, BigInt(message.offset) + 1n);
            const headers = headersToStrings(message.headers);
            if (!wanted || wanted(batch.partition, message.offset, headers))
              try {
                const key = message.key?.toString() ?? '';
                if (!message.value && onTombstone) await onTombstone(key);
                else {
                  const value = fromBinary(topic.schema, message.value ?? new Uint8Array());
                  await onRecord(value, batch.partition, message.offset, key, headers);
                }
                records++;
              } catch {
                skipped++;
              }
            if (BigInt(message.offset) + 1n >= end) {
              remaining.delete(batch.partition);
              if (remaining.size === 0) resolve();
              break;
            }
          }
          await heartbeat();
        },
      })
      .catch(reject);
    // (kafkajs seeks only once the consumer runs; the fetches wait for it.)
    for (const partition of remaining.keys()) {
      const start = from?.get(partition);
      if (start !== undefined) consumer.seek({ topic: topic.name, partition, offset: `${start}` });
    }
  });
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
  return { records, skipped };
}

/**
 * Calls `reached` with the offset after each batch kafkajs fetched of the topic, control records
 * included. A transaction's commit or abort marker takes an offset but is never handed over as a
 * message, so a reader waiting for a message at the partition's last offset would wait forever
 * when a transactional producer (an exactly-once consumer) wrote last.
 */
export function afterEachBatch(
  consumer: Consumer,
  topic: string,
  reached: (partition: number, next: bigint) => void,
): void {
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic) reached(payload.partition, BigInt(payload.lastOffset) + 1n);
  });
}

/** Per partition, an offset: where a replay stops (exclusive), or where a consumer group stands. */
export type Positions = Map<number, bigint>;

/**
 * Where one of this service's consumer groups stands on the conversation log:
 * per partition, the next offset it will read (0 where it has committed
 * nothing, so that it reads the partition from the start itself).
 */
export async function logPositions(bus: Bus, group = 'log'): Promise<Positions> {
  return groupPositions(bus, `${bus.service}.${group}`);
}

/**
 * Where any consumer group (by its full id, e.g. `ai-responder.log`) stands on a
 * topic (default the conversation log).
 */
export async function groupPositions(
  bus: Bus,
  groupId: string,
  topicName = Topics.events.name,
): Promise<Positions> {
  const admin = bus.kafka.admin();
  await admin.connect();
  try {
    const [topic] = await admin.fetchOffsets({ groupId, topics: [topicName] });
    const positions: Positions = new Map();
    for (const p of topic?.partitions ?? []) {
      const offset = BigInt(p.offset);
      positions.set(p.partition, offset < 0n ? 0n : offset);
    }
    return positions;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads the conversation log as it is now (replayTopic on conversation.events),
 * to its end, or per partition up to `upTo` (exclusive).
 */
export async function replayLog(
  bus: Bus,
  onEvent: (
    event: ConversationEvent,
    partition: number,
    offset: string,
    headers: Record<string, string>,
  ) => Promise<void>,
  upTo?: Positions,
  from?: Positions,
  wanted?: Parameters<typeof replayTopic>[6],
): Promise<{ events: number; skipped: number }> {
  const { records, skipped } = await replayTopic(
    bus,
    Topics.events,
    (event, partition, offset, _key, headers) => onEvent(event, partition, offset, headers),
    upTo,
    undefined,
    from,
    wanted,
  );
  return { events: records, skipped };
}

export interface Folded<S extends OfConversation = ConversationState> {
  snapshots: Map<string, Snapshot<S>>;
  events: number;
}

/**
 * Folds the log (to its end, or up to `upTo`) into one snapshot per conversation (state and last
 * offset) of a projection (default the whole conversation).
 */
export async function foldLog<S extends OfConversation = ConversationState>(
  bus: Bus,
  upTo?: Positions,
  projection: Projection<S> = conversationProjection as unknown as Projection<S>,
): Promise<Folded<S>> {
  const { evolve, initial } = projection;
  const snapshots = new Map<string, Snapshot<S>>();
  const { events } = await replayLog(
    bus,
    async (event, partition, offset) => {
      const id = event.conversationId;
      const current = snapshots.get(id)?.state ?? initial(id);
      snapshots.set(id, { state: evolve(current, event), partition, offset });
    },
    upTo,
  );
  return { snapshots, events };
}

/**
 * Folds the log up to where the service's consumer group stands, so that a
 * rebuild hands the live consumer exactly the records it has not handled: it
 * resumes at its committed offsets and reacts to what follows (answers,
 * decisions, assignments). Folding to the log's end instead would mark those
 * records applied, and they would never be reacted to.
 */
export async function foldHandled<S extends OfConversation = ConversationState>(
  bus: Bus,
  group = 'log',
  projection?: Projection<S>,
): Promise<Folded<S>> {
  return foldLog(bus, await logPositions(bus, group), projection);
}

/**
 * Throws away a service's snapshots and recreates them from the log, up to
 * where its consumer group (`group`, default the log consumer) stands (or from
 * a fold the caller already made).
 */
export async function rebuildSnapshots<S extends OfConversation>(
  bus: Bus,
  store: SnapshotStore<S>,
  folded?: Folded<S>,
  group = 'log',
): Promise<{ conversations: number; events: number }> {
  await store.clear();
  const positions = await logPositions(bus, group);
  const { snapshots, events } = folded ?? (await foldLog(bus, positions, store.projection));
  await store.putAll(snapshots.values());
  for (const [partition, upTo] of positions) await store.markPartitionIntact(partition, upTo);
  return { conversations: snapshots.size, events };
}

/**
 * Whether a partition of the conversation log holds, after the given offset,
 * an event with one of the given ids. Reads from that offset to the current
 * end with a throw-away consumer group; used only to settle a doubtful
 * earlier attempt after a crash, so its cost (a group join) is rare.
 */
export async function logContains(
  bus: Bus,
  partition: number,
  afterOffset: string,
  eventIds: string[],
): Promise<boolean> {
  const topic = Topics.events.name;
  const admin = bus.kafka.admin();
  await admin.connect();
  const end = BigInt(
    (await fetchTopicEnds(admin, topic)).find((p) => p.partition === partition)?.high ?? '0',
  );
  const start = BigInt(afterOffset) + 1n;
  if (start >= end) {
    await admin.disconnect();
    return false;
  }
  const wanted = new Set(eventIds);
  const groupId = `check-${bus.service}-${process.pid}-${randomUUID()}`;
  const consumer = bus.kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
  });
  let found = false;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      failOnFatalCrash(consumer, reject);
      consumer.on(consumer.events.GROUP_JOIN, () =>
        consumer.seek({ topic, partition, offset: start.toString() }),
      );
      afterEachBatch(consumer, topic, (p, next) => {
        if (p === partition && next >= end) resolve();
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return;
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              if (offset < start) continue;
              if (offset >= end) return resolve();
              const id = message.headers?.['event-id']?.toString();
              if (id && wanted.has(id)) {
                found = true;
                return resolve();
              }
              if (offset + 1n >= end) return resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return found;
}
