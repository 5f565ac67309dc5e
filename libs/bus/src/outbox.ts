/**
 * What a handler of an exactly-once consumer publishes is held here, not sent: it goes to Kafka
 * in the transaction that also commits the offset of the record that caused it (transactions.ts),
 * so that either both happen or neither.
 *
 * The handler does not change to be exactly-once: `Bus.publish` called anywhere inside the
 * handler's async call tree finds the record's capture (AsyncLocalStorage) and adds to it. A
 * capture is closed when the handler returns or throws; a timer the handler started that
 * publishes later finds it closed and publishes as usual (at least once, outside any transaction).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { OutgoingRecord } from './batching.js';
import { HeaderNames } from './headers.js';

/** Work to run once the transaction that carries a record's publications has committed. */
export type AfterCommit = () => Promise<void>;

class Capture {
  readonly records: OutgoingRecord[] = [];
  readonly afterCommit: AfterCommit[] = [];
  open = true;
}

const captures = new AsyncLocalStorage<Capture>();

/** The open capture of the record being handled in this async context, if its consumer is exactly-once. */
export function currentCapture(): { records: OutgoingRecord[] } | undefined {
  const capture = captures.getStore();
  return capture?.open ? capture : undefined;
}

/**
 * Marks records that the handler of this async context published and that are held for its
 * transaction: `header` set to `value` on those whose event id is in `eventIds`. Nothing outside
 * an exactly-once handler (what was published there is sent already).
 */
export function markHeld(eventIds: ReadonlySet<string>, header: string, value: string): void {
  const capture = currentCapture();
  if (!capture || eventIds.size === 0) return;
  for (const r of capture.records) {
    const id = r.headers?.[HeaderNames.eventId]?.toString();
    // (In place: a record's publish span is found by its headers.)
    if (r.headers && id && eventIds.has(id)) r.headers[header] = value;
  }
}

/**
 * Runs `work` once what the handler has published so far is in Kafka: inside the handler of an
 * exactly-once consumer, after the transaction that commits its record (never, when that
 * transaction fails: the record is handled again, and registers it again); anywhere else, now.
 * For bookkeeping that must not say "published" before it is (a claim settled), and that is
 * safe to lose with a crash between the commit and it (the claim is then published again).
 * A failing `work` is logged by the consumer and does not undo the commit.
 */
export async function afterTransaction(work: AfterCommit): Promise<void> {
  const capture = captures.getStore();
  if (capture?.open) capture.afterCommit.push(work);
  else await work();
}

/** What one handled record published, and what is to run once that is committed. */
interface Held {
  offset: bigint;
  records: OutgoingRecord[];
  afterCommit: AfterCommit[];
}

/** The records held per partition of the consumed topic, by the offset of the record that caused them. */
export class Outbox {
  private readonly held = new Map<number, Held[]>();
  /** Per partition, how many times it was forgotten: a capture begun before does not count. */
  private readonly epochs = new Map<number, number>();

  /** `onDropped`: told whenever held records go without a transaction (a partition lost). */
  constructor(
    private readonly onDropped: (partition: number, records: number, why: string) => void = () =>
      undefined,
  ) {}

  /**
   * Runs the handler of the record at (partition, offset) with a capture of its own. What it
   * published is held only when it succeeds: an attempt that throws leaves nothing behind, and
   * the next attempt starts from nothing.
   */
  async capture<T>(partition: number, offset: bigint, handle: () => Promise<T>): Promise<T> {
    const capture = new Capture();
    const epoch = this.epochs.get(partition) ?? 0;
    this.epochs.set(partition, epoch);
    try {
      const result = await captures.run(capture, handle);
      // (Of a partition lost meanwhile, its new owner handles the record again.)
      const { records, afterCommit } = capture;
      if (records.length || afterCommit.length) {
        if (epoch === (this.epochs.get(partition) ?? 0))
          this.hold(partition, { offset, records, afterCommit });
        else
          this.onDropped(partition, records.length, 'partition lost while its record was handled');
      }
      return result;
    } finally {
      capture.open = false;
    }
  }

  private hold(partition: number, held: Held): void {
    const list = this.held.get(partition) ?? [];
    // Keyed lanes finish records of a partition out of order: keep the list in offset order.
    let at = list.length;
    while (at > 0 && list[at - 1].offset > held.offset) at--;
    list.splice(at, 0, held);
    this.held.set(partition, list);
  }

  /** The partitions something is held for. */
  partitions(): number[] {
    return [...this.held.keys()];
  }

  /** Whether a transaction committing the partition up to `upTo` would carry anything. */
  holdsBefore(partition: number, upTo: bigint): boolean {
    const first = this.held.get(partition)?.[0];
    return first !== undefined && first.offset < upTo;
  }

  /** How many records (and after-commit steps) are held. */
  get size(): number {
    let n = 0;
    for (const list of this.held.values())
      for (const h of list) n += h.records.length + h.afterCommit.length;
    return n;
  }

  /**
   * Takes what the records before each partition's `next` offset published, in offset order per
   * partition: what a transaction committing those offsets must carry.
   */
  take(next: Map<number, bigint>): Taken {
    const taken: Taken = { records: [], afterCommit: [], held: new Map() };
    for (const [partition, upTo] of next) {
      const list = this.held.get(partition);
      if (!list) continue;
      let n = 0;
      while (n < list.length && list[n].offset < upTo) n++;
      if (n === 0) continue;
      const out = list.splice(0, n);
      if (list.length === 0) this.held.delete(partition);
      taken.held.set(partition, out);
      for (const h of out) {
        taken.records.push(...h.records);
        taken.afterCommit.push(...h.afterCommit);
      }
    }
    return taken;
  }

  /** A transaction that carried these failed: they are held again, for the next one. */
  giveBack(taken: Taken): void {
    for (const [partition, list] of taken.held) for (const h of list) this.hold(partition, h);
  }

  /**
   * Drops what records of partitions this member no longer owns published, and what records
   * of theirs still being handled will publish: their new owner handles them again.
   */
  forget(owned: (partition: number) => boolean): void {
    for (const partition of this.epochs.keys())
      if (!owned(partition)) {
        const dropped = (this.held.get(partition) ?? []).reduce((n, h) => n + h.records.length, 0);
        if (dropped) this.onDropped(partition, dropped, 'partition lost');
        this.held.delete(partition);
        this.epochs.set(partition, (this.epochs.get(partition) ?? 0) + 1);
      }
  }
}

export interface Taken {
  records: OutgoingRecord[];
  /** In offset order per partition, to run once the transaction has committed. */
  afterCommit: AfterCommit[];
  held: Map<number, Held[]>;
}
