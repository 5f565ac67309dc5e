import type { Redis } from 'ioredis';
import { Topics, type Bus, type ConsumerHandle } from '@support/bus';
import { invalidLogEvent } from '@support/conversation';
import { KeyedMutex } from './once.js';
import { PartitionCatchUp } from './catch-up.js';
import { LogPartitionRestorer, type RestorerHooks } from './restore.js';
import { applyLogRecord, type Reaction } from './apply.js';
import { SnapshotStore } from './snapshots.js';
import {
  conversationProjection,
  projectionNamespace,
  type OfConversation,
  type Projection,
} from './projection.js';
import type { ConversationState } from '@support/conversation';

/** How many records of one log partition, each of another conversation, a log consumer handles at once. */
const LOG_PARALLEL_KEYS = Math.max(1, Number(process.env.LOG_PARALLEL_KEYS ?? 16));

/** A service's reading of the conversation log: its snapshots, and its consumer's punctuations. */
export interface ConversationLog<S extends OfConversation = ConversationState> {
  store: SnapshotStore<S>;
  /** Exactly-once consumers: see ConsumerHandle.punctuate in libs/bus, and SnapshotStore.putUnsettled. */
  punctuate: ConsumerHandle['punctuate'];
}

/**
 * Consumes the conversation log into the service's snapshots and hands each
 * new event, with the state before and after it, to the service's reaction.
 * Snapshots that Redis has lost are restored from the log first (restore.ts).
 */
export async function consumeConversationLog<S extends OfConversation = ConversationState>(
  bus: Bus,
  redis: Redis,
  opts: {
    group?: string;
    /** What the service folds (default the whole conversation); ignored when `store` is given. */
    projection?: Projection<S>;
    store?: SnapshotStore<S>;
    mutex?: KeyedMutex;
    /** Records of one partition handled at once, of different conversations (default LOG_PARALLEL_KEYS, 16). */
    parallelKeys?: number;
    react: Reaction<S>;
    /** Restores what the service derives from snapshots besides them, when snapshots are restored. */
    onRestored?: RestorerHooks<S>['onRestored'];
    /** Exactly-once: see RestorerHooks.onCaughtUp (restore.ts). */
    onCaughtUp?: RestorerHooks<S>['onCaughtUp'];
    /**
     * Exactly-once (Kafka transactions): what the reaction publishes goes out in one transaction
     * with the offsets past its record; snapshots are checkpointed after the transaction
     * commits, never ahead of it, and a partition newly assigned is first caught up from its
     * checkpoint to the committed offset. The reaction must not mark its work done elsewhere.
     */
    exactlyOnce?: boolean;
    /** For a reader in no hurry: see `fetchWaitMs` in libs/bus consumer.ts. */
    fetchWaitMs?: number;
  },
): Promise<ConversationLog<S>> {
  const projection = opts.projection ?? (conversationProjection as unknown as Projection<S>);
  const store =
    opts.store ??
    new SnapshotStore<S>(redis, projectionNamespace(bus.service, projection), projection);
  const mutex = opts.mutex ?? new KeyedMutex();
  const restorer: LogPartitionRestorer<S> = new LogPartitionRestorer(bus, store, {
    hooks: { onRestored: opts.onRestored, onCaughtUp: opts.onCaughtUp },
    committedBefore: (p) => catchUps.committedBefore(p),
  });
  const catchUps = new PartitionCatchUp(bus, store, restorer);
  const exactlyOnce = opts.exactlyOnce ?? false;
  /** The consumer, once started (assignments come before `consume` returns). */
  const started: { consumer?: ConsumerHandle } = {};
  const consumer = await bus.consume({
    group: opts.group ?? 'log',
    topic: Topics.events,
    fromBeginning: true,
    validate: invalidLogEvent,
    // Conversations of a partition side by side, each in log order (the log is keyed by them).
    parallelKeys: opts.parallelKeys ?? LOG_PARALLEL_KEYS,
    exactlyOnce,
    fetchWaitMs: opts.fetchWaitMs,
    onAssignment: (partitions) => {
      store.clearCache();
      if (!exactlyOnce) return;
      const owned = new Set(partitions);
      store.forgetPartitions(owned);
      catchUps.assigned((p) => owned.has(p));
      if (opts.onCaughtUp)
        catchUps.catchUpWhenQuiet(partitions, (p) => started.consumer?.idleAt(p));
    },
    ...(exactlyOnce
      ? // Checkpointed only once the transaction has committed what the snapshots hold.
        {
          afterCommit: async (committed) => {
            catchUps.committed(committed);
            await store.flushCommitted(committed);
          },
        }
      : // Checkpointed to Redis in one batch before the offsets they reach are committed.
        { beforeCommit: async () => void (await store.flush()) }),
    handle: (record) =>
      mutex.run(record.value.conversationId, async () => {
        if (exactlyOnce)
          await catchUps.catchUp(record.partition, record.offset, !record.concurrent);
        await applyLogRecord(store, record, opts.react, restorer);
      }),
  });
  started.consumer = consumer;
  return { store, punctuate: consumer.punctuate };
}
