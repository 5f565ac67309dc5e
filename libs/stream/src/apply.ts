// Applying one log record to a service's snapshot: its reaction, what it appended folded at once.
import type { ConversationEvent, ConversationEventSchema } from '@support/contracts';
import { HeaderNames, markHeld, type Incoming } from '@support/bus';
import type { ConversationState } from '@support/conversation';
import type { OfConversation } from './projection.js';
import type { SnapshotStore } from './snapshots.js';

/** One log event as a service sees it: its projection before and after, and whether it is new. */
export interface Applied<S extends OfConversation = ConversationState> {
  event: ConversationEvent;
  before: S;
  after: S;
  /** False when the event changed nothing of the projection (the same event applied already, or one it ignores). */
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
export type Reaction<S extends OfConversation = ConversationState> = (
  applied: Applied<S>,
) => Promise<void | ConversationEvent[]>;

/**
 * Applies a log record to the service's snapshot of its conversation, at most
 * once per offset, and runs the service's reaction in between: the reaction
 * runs before the snapshot is saved, so a crash in between replays it (and the
 * reaction's own idempotency makes that harmless) rather than losing it.
 */
export async function applyLogRecord<S extends OfConversation>(
  store: SnapshotStore<S>,
  record: Incoming<typeof ConversationEventSchema>,
  react: Reaction<S>,
  restorer?: PartitionRestorer,
): Promise<void> {
  const { evolve, initial } = store.projection;
  const event = record.value;
  const conversationId = event.conversationId || record.key;
  let snapshot = store.held(conversationId);
  if (!snapshot) {
    // Not in memory: Redis's copy and, when there is none, whether it is a new conversation or
    // one whose snapshot Redis has lost, which the partition's mark tells. Both asked at once (one
    // round trip on the first event of every conversation, not three one after the other).
    const [stored, intact] = await Promise.all([
      store.stored(conversationId),
      restorer ? store.partitionIntact(record.partition) : true,
    ]);
    snapshot = stored;
    if (!snapshot && !intact && restorer) {
      // A restore needs the partition to itself: a record handled beside others
      // (record.concurrent) throws then, and is handled again alone.
      await restorer.ensure(record.partition, record.offset, !record.concurrent);
      snapshot = await store.get(conversationId);
    }
  }
  if (
    snapshot &&
    snapshot.partition === record.partition &&
    BigInt(record.offset) <= BigInt(snapshot.offset)
  ) {
    return; // this offset was applied already
  }
  const before = snapshot?.state ?? initial(conversationId);
  const after = evolve(before, event);
  const isNew = after !== before;
  const own = isNew ? await react({ event, before, after, isNew, record }) : undefined;
  const state = own ? own.reduce(evolve, after) : after;
  if (own?.length) foldedAtOnce(store, own);
  await store.put({ state, partition: record.partition, offset: record.offset });
}

/**
 * Exactly-once: events the handler (or punctuation) of this async context appended and folded
 * into the store's snapshots at once, before the log brings them back, are marked so on their
 * records (libs/bus HeaderNames.foldedInto): a catch-up or a restore folds them early too
 * (partition-fold.ts), or the next input of a message would find its decision missing.
 */
export function foldedAtOnce(store: SnapshotStore<OfConversation>, events: ConversationEvent[]) {
  markHeld(new Set(events.map((e) => e.eventId)), HeaderNames.foldedInto, store.namespace);
}

/** A log consumer's answer to a snapshot it does not find: see PartitionRestorer in restore.ts. */
export interface PartitionRestorer {
  /**
   * Returns once the partition's snapshots are all in the store, up to `offset` (exclusive).
   * With `alone` false (other records of the partition are in flight) it restores nothing, and
   * throws if the partition's snapshots are not all there.
   */
  ensure(partition: number, offset: string, alone?: boolean): Promise<void>;
}
