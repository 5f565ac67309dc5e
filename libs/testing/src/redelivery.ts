import { Topics } from '@support/bus';
import type { ConversationEventSchema } from '@support/contracts';
import type { TopicWatcher, WatchedRecord } from './topic-watcher.js';
import { sleep, waitUntil } from './wait.js';

/** Where a service's snapshot of a conversation stands: the last log offset applied to it. */
export interface SnapshotPosition {
  partition: number;
  offset: string;
}

export interface RedeliveryOptions {
  /** A watcher of conversation.events. */
  watcher: TopicWatcher;
  /** Publishes the record once more, the same as the first time. */
  deliver: () => Promise<unknown>;
  /** Tells the record's deliveries apart from everything else on the log. */
  isDelivery: (r: WatchedRecord<typeof ConversationEventSchema>) => boolean;
  /** The service's snapshot of the record's conversation, if it has one. */
  snapshot: () => Promise<SnapshotPosition | undefined>;
  /** Makes the service lose its snapshot of the conversation. */
  dropSnapshot: () => Promise<unknown>;
  /** How long to let the service react after the last delivery. */
  settleMs?: number;
}

/**
 * For records of conversation.events that a service must act on once: after
 * the first delivery, delivers the record again, then once more after the
 * service lost its snapshot of the conversation, each time waiting until the
 * service has applied that delivery (its snapshot reaches the delivery's
 * offset), and then lets the service settle, so that the test can count what
 * it did.
 */
export async function redeliverTwice(options: RedeliveryOptions): Promise<void> {
  const { watcher, deliver, isDelivery, snapshot } = options;
  const appliedUpTo = async (r: WatchedRecord) => {
    const position = await snapshot();
    return (
      !!position &&
      position.partition === r.partition &&
      BigInt(position.offset) >= BigInt(r.offset)
    );
  };
  await deliver();
  const second = (await watcher.waitFor(Topics.events, isDelivery, { count: 2 }))[1];
  await waitUntil('the redelivery to be applied', () => appliedUpTo(second));
  await options.dropSnapshot();
  await deliver();
  const third = (await watcher.waitFor(Topics.events, isDelivery, { count: 3 }))[2];
  await waitUntil('the second redelivery to be applied', () => appliedUpTo(third));
  await sleep(options.settleMs ?? 1_500);
}
