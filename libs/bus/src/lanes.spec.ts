import { PartitionLanes, type LaneRecord } from './lanes';

interface Rec extends LaneRecord {
  label: string;
}
const rec = (partition: number, offset: number, label = `${partition}:${offset}`): Rec => ({
  partition,
  offset: BigInt(offset),
  label,
});

/** A handler whose calls are released one by one by the test. */
function gatedHandler() {
  const started: Rec[] = [];
  const gates: (() => void)[] = [];
  const handle = (r: Rec) =>
    new Promise<void>((resolve) => {
      started.push(r);
      gates.push(resolve);
    });
  const releaseAll = async () => {
    for (let i = 0; i < 100 && gates.length > 0; i++) {
      gates.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { started, handle, releaseAll };
}

const tick = () => new Promise((r) => setImmediate(r));

function lanes(
  handle: (r: Rec) => Promise<void>,
  overrides: Partial<{ concurrency: number; maxBuffered: number; forgetRevoked: boolean }> = {},
) {
  const events: string[] = [];
  const l = new PartitionLanes<Rec>({
    concurrency: overrides.concurrency ?? 4,
    maxBuffered: overrides.maxBuffered ?? 100,
    forgetRevoked: overrides.forgetRevoked,
    retryAfterMs: 5,
    handle: (records) => handle(records[0]),
    onFull: () => events.push('full'),
    onDrained: () => events.push('drained'),
  });
  return { l, events };
}

describe('partition lanes', () => {
  it("handles a partition's records one at a time, in order, and partitions side by side", async () => {
    const h = gatedHandler();
    const { l } = lanes(h.handle);
    l.assign([0, 1]);
    l.push(rec(0, 1));
    l.push(rec(0, 2));
    l.push(rec(1, 7));
    await tick();
    // One record of each partition has started; partition 0's second waits for its first.
    expect(h.started.map((r) => r.label)).toEqual(['0:1', '1:7']);
    await h.releaseAll();
    expect(h.started.map((r) => r.label)).toEqual(['0:1', '1:7', '0:2']);
  });

  it('ignores a record fetched again after it was handled or queued (a refetch after a rebalance)', async () => {
    const seen: string[] = [];
    const { l } = lanes(async (r) => void seen.push(r.label));
    l.assign([0]);
    for (const o of [5, 6, 7]) l.push(rec(0, o));
    await l.idle();
    for (const o of [5, 6, 7, 8]) l.push(rec(0, o, `again ${o}`));
    await tick();
    await l.idle();
    expect(seen).toEqual(['0:5', '0:6', '0:7', 'again 8']);
  });

  it('drops what waits for a revoked partition and takes it again from the last handled offset', async () => {
    const h = gatedHandler();
    const { l } = lanes(h.handle);
    l.assign([0]);
    for (const o of [1, 2, 3]) l.push(rec(0, o));
    await tick();
    l.assign([]); // revoked while 1 is being handled; 2 and 3 are dropped
    l.push(rec(0, 4)); // a record of a partition this member does not own: ignored
    await h.releaseAll();
    expect(h.started.map((r) => r.label)).toEqual(['0:1']);
    expect(l.takeCommittable()).toEqual(new Map()); // not owned: nothing to commit
    l.assign([0]);
    for (const o of [1, 2, 3]) l.push(rec(0, o, `back ${o}`)); // fetched from the committed offset
    await h.releaseAll();
    await l.idle();
    expect(h.started.map((r) => r.label)).toEqual(['0:1', 'back 2', 'back 3']);
    expect(l.takeCommittable()).toEqual(new Map([[0, 4n]]));
  });

  it('forgets what it handled of a revoked partition when told to (exactly-once): taken back, it handles again from the committed offset', async () => {
    const h = gatedHandler();
    const { l } = lanes(h.handle, { forgetRevoked: true });
    l.assign([0]);
    for (const o of [1, 2]) l.push(rec(0, o));
    await tick();
    await h.releaseAll(); // 1 and 2 handled, not committed
    for (const o of [3]) l.push(rec(0, o));
    await tick();
    l.assign([]); // revoked while 3 is being handled
    l.assign([0]);
    for (const o of [1, 2, 3]) l.push(rec(0, o, `back ${o}`)); // fetched from the committed offset
    await h.releaseAll();
    await l.idle();
    expect(h.started.map((r) => r.label)).toEqual([
      '0:1',
      '0:2',
      '0:3',
      'back 1',
      'back 2',
      'back 3',
    ]);
    // What ran from before the revocation counted for nothing: the commit is the new lane's.
    expect(l.takeCommittable()).toEqual(new Map([[0, 4n]]));
  });

  it('is idle for a partition only when every record it was given is handled, none dropped', async () => {
    const h = gatedHandler();
    const { l } = lanes(h.handle);
    l.assign([0]);
    expect(l.isIdle(0)).toBe(true);
    l.push(rec(0, 1));
    l.push(rec(0, 2));
    await tick();
    expect(l.isIdle(0)).toBe(false); // 1 runs, 2 waits
    await h.releaseAll();
    await l.idle();
    expect(l.isIdle(0)).toBe(true);
    l.push(rec(0, 3));
    await tick();
    l.assign([]); // revoked while 3 runs: not idle, nor owned
    await h.releaseAll();
    expect(l.isIdle(0)).toBe(false);
    l.assign([0]);
    expect(l.isIdle(0)).toBe(true);
    l.push(rec(0, 4));
    l.push(rec(0, 5));
    await tick();
    const closed = l.close(); // 5 waited: dropped
    await h.releaseAll();
    await closed;
    expect(l.isIdle(0)).toBe(false);
  });

  it('offers each handled offset once to commit, and again after a failed commit', async () => {
    const { l } = lanes(async () => undefined);
    l.assign([0, 3]);
    l.push(rec(0, 10));
    l.push(rec(3, 2));
    await l.idle();
    const first = l.takeCommittable();
    expect(first).toEqual(
      new Map([
        [0, 11n],
        [3, 3n],
      ]),
    );
    expect(l.takeCommittable().size).toBe(0);
    l.restoreCommittable(first);
    expect(l.takeCommittable()).toEqual(first);
  });

  it('retries a failing record before the next of its partition', async () => {
    const calls: string[] = [];
    let failures = 2;
    const { l } = lanes(async (r) => {
      calls.push(r.label);
      if (r.offset === 1n && failures-- > 0) throw new Error('down');
    });
    l.assign([0]);
    l.push(rec(0, 1));
    l.push(rec(0, 2));
    while (calls.length < 4) await new Promise((r) => setTimeout(r, 5));
    await l.idle();
    expect(calls).toEqual(['0:1', '0:1', '0:1', '0:2']);
  });

  it('asks the stream to pause when too many records wait, and to resume at half', async () => {
    const h = gatedHandler();
    const { l, events } = lanes(h.handle, { concurrency: 1, maxBuffered: 4 });
    l.assign([0]);
    for (let o = 1; o <= 4; o++) l.push(rec(0, o));
    expect(events).toEqual(['full']);
    await h.releaseAll();
    await l.idle();
    expect(events).toEqual(['full', 'drained']);
  });

  it('keeps at most `concurrency` handlers running and shares the slots between partitions', async () => {
    const h = gatedHandler();
    const { l } = lanes(h.handle, { concurrency: 2 });
    l.assign([0, 1, 2]);
    for (const p of [0, 1, 2]) for (const o of [1, 2]) l.push(rec(p, o));
    await tick();
    expect(h.started).toHaveLength(2);
    await h.releaseAll();
    await l.idle();
    // Partition 2 did not wait for partitions 0 and 1 to be emptied.
    expect(h.started.map((r) => r.label).indexOf('2:1')).toBeLessThan(4);
    expect(h.started).toHaveLength(6);
  });

  it('starts nothing after close and resolves once the running handlers are done', async () => {
    const h = gatedHandler();
    const { l } = lanes(h.handle);
    l.assign([0]);
    l.push(rec(0, 1));
    l.push(rec(0, 2));
    await tick();
    let closed = false;
    const closing = l.close().then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    await h.releaseAll();
    await closing;
    expect(h.started.map((r) => r.label)).toEqual(['0:1']);
    l.push(rec(0, 3));
    await tick();
    expect(h.started).toHaveLength(1);
  });

  it('hands a lane its waiting records in batches, in order, and goes on after the settled part of a failed one', async () => {
    const calls: string[][] = [];
    let failOnce = true;
    const l = new PartitionLanes<Rec>({
      concurrency: 2,
      maxBuffered: 100,
      maxBatch: 3,
      retryAfterMs: 5,
      onFull: () => undefined,
      onDrained: () => undefined,
      handle: async (records) => {
        calls.push(records.map((r) => r.label));
        if (records[0].label === '0:1' && failOnce) {
          failOnce = false;
          // The first record was handled; the second failed.
          throw Object.assign(new Error('second failed'), { settled: 1 });
        }
      },
    });
    l.assign([0]);
    for (let o = 0; o < 5; o++) l.push(rec(0, o));
    await l.idle();
    await new Promise((r) => setTimeout(r, 50));
    await l.idle();
    // The first call takes what waits at the time (one record: the lane starts at once).
    expect(calls.flat().filter((x, i, a) => a.indexOf(x) === i)).toEqual([
      '0:0',
      '0:1',
      '0:2',
      '0:3',
      '0:4',
    ]);
    expect(calls.every((c) => c.length <= 3)).toBe(true);
    // 0:1 was settled by the failed call: it is not handed again; 0:2 is, first of the retry.
    const failed = calls.findIndex((c) => c[0] === '0:1');
    expect(calls[failed + 1][0]).toBe('0:2');
    expect(calls.flat().filter((x) => x === '0:1')).toHaveLength(1);
    expect(l.takeCommittable()).toEqual(new Map([[0, 5n]]));
  });

  describe('keyed mode', () => {
    /** Keyed lanes whose tryOne is gated by the test; `alone` records what was handled alone. */
    function keyedLanes(max: number, fails: (r: Rec) => boolean = () => false) {
      const started: string[] = [];
      const gates = new Map<string, (ok: boolean) => void>();
      const alone: string[] = [];
      const l = new PartitionLanes<Rec>({
        concurrency: 1,
        maxBuffered: 100,
        retryAfterMs: 5,
        handle: async ([r]) => void alone.push(r.label),
        onFull: () => undefined,
        onDrained: () => undefined,
        keyed: {
          max,
          keyOf: (r) => r.label.slice(0, 1),
          tryOne: (r) =>
            new Promise<boolean>((resolve) => {
              started.push(r.label);
              gates.set(r.label, (ok) => resolve(ok && !fails(r)));
            }),
        },
      });
      const finish = async (label: string, ok = true) => {
        gates.get(label)!(ok);
        await tick();
        await tick();
      };
      return { l, started, alone, finish };
    }

    it('keeps records of other keys in flight beside each other, each key in order, up to max', async () => {
      const k = keyedLanes(3);
      k.l.assign([0]);
      ['a1', 'b1', 'a2', 'c1', 'd1'].forEach((label, i) => k.l.push(rec(0, i + 1, label)));
      await tick();
      // a2 waits for a1; d1 for a slot.
      expect(k.started).toEqual(['a1', 'b1', 'c1']);
      await k.finish('b1');
      expect(k.started).toEqual(['a1', 'b1', 'c1', 'd1']);
      await k.finish('a1');
      expect(k.started).toEqual(['a1', 'b1', 'c1', 'd1', 'a2']);
    });

    it('offers to commit only the prefix of records all done', async () => {
      const k = keyedLanes(4);
      k.l.assign([0]);
      ['a1', 'b1', 'c1'].forEach((label, i) => k.l.push(rec(0, i + 1, label)));
      await tick();
      await k.finish('b1');
      await k.finish('c1');
      // a1 (offset 1) is still in flight: nothing may be committed past it.
      expect(k.l.takeCommittable()).toEqual(new Map());
      await k.finish('a1');
      expect(k.l.takeCommittable()).toEqual(new Map([[0, 4n]]));
    });

    it('handles a record that needs care alone once the others in flight are done, then goes on in flight', async () => {
      const k = keyedLanes(4, (r) => r.label === 'b1');
      k.l.assign([0]);
      ['a1', 'b1', 'b2', 'c1'].forEach((label, i) => k.l.push(rec(0, i + 1, label)));
      await tick();
      expect(k.started).toEqual(['a1', 'b1', 'c1']);
      await k.finish('b1');
      // b1 failed: nothing new starts, and it waits until a1 and c1 are done.
      expect(k.alone).toEqual([]);
      await k.finish('c1');
      expect(k.alone).toEqual([]);
      await k.finish('a1');
      await tick();
      // b1 alone; then b2, next of its key, goes in flight again.
      expect(k.alone).toEqual(['b1']);
      expect(k.started).toContain('b2');
      expect(k.l.takeCommittable()).toEqual(new Map([[0, 3n]]));
      k.l.push(rec(0, 5, 'd1'));
      await tick();
      expect(k.started).toContain('d1');
    });

    it('does not start a record again while it still runs from before its partition was revoked and assigned again', async () => {
      const k = keyedLanes(4);
      k.l.assign([0]);
      k.l.push(rec(0, 1, 'a1'));
      await tick();
      k.l.assign([]);
      k.l.assign([0]);
      // Fetched again from the last handled offset: it waits for the earlier run of its key.
      k.l.push(rec(0, 1, 'a1'));
      k.l.push(rec(0, 2, 'b1'));
      await tick();
      expect(k.started).toEqual(['a1', 'b1']);
      await k.finish('a1');
      expect(k.started).toEqual(['a1', 'b1', 'a1']);
    });

    it('forgets what was in flight for a revoked partition', async () => {
      const k = keyedLanes(4);
      k.l.assign([0]);
      k.l.push(rec(0, 1, 'a1'));
      await tick();
      k.l.assign([]);
      await k.finish('a1');
      expect(k.l.takeCommittable()).toEqual(new Map());
      await k.l.close();
    });
  });
});
