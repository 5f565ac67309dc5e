/**
 * One lane per partition: a partition's records are handled one at a time, in offset order, while
 * lanes of different partitions run side by side up to a limit. With `keyed`, a lane instead keeps
 * several records in flight, of different keys, each key's records in order (keyed-lanes.ts). A
 * lane remembers the last offset it handled, so a record fetched again after a rebalance (the
 * stream starts over from the group's committed offset) is not handled twice by this member. The
 * lanes say which offsets are ready to commit, and ask the stream to pause when too many wait.
 */
import {
  KeyedScheduler,
  keyedState,
  type KeyedLane,
  type KeyedOptions,
  type KeyedState,
} from './keyed-lanes.js';

export type { KeyedOptions } from './keyed-lanes.js';

export interface LaneRecord {
  partition: number;
  offset: bigint;
}

export interface LanesOptions<R extends LaneRecord> {
  /** Lanes handling records at the same time. */
  concurrency: number;
  /** The most records of one lane handed to `handle` at once (default 1). */
  maxBatch?: number;
  /** Records waiting in all lanes above which `onFull` is called; `onDrained` at half of it. */
  maxBuffered: number;
  /**
   * Handles a lane's next records, in order. When it throws, the records stay first in their lane
   * and are tried again after `retryAfterMs`; an error with a numeric `settled` says how many of
   * the first records were handled before it (those are not tried again).
   */
  handle: (records: R[]) => Promise<void>;
  /** The wait before a lane's records are tried again after the handler threw. */
  retryAfterMs: number;
  onFull: () => void;
  onDrained: () => void;
  /** Keyed mode (see KeyedOptions); `maxBatch` and `concurrency` do not apply to its lanes. */
  keyed?: KeyedOptions<R>;
  /**
   * A revoked partition's lane is forgotten, what it handled included: if the partition comes
   * back, its records from the committed offset are handled again, and what still runs from
   * before no longer counts. For an exactly-once consumer, whose handled records count only once
   * their transaction commits. (Otherwise the lane remembers what it handled, and does not handle
   * it twice.)
   */
  forgetRevoked?: boolean;
}

interface Lane<R> extends KeyedLane<R> {
  partition: number;
  queue: R[];
  running: boolean;
  assigned: boolean;
  /** The highest offset handled, or queued to be. */
  last?: bigint;
  /** The highest offset handled. */
  handled?: bigint;
  /** The highest offset ever queued (not reset when the lane drops what waits). */
  pushed?: bigint;
  /** Handled since the last commit. */
  dirty: boolean;
  /** Keyed mode: what is in flight, done, or to handle alone. */
  keyed: KeyedState<R>;
  /** Changes when the lane is dropped: what was in flight before no longer counts. */
  generation: number;
}

export class PartitionLanes<R extends LaneRecord> {
  private readonly lanes = new Map<number, Lane<R>>();
  private readonly waiting = new Set<Lane<R>>();
  private active = 0;
  private buffered = 0;
  private full = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  /** Keyed mode's scheduling (keyed-lanes.ts), when the options ask for it. */
  private readonly keyed?: KeyedScheduler<R>;

  constructor(private readonly options: LanesOptions<R>) {
    if (options.keyed)
      this.keyed = new KeyedScheduler(options.keyed, {
        closed: () => this.closed,
        begin: () => void this.active++,
        end: () => {
          this.active--;
          this.notifyIdle();
        },
        handled: (lane, records) => this.handled(lane as Lane<R>, records),
        handleAlone: (record) => this.options.handle([record]),
        retryAfterMs: options.retryAfterMs,
      });
  }

  /** The partitions this member owns now; records of the others are dropped, queued or not. */
  assign(partitions: Iterable<number>): void {
    const owned = new Set(partitions);
    for (const p of owned) {
      const lane = this.lane(p);
      // Taken back: what was dropped is fetched again from the committed offset.
      if (!lane.assigned) lane.pushed = lane.handled;
      lane.assigned = true;
    }
    for (const lane of this.lanes.values()) {
      if (owned.has(lane.partition)) continue;
      lane.assigned = false;
      this.drop(lane);
      if (this.options.forgetRevoked) this.lanes.delete(lane.partition);
    }
  }

  isAssigned(partition: number): boolean {
    return this.lanes.get(partition)?.assigned === true;
  }

  /**
   * Whether the partition is owned and every record it was given is handled: none waits, none
   * runs, none was dropped unhandled (a drop, or close, leaves `pushed` past `handled`).
   */
  isIdle(partition: number): boolean {
    const lane = this.lanes.get(partition);
    return (
      !this.closed &&
      lane?.assigned === true &&
      lane.queue.length === 0 &&
      !lane.running &&
      lane.keyed.inFlight === 0 &&
      lane.pushed === lane.handled
    );
  }

  /** Queues a fetched record; one this member has already handled or queued is ignored. */
  push(record: R): void {
    const lane = this.lanes.get(record.partition);
    if (this.closed || !lane?.assigned) return;
    if (lane.last !== undefined && record.offset <= lane.last) return;
    lane.last = record.offset;
    if (lane.pushed === undefined || record.offset > lane.pushed) lane.pushed = record.offset;
    lane.queue.push(record);
    this.buffered++;
    if (!this.full && this.buffered >= this.options.maxBuffered) {
      this.full = true;
      this.options.onFull();
    }
    this.schedule(lane);
  }

  /** The offset to commit (next to read) per partition handled since the last call. */
  takeCommittable(): Map<number, bigint> {
    const out = new Map<number, bigint>();
    for (const lane of this.lanes.values()) {
      if (!lane.dirty || !lane.assigned || lane.handled === undefined) continue;
      lane.dirty = false;
      out.set(lane.partition, lane.handled + 1n);
    }
    return out;
  }

  /**
   * The offset past the records of an assigned partition handled so far, when every record
   * before it is handled (what a commit may always say, again or for the first time); undefined
   * before the first record of this assignment is handled.
   */
  handledNext(partition: number): bigint | undefined {
    const lane = this.lanes.get(partition);
    return lane?.assigned && lane.handled !== undefined ? lane.handled + 1n : undefined;
  }

  /** A commit of these failed: they are offered again next time (unless newer ones were handled). */
  restoreCommittable(offsets: Map<number, bigint>): void {
    for (const p of offsets.keys()) {
      const lane = this.lanes.get(p);
      if (lane) lane.dirty = true;
    }
  }

  /** Takes no more records and starts none; resolves once no handler is running. */
  close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes.values()) this.drop(lane);
    return this.idle();
  }

  /** Resolves once no handler is running. */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get stats(): { buffered: number; active: number } {
    return { buffered: this.buffered, active: this.active };
  }

  private lane(partition: number): Lane<R> {
    let lane = this.lanes.get(partition);
    if (!lane) {
      lane = {
        partition,
        queue: [],
        running: false,
        assigned: false,
        dirty: false,
        keyed: keyedState(),
        generation: 0,
      };
      this.lanes.set(partition, lane);
    }
    return lane;
  }

  /** Forgets what waits in a lane: fetched again (from the last handled offset) if it comes back. */
  private drop(lane: Lane<R>): void {
    this.buffered -= lane.queue.length;
    lane.queue = [];
    lane.last = lane.handled;
    // What still runs from before the drop keeps counting: it may not start twice.
    lane.keyed = {
      ...keyedState(),
      inFlight: lane.keyed.inFlight,
      keysInFlight: lane.keyed.keysInFlight,
      alone: lane.keyed.alone,
    };
    lane.generation++;
    this.waiting.delete(lane);
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.full && this.buffered <= this.options.maxBuffered / 2) {
      this.full = false;
      if (!this.closed) this.options.onDrained();
    }
  }

  private schedule(lane: Lane<R>): void {
    if (this.keyed) return this.keyed.pump(lane);
    if (lane.running || lane.queue.length === 0 || this.closed) return;
    if (this.active >= this.options.concurrency) {
      this.waiting.add(lane);
      return;
    }
    lane.running = true;
    this.active++;
    void this.run(lane);
  }

  private async run(lane: Lane<R>): Promise<void> {
    try {
      // One batch, then the slot goes to a waiting lane if there is one (fairness).
      do {
        const batch = lane.queue.slice(0, this.options.maxBatch ?? 1);
        let settled = batch.length;
        try {
          await this.options.handle(batch);
        } catch (err) {
          settled = settledBefore(err, batch.length);
          if (settled === 0) {
            if (lane.queue[0] === batch[0]) await this.wait(this.options.retryAfterMs);
            continue;
          }
        }
        this.handled(lane, batch.slice(0, settled));
        if (settled < batch.length && lane.queue[0] === batch[settled])
          await this.wait(this.options.retryAfterMs);
      } while (lane.queue.length > 0 && !this.closed && this.waiting.size === 0);
    } finally {
      lane.running = false;
      this.active--;
      this.next(lane);
    }
  }

  /** Takes handled records off the front of their lane (unless the lane was dropped meanwhile). */
  private handled(lane: Lane<R>, records: R[]): void {
    if (records.length === 0) return;
    if (lane.queue[0] === records[0]) {
      lane.queue.splice(0, records.length);
      this.buffered -= records.length;
      this.checkDrained();
    }
    const offset = records[records.length - 1].offset;
    if (lane.handled === undefined || offset > lane.handled) lane.handled = offset;
    if (lane.last === undefined || lane.last < offset) lane.last = offset;
    lane.dirty = true;
  }

  private next(previous: Lane<R>): void {
    if (!this.closed) {
      const [first] = this.waiting;
      if (first) {
        this.waiting.delete(first);
        this.schedule(first);
      }
      if (previous.queue.length > 0) this.schedule(previous);
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.active === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }
}

/** How many of a batch's first records were handled before the handler threw `err`. */
function settledBefore(err: unknown, size: number): number {
  const settled = (err as { settled?: unknown } | null)?.settled;
  return typeof settled === 'number' && settled >= 0 && settled < size ? settled : 0;
}
