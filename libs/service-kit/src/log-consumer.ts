import type { Redis } from 'ioredis';
import { Topics, type Bus } from '@support/bus';
import { KeyedMutex } from './once.js';
import { applyLogRecord, SnapshotStore, type Reaction } from './snapshots.js';

/**
 * Consumes the conversation log into the service's snapshots and hands each
 * new event, with the state before and after it, to the service's reaction.
 */
export async function consumeConversationLog(
  bus: Bus,
  redis: Redis,
  opts: {
    group?: string;
    store?: SnapshotStore;
    mutex?: KeyedMutex;
    react: Reaction;
  },
): Promise<SnapshotStore> {
  const store = opts.store ?? new SnapshotStore(redis, bus.service);
  const mutex = opts.mutex ?? new KeyedMutex();
  await bus.consume({
    group: opts.group ?? 'log',
    topic: Topics.events,
    fromBeginning: true,
    validate: (e) =>
      !e.conversationId
        ? 'conversation_id is required'
        : !e.eventId
          ? 'event_id is required'
          : !e.payload.case
            ? 'payload is required'
            : undefined,
    onAssignment: () => store.clearCache(),
    handle: (record) =>
      mutex.run(record.value.conversationId, () => applyLogRecord(store, record, opts.react)),
  });
  return store;
}
