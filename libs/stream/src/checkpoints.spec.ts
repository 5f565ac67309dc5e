import type { Bus } from '@support/bus';
import { CommittedCheckpoints } from './checkpoints';
import type { SnapshotStore } from './snapshots';
import type { OfConversation } from './projection';

/** A store that records each checkpoint it is asked for, failing the first `failures` of them. */
function recordingStore(failures = 0) {
  const flushed: Map<number, bigint>[] = [];
  const store = {
    namespace: 'test',
    flushCommitted: async (committed: Map<number, bigint>) => {
      if (failures-- > 0) throw new Error('redis down');
      flushed.push(new Map(committed));
      return 0;
    },
  } as unknown as SnapshotStore<OfConversation>;
  return { store, flushed };
}

/** A bus whose tracked work the test can wait for, and whose warnings it can read. */
function trackingBus() {
  const tracked: Promise<unknown>[] = [];
  const warnings: string[] = [];
  const bus = {
    track: <T>(work: Promise<T>) => (tracked.push(work), work),
    logger: { warn: (msg: string) => warnings.push(msg) },
  } as unknown as Bus;
  return { bus, settled: () => Promise.all(tracked), warnings };
}

const offsets = (...entries: [number, bigint][]) => new Map(entries);

describe('CommittedCheckpoints: snapshots checkpointed a while after their commits', () => {
  it('gathers the commits of the interval into one checkpoint at the newest offset of each partition', async () => {
    const { store, flushed } = recordingStore();
    const { bus, settled } = trackingBus();
    const checkpoints = new CommittedCheckpoints(bus, store, 20);
    await checkpoints.committed(offsets([0, 5n], [1, 3n]));
    await checkpoints.committed(offsets([0, 9n]));
    await checkpoints.committed(offsets([1, 4n], [2, 1n]));
    expect(flushed).toEqual([]); // nothing waits for Redis at the commit
    await settled();
    expect(flushed).toEqual([offsets([0, 9n], [1, 4n], [2, 1n])]);

    await checkpoints.committed(offsets([2, 7n]));
    await settled();
    // What was checkpointed is not written again.
    expect(flushed.at(-1)).toEqual(offsets([2, 7n]));
  });

  it('checkpoints after every commit with no interval', async () => {
    const { store, flushed } = recordingStore();
    const { bus } = trackingBus();
    const checkpoints = new CommittedCheckpoints(bus, store, 0);
    await checkpoints.committed(offsets([0, 5n]));
    await checkpoints.committed(offsets([0, 6n]));
    expect(flushed).toEqual([offsets([0, 5n]), offsets([0, 6n])]);
  });

  it('keeps a checkpoint that failed for the next commit, and says so', async () => {
    const { store, flushed } = recordingStore(1);
    const { bus, settled, warnings } = trackingBus();
    const checkpoints = new CommittedCheckpoints(bus, store, 10);
    await checkpoints.committed(offsets([0, 5n], [3, 2n]));
    await settled();
    expect(flushed).toEqual([]);
    expect(warnings).toEqual(['checkpoint failed; trying again after the next commit']);
    await checkpoints.committed(offsets([0, 8n]));
    await settled();
    expect(flushed).toEqual([offsets([0, 8n], [3, 2n])]);
  });
});
