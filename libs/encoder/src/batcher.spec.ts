import { CoalescingBatcher } from './batcher.js';

/** A runner that records each run and answers after `gate` opens (or at once). */
function recorder(fail?: (items: string[]) => boolean) {
  const runs: string[][] = [];
  let active = 0;
  let overlapped = false;
  const run = async (items: string[]) => {
    runs.push(items);
    active++;
    if (active > 1) overlapped = true;
    await new Promise((r) => setTimeout(r, 5));
    active--;
    if (fail?.(items)) throw new Error('model failed');
    return items.map((s) => s.toUpperCase());
  };
  return { runs, run, overlapped: () => overlapped };
}

describe('CoalescingBatcher', () => {
  it('runs the calls made within one tick together and gives each caller its own results', async () => {
    const r = recorder();
    const batcher = new CoalescingBatcher(r.run, 32);
    const [a, b, c] = await Promise.all([
      batcher.submit(['a1', 'a2']),
      batcher.submit(['b1']),
      Promise.resolve().then(() => batcher.submit(['c1', 'c2', 'c3'])),
    ]);
    expect(r.runs).toEqual([['a1', 'a2', 'b1', 'c1', 'c2', 'c3']]);
    expect([a, b, c]).toEqual([['A1', 'A2'], ['B1'], ['C1', 'C2', 'C3']]);
  });

  it('bounds a run by maxBatch, never overlaps runs, and batches what arrives during one', async () => {
    const r = recorder();
    const batcher = new CoalescingBatcher(r.run, 3);
    const first = batcher.submit(['1', '2', '3', '4', '5']);
    await new Promise((resolve) => setImmediate(resolve)); // the first run has started
    const later = [batcher.submit(['x']), batcher.submit(['y'])];
    expect(await first).toEqual(['1', '2', '3', '4', '5']);
    expect(await Promise.all(later)).toEqual([['X'], ['Y']]);
    expect(r.runs).toEqual([['1', '2', '3'], ['4', '5', 'x'], ['y']]);
    expect(r.overlapped()).toBe(false);
  });

  it('rejects only the callers whose items were in a failed run', async () => {
    const r = recorder((items) => items.includes('bad'));
    const batcher = new CoalescingBatcher(r.run, 2);
    const results = await Promise.allSettled([
      batcher.submit(['ok1', 'ok2']),
      batcher.submit(['bad']),
      batcher.submit(['ok3']),
    ]);
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(await batcher.submit(['again'])).toEqual(['AGAIN']);
  });

  it('answers an empty call without a run', async () => {
    const r = recorder();
    expect(await new CoalescingBatcher(r.run, 4).submit([])).toEqual([]);
    expect(r.runs).toEqual([]);
  });
});
