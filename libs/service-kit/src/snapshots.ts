import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  ConversationEventSchema,
  fromBinary,
  type ConversationEvent,
  type DescMessage,
  type MessageShape,
} from '@support/contracts';
import { Topics, type Bus, type Incoming, type TopicSpec } from '@support/bus';
import { evolve, initialState, type ConversationState } from '@support/conversation';

/** A service's snapshot of one conversation: the state and the last log offset applied to it. */
export interface Snapshot {
  state: ConversationState;
  partition: number;
  offset: string;
}

/**
 * Snapshots of the conversation log in Redis, one namespace per service. A
 * bounded in-process cache saves the read of a snapshot this process wrote
 * itself; it must be dropped (clearCache) whenever partitions are reassigned,
 * since another replica may have moved a snapshot on meanwhile.
 */
export class SnapshotStore {
  private readonly cache = new Map<string, Snapshot>();

  constructor(
    private readonly redis: Redis,
    readonly namespace: string,
    private readonly cacheSize = 10_000,
  ) {}

  clearCache(): void {
    this.cache.clear();
  }

  private remember(snapshot: Snapshot): void {
    const id = snapshot.state.conversationId;
    this.cache.delete(id);
    this.cache.set(id, snapshot);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  private key(conversationId: string): string {
    return `snap:${this.namespace}:${conversationId}`;
  }

  async get(conversationId: string): Promise<Snapshot | undefined> {
    const cached = this.cache.get(conversationId);
    if (cached) return cached;
    const raw = await this.redis.get(this.key(conversationId));
    return raw ? (JSON.parse(raw) as Snapshot) : undefined;
  }

  async state(conversationId: string): Promise<ConversationState> {
    return (await this.get(conversationId))?.state ?? initialState(conversationId);
  }

  async put(snapshot: Snapshot): Promise<void> {
    await this.redis.set(this.key(snapshot.state.conversationId), JSON.stringify(snapshot));
    this.remember(snapshot);
  }

  /** Writes many snapshots in one pipelined round trip per thousand. */
  async putAll(snapshots: Iterable<Snapshot>): Promise<number> {
    let written = 0;
    let batch = this.redis.pipeline();
    for (const snapshot of snapshots) {
      batch.set(this.key(snapshot.state.conversationId), JSON.stringify(snapshot));
      this.remember(snapshot);
      if (++written % 1000 === 0) {
        await batch.exec();
        batch = this.redis.pipeline();
      }
    }
    if (written % 1000 !== 0) await batch.exec();
    return written;
  }

  private partitionKey(partition: number): string {
    return `snap-partition:${this.namespace}:${partition}`;
  }

  /**
   * Whether Redis holds every snapshot of a log partition that this namespace
   * has written: the mark is set when a partition's snapshots are complete (a
   * restore or a rebuild), and goes with them when Redis loses its data.
   */
  async partitionIntact(partition: number): Promise<boolean> {
    return (await this.redis.exists(this.partitionKey(partition))) === 1;
  }

  async markPartitionIntact(partition: number, upTo: bigint): Promise<void> {
    await this.redis.set(
      this.partitionKey(partition),
      JSON.stringify({ upTo: upTo.toString(), at: new Date().toISOString() }),
    );
  }

  /** Every snapshot of this namespace, keyed by conversation id. */
  async all(): Promise<Map<string, Snapshot>> {
    const out = new Map<string, Snapshot>();
    const prefix = `snap:${this.namespace}:`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) {
        const values = await this.redis.mget(...keys);
        keys.forEach((k, i) => {
          if (values[i]) out.set(k.slice(prefix.length), JSON.parse(values[i]!) as Snapshot);
        });
      }
    } while (cursor !== '0');
    return out;
  }

  async clear(): Promise<number> {
    this.cache.clear();
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `snap:${this.namespace}:*`,
        'COUNT',
        500,
      );
      cursor = next;
      if (keys.length) removed += await this.redis.del(...keys);
    } while (cursor !== '0');
    return removed;
  }
}

/** One log event as a service sees it: the state before and after, and whether it is new. */
export interface Applied {
  event: ConversationEvent;
  before: ConversationState;
  after: ConversationState;
  /** False when the same event (by id) was already in the log and applied. */
  isNew: boolean;
  record: Incoming<typeof ConversationEventSchema>;
}

/**
 * A service's reaction to a log event. It may return the conversation events
 * it appended itself: they are folded into its snapshot at once, so that the
 * next event of the conversation, which may sit in the log before them, is
 * judged knowing them (a decision already taken is not taken twice). When
 * they arrive from the log, evolve ignores them by id.
 */
export type Reaction = (applied: Applied) => Promise<void | ConversationEvent[]>;

/**
 * Applies a log record to the service's snapshot of its conversation, at most
 * once per offset, and runs the service's reaction in between: the reaction
 * runs before the snapshot is saved, so a crash in between replays it (and the
 * reaction's own idempotency makes that harmless) rather than losing it.
 */
export async function applyLogRecord(
  store: SnapshotStore,
  record: Incoming<typeof ConversationEventSchema>,
  react: Reaction,
  restorer?: PartitionRestorer,
): Promise<void> {
  const event = record.value;
  const conversationId = event.conversationId || record.key;
  let snapshot = await store.get(conversationId);
  if (!snapshot && restorer) {
    // A new conversation, or one whose snapshot Redis has lost: the partition's mark tells.
    await restorer.ensure(record.partition, record.offset);
    snapshot = await store.get(conversationId);
  }
  if (
    snapshot &&
    snapshot.partition === record.partition &&
    BigInt(record.offset) <= BigInt(snapshot.offset)
  ) {
    return; // this offset was applied already
  }
  const before = snapshot?.state ?? initialState(conversationId);
  const after = evolve(before, event);
  const isNew = after !== before;
  const own = isNew ? await react({ event, before, after, isNew, record }) : undefined;
  const state = own ? own.reduce(evolve, after) : after;
  await store.put({ state, partition: record.partition, offset: record.offset });
}

/**
 * Reads a topic from the beginning up to its end at the time of the call,
 * handing each decodable record to `onRecord` in order per partition (a record
 * that cannot be decoded, or whose handling throws, is counted as skipped).
 * Uses a throw-away consumer group and deletes it afterwards.
 */
export async function replayTopic<Desc extends DescMessage>(
  bus: Bus,
  topic: Pick<TopicSpec<Desc>, 'name' | 'schema'>,
  onRecord: (value: MessageShape<Desc>, partition: number, offset: string) => Promise<void>,
  upTo?: Positions,
): Promise<{ records: number; skipped: number }> {
  const admin = bus.kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic.name);
  const remaining = new Map<number, bigint>();
  for (const p of ends) {
    // With `upTo`, a partition it does not name is not read.
    const stop = upTo ? (upTo.get(p.partition) ?? 0n) : BigInt(p.high);
    const high = stop < BigInt(p.high) ? stop : BigInt(p.high);
    const low = BigInt(p.low);
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
  await new Promise<void>((resolve, reject) => {
    consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          const end = remaining.get(batch.partition);
          if (end === undefined) return;
          for (const message of batch.messages) {
            if (BigInt(message.offset) >= end) break;
            try {
              const value = fromBinary(topic.schema, message.value ?? new Uint8Array());
              await onRecord(value, batch.partition, message.offset);
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
  });
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
  return { records, skipped };
}

/** Per partition, an offset: where a replay stops (exclusive), or where a consumer group stands. */
export type Positions = Map<number, bigint>;

/**
 * Where one of this service's consumer groups stands on the conversation log:
 * per partition, the next offset it will read (0 where it has committed
 * nothing, so that it reads the partition from the start itself).
 */
export async function logPositions(bus: Bus, group = 'log'): Promise<Positions> {
  const admin = bus.kafka.admin();
  await admin.connect();
  try {
    const [topic] = await admin.fetchOffsets({
      groupId: `${bus.service}.${group}`,
      topics: [Topics.events.name],
    });
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
  onEvent: (event: ConversationEvent, partition: number, offset: string) => Promise<void>,
  upTo?: Positions,
): Promise<{ events: number; skipped: number }> {
  const { records, skipped } = await replayTopic(bus, Topics.events, onEvent, upTo);
  return { events: records, skipped };
}

export interface Folded {
  snapshots: Map<string, Snapshot>;
  events: number;
}

/** Folds the log (to its end, or up to `upTo`) into one snapshot per conversation (state and last offset). */
export async function foldLog(bus: Bus, upTo?: Positions): Promise<Folded> {
  const snapshots = new Map<string, Snapshot>();
  const { events } = await replayLog(
    bus,
    async (event, partition, offset) => {
      const id = event.conversationId;
      const current = snapshots.get(id)?.state ?? initialState(id);
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
export async function foldHandled(bus: Bus, group = 'log'): Promise<Folded> {
  return foldLog(bus, await logPositions(bus, group));
}

/**
 * Throws away a service's snapshots and recreates them from the log, up to
 * where its consumer group (`group`, default the log consumer) stands (or from
 * a fold the caller already made).
 */
export async function rebuildSnapshots(
  bus: Bus,
  store: SnapshotStore,
  folded?: Folded,
  group = 'log',
): Promise<{ conversations: number; events: number }> {
  await store.clear();
  const positions = await logPositions(bus, group);
  const { snapshots, events } = folded ?? (await foldLog(bus, positions));
  await store.putAll(snapshots.values());
  for (const [partition, upTo] of positions) await store.markPartitionIntact(partition, upTo);
  return { conversations: snapshots.size, events };
}

/** A log consumer's answer to a snapshot it does not find: see PartitionRestorer in restore.ts. */
export interface PartitionRestorer {
  /** Returns once the partition's snapshots are all in the store, up to `offset` (exclusive). */
  ensure(partition: number, offset: string): Promise<void>;
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
    (await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition)?.high ?? '0',
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
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      consumer.on(consumer.events.GROUP_JOIN, () =>
        consumer.seek({ topic, partition, offset: start.toString() }),
      );
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
