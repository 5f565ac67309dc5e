/**
 * Keyed mode of the partition lanes (lanes.ts): a lane keeps several records in flight, of
 * different keys, each key's records in offset order, and what counts as handled (so committed)
 * is only ever the lane's prefix of records all done.
 */

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

/** A lane as keyed mode sees it. */
export interface KeyedLane<R> {
  queue: R[];
  assigned: boolean;
  /** Changes when the lane is dropped: what was in flight before no longer counts. */
  generation: number;
  keyed: KeyedState<R>;
}

/** What is in flight on a lane, done and waiting to be taken off, or to be handled alone. */
export interface KeyedState<R> {
  started: Set<R>;
  finished: Set<R>;
  failed: Set<R>;
  inFlight: number;
  /**
   * Keys with a record in flight, of this generation or an earlier one (a record still running
   * when its partition was revoked, then assigned again, is not started twice).
   */
  keysInFlight: Map<string, number>;
  /** Records are being handled alone (carried over a drop, like the counts). */
  alone: boolean;
}

export function keyedState<R>(): KeyedState<R> {
  return {
    started: new Set(),
    finished: new Set(),
    failed: new Set(),
    inFlight: 0,
    keysInFlight: new Map(),
    alone: false,
  };
}

/** What the lanes give keyed mode. */
export interface KeyedHost<R> {
  closed: () => boolean;
  /** A piece of work starts, and ends (the lanes are idle when none runs). */
  begin: () => void;
  end: () => void;
  /** Takes handled records off the front of their lane and marks them to commit. */
  handled: (lane: KeyedLane<R>, records: R[]) => void;
  /** The careful one-record path. */
  handleAlone: (record: R) => Promise<void>;
  retryAfterMs: number;
}

export class KeyedScheduler<R> {
  constructor(
    private readonly options: KeyedOptions<R>,
    private readonly host: KeyedHost<R>,
  ) {}

  /** Starts what may start, from the front of the lane. */
  pump(lane: KeyedLane<R>): void {
    const k = lane.keyed;
    if (this.host.closed() || !lane.assigned || k.alone) return;
    if (k.failed.size > 0) {
      if (k.inFlight === 0) void this.alone(lane);
      return;
    }
    if (k.inFlight >= this.options.max) return;
    // Keys of records not started that wait behind an earlier record of theirs. A record started
    // and not done blocks its key through keysInFlight (it is in flight: the lane never has
    // records that failed here), so it is passed over without its key.
    const blocked = new Set<string>();
    const scan = Math.min(lane.queue.length, this.options.max * 4);
    for (let i = 0; i < scan && k.inFlight < this.options.max; i++) {
      const record = lane.queue[i];
      if (k.started.has(record)) continue;
      const key = this.options.keyOf(record);
      const free = !blocked.has(key) && !k.keysInFlight.has(key);
      blocked.add(key);
      if (free) this.start(lane, record, key);
    }
  }

  private start(lane: KeyedLane<R>, record: R, key: string): void {
    const { generation, keyed: k } = lane;
    k.started.add(record);
    k.inFlight++;
    k.keysInFlight.set(key, (k.keysInFlight.get(key) ?? 0) + 1);
    this.host.begin();
    void this.options
      .tryOne(record)
      .catch(() => false)
      .then((ok) => {
        // The lane's state of this generation, or what a drop carried over (the counts).
        const now = lane.keyed;
        now.inFlight--;
        const left = (now.keysInFlight.get(key) ?? 1) - 1;
        if (left > 0) now.keysInFlight.set(key, left);
        else now.keysInFlight.delete(key);
        if (generation === lane.generation) {
          if (ok) {
            now.finished.add(record);
            this.takeFinished(lane);
          } else now.failed.add(record);
        }
        this.pump(lane);
        this.host.end();
      });
  }

  /** Takes the records done off the front of the lane. */
  private takeFinished(lane: KeyedLane<R>): void {
    const k = lane.keyed;
    let n = 0;
    while (n < lane.queue.length && k.finished.has(lane.queue[n])) n++;
    if (n === 0) return;
    const done = lane.queue.slice(0, n);
    for (const r of done) {
      k.finished.delete(r);
      k.started.delete(r);
    }
    this.host.handled(lane, done);
  }

  /** With nothing in flight, the lane's records one at a time until none that failed is left. */
  private async alone(lane: KeyedLane<R>): Promise<void> {
    const generation = lane.generation;
    const k = lane.keyed;
    k.alone = true;
    this.host.begin();
    // (A drop meanwhile carries `alone` over to the lane's new state: nothing starts until this ends.)
    try {
      while (k.failed.size > 0 && !this.host.closed() && generation === lane.generation) {
        const record = lane.queue[0];
        if (!record) break;
        if (!k.finished.has(record)) {
          try {
            await this.host.handleAlone(record);
          } catch {
            if (generation === lane.generation) await wait(this.host.retryAfterMs);
            continue;
          }
          if (generation !== lane.generation) break;
          k.failed.delete(record);
          k.started.delete(record);
          this.host.handled(lane, [record]);
        }
        this.takeFinished(lane);
      }
    } finally {
      lane.keyed.alone = false;
      this.pump(lane);
      this.host.end();
    }
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
