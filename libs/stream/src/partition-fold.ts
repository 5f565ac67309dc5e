import { HeaderNames, type Bus } from '@support/bus';
import type { ConversationEvent } from '@support/contracts';
import { replayLog, type Positions } from './replay.js';

/** How many records past a fold's end it reads, per partition, for the service's own events. */
const OWN_EVENTS_SCAN = Math.max(0, Number(process.env.LOG_OWN_EVENTS_SCAN ?? 10_000));

/**
 * Folds log partitions from `from` (default their start) up to `upTo` (exclusive): `fold` gets
 * each record before it.
 *
 * A live process folds the events its reaction appends into its snapshot at once (a decision is
 * known before the next input of the message), but the log holds them only further on, after
 * what other services appended meanwhile. A fold that stopped at `upTo` would lack a decision
 * committed with a record before it, and the next input of the message would take it again. So
 * the fold reads on, up to OWN_EVENTS_SCAN records or the partition's end (read-committed: only
 * what committed), and hands `foldOwn` the events that the snapshots of `namespace` folded at
 * once (applyLogRecord marks them: libs/bus HeaderNames.foldedInto); the snapshot's offset stays
 * where `fold` left it, and evolve ignores those events when they arrive (by id), as it did live.
 * Other events of the service (published and not returned, or from HTTP) are left to the reaction.
 */
export async function foldPartitions(
  bus: Bus,
  /** Undefined: nothing past `upTo` is read (a consumer that is not exactly-once marks nothing). */
  namespace: string | undefined,
  upTo: Positions,
  from: Positions | undefined,
  fold: (event: ConversationEvent, partition: number, offset: string) => Promise<void>,
  foldOwn: (event: ConversationEvent) => Promise<void> | void,
): Promise<{ events: number; own: number }> {
  const scan = BigInt(namespace === undefined ? 0 : OWN_EVENTS_SCAN);
  // (A partition with nothing to fold, a consumer's first, had nothing folded at once either.)
  const reach = new Map(
    [...upTo].map(([p, end]) => [p, end > (from?.get(p) ?? 0n) ? end + scan : end]),
  );
  let events = 0;
  let own = 0;
  await replayLog(
    bus,
    async (event, partition, offset, headers) => {
      if (BigInt(offset) < upTo.get(partition)!) {
        events++;
        await fold(event, partition, offset);
      } else if (headers[HeaderNames.foldedInto] === namespace) {
        own++;
        await foldOwn(event);
      }
    },
    reach,
    from,
  );
  return { events, own };
}
