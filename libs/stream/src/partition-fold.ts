import { HeaderNames, type Bus } from '@support/bus';
import type { ConversationEvent } from '@support/contracts';
import { replayLog, type Positions } from './replay.js';

/**
 * How many records past a fold's end it reads, per partition, for the service's own events:
 * unset, to the partition's end (a consumer far behind the log's end has its decisions there).
 */
const OWN_EVENTS_SCAN = process.env.LOG_OWN_EVENTS_SCAN
  ? BigInt(Math.max(0, Number(process.env.LOG_OWN_EVENTS_SCAN)))
  : undefined;
/** Past any partition's end: a replay stops at the end. */
const THE_END = 2n ** 62n;

/**
 * Folds log partitions from `from` (default their start) up to `upTo` (exclusive): `fold` gets
 * each record before it.
 *
 * A live process folds the events its reaction appends into its snapshot at once (a decision is
 * known before the next input of the message), but the log holds them only further on, after
 * what other services appended meanwhile. A fold that stopped at `upTo` would lack a decision
 * committed with a record before it, and the next input of the message would take it again. So
 * the fold reads on to the partition's end (read-committed: only what committed; the records
 * there are only fetched, and decoded only when marked), and hands `foldOwn` the events that the
 * snapshots of `namespace` folded at
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
  // (A partition with nothing to fold, a consumer's first, had nothing folded at once either.)
  const scans = (p: number, end: bigint) => namespace !== undefined && end > (from?.get(p) ?? 0n);
  const reach = new Map(
    [...upTo].map(([p, end]) => [
      p,
      scans(p, end) ? (OWN_EVENTS_SCAN === undefined ? THE_END : end + OWN_EVENTS_SCAN) : end,
    ]),
  );
  const own = (headers: Record<string, string>) => headers[HeaderNames.foldedInto] === namespace;
  let events = 0;
  let owned = 0;
  await replayLog(
    bus,
    async (event, partition, offset, headers) => {
      if (BigInt(offset) < upTo.get(partition)!) {
        events++;
        await fold(event, partition, offset);
      } else if (own(headers)) {
        owned++;
        await foldOwn(event);
      }
    },
    reach,
    from,
    (partition, offset, headers) => BigInt(offset) < upTo.get(partition)! || own(headers),
  );
  return { events, own: owned };
}
