/**
 * One lane per partition: a partition's records are handled one at a time, in offset order, while
 * lanes of different partitions run side by side up to a limit. With `keyed`, a lane instead keeps
 * several records in flight, of different keys, each key's records in order (keyed mode, below). A lane remembers the last offset
 * it handled, so a record fetched again after a rebalance (the stream starts over from the
 * group's committed offset) is not handled twice by this member. The lanes say which offsets
 * are ready to commit, and ask the stream to pause when too many records wait.
 */
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
}

/**
 * Keyed mode: a lane keeps up to `max` records in flight, never two of one key, and never one
 * whose key has an earlier record not yet done, so each key's records are handled in offset order
 * while a slow record does not hold up the other keys of its partition. What counts as handled
 * (and so is committed) is only ever the lane's prefix of records all done. A record `tryOne`
 * could not handle (false) is handled alone, through `handle`, once the records in flight are
 * done, with every record not yet done before and after it in order until none is left that
 * failed; then the lane goes on in flight again.
 */
export interface KeyedOptions<R> {
  max: number;
  keyOf: (record: R) => string;
  /** Handles a record beside others of its lane; false when it must be handled alone. */
  tryOne: (record: R) => Promise<boolean>;
}

interface Lane<R> {
  partition: number;
  queue: R[];
  running: boolean;
  assigned: boolean;
  /** The highest offset handled, or queued to be. */
  last?: bigint;
  /** The highest offset handled. */
  handled?: bigint;
  /** Handled since the last commit. */
  dirty: boolean;
  /** Keyed mode: records started and not yet taken off the lane, those done, those to handle alone. */
  started: Set<R>;
  finished: Set<R>;
  failed: Set<R>;
  inFlight: number;
  /** Keyed mode: records are being handled alone. */
  alone: boolean;
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

  constructor(private readonly options: LanesOptions<R>) {}

  /** The partitions this member owns now; records of the others are dropped, queued or not. */
  assign(partitions: Iterable<number>): void {
    const owned = new Set(partitions);
    for (const p of owned) this.lane(p).assigned = true;
    for (const lane of this.lanes.values()) {
      if (owned.has(lane.partition)) continue;
      lane.assigned = false;
      this.drop(lane);
    }
  }

  isAssigned(partition: number): boolean {
    return this.lanes.get(partition)?.assigned === true;
  }

  /** Queues a fetched record; one this member has already handled or queued is ignored. */
  push(record: R): void {
    const lane = this.lanes.get(record.partition);
    if (this.closed || !lane?.assigned) return;
    if (lane.last !== undefined && record.offset <= lane.last) return;
    lane.last = record.offset;
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
        started: new Set(),
        finished: new Set(),
        failed: new Set(),
        inFlight: 0,
        alone: false,
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
    lane.started = new Set();
    lane.finished = new Set();
    lane.failed = new Set();
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
    if (this.options.keyed) return this.pump(lane, this.options.keyed);
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

  /** Keyed mode: starts what may start, from the front of the lane. */
  private pump(lane: Lane<R>, keyed: KeyedOptions<R>): void {
    if (this.closed || !lane.assigned || lane.alone) return;
    if (lane.failed.size > 0) {
      if (lane.inFlight === 0) void this.handleAlone(lane);
      return;
    }
    const blocked = new Set<string>();
    const scan = Math.min(lane.queue.length, keyed.max * 4);
    for (let i = 0; i < scan && lane.inFlight < keyed.max; i++) {
      const record = lane.queue[i];
      if (lane.finished.has(record)) continue;
      const key = keyed.keyOf(record);
      const free = !lane.started.has(record) && !blocked.has(key);
      blocked.add(key);
      if (free) this.start(lane, record, keyed);
    }
  }

  private start(lane: Lane<R>, record: R, keyed: KeyedOptions<R>): void {
    const generation = lane.generation;
    lane.started.add(record);
    lane.inFlight++;
    this.active++;
    void keyed
      .tryOne(record)
      .catch(() => false)
      .then((ok) => {
        lane.inFlight--;
        this.active--;
        if (generation === lane.generation) {
          if (ok) {
            lane.finished.add(record);
            this.takeFinished(lane);
          } else lane.failed.add(record);
          this.pump(lane, keyed);
        }
        this.notifyIdle();
      });
  }

  /** Keyed mode: takes the records done off the front of the lane. */
  private takeFinished(lane: Lane<R>): void {
    let n = 0;
    while (n < lane.queue.length && lane.finished.has(lane.queue[n])) n++;
    if (n === 0) return;
    const done = lane.queue.slice(0, n);
    for (const r of done) {
      lane.finished.delete(r);
      lane.started.delete(r);
    }
    this.handled(lane, done);
  }

  /** Keyed mode: with nothing in flight, the lane's records one at a time until none that failed is left. */
  private async handleAlone(lane: Lane<R>): Promise<void> {
    const generation = lane.generation;
    lane.alone = true;
    this.active++;
    try {
      while (lane.failed.size > 0 && !this.closed && generation === lane.generation) {
        const record = lane.queue[0];
        if (!record) break;
        if (!lane.finished.has(record)) {
          try {
            await this.options.handle([record]);
          } catch {
            if (generation === lane.generation) await this.wait(this.options.retryAfterMs);
            continue;
          }
          if (generation !== lane.generation) break;
          lane.failed.delete(record);
          lane.started.delete(record);
          this.handled(lane, [record]);
        }
        this.takeFinished(lane);
      }
    } finally {
      lane.alone = false;
      this.active--;
      if (this.options.keyed) this.pump(lane, this.options.keyed);
      this.notifyIdle();
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
