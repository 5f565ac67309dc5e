import 'reflect-metadata';
import { foldLog, rebuildMain, rebuildSnapshots, SnapshotStore } from '@support/service-kit';
import { SERVICE } from './config.js';
import { LoadStore } from './adapters/load-store.js';
import { queueScore } from './domain/handoff.js';
import { hotStateFrom } from './domain/recovery.js';

/**
 * Throws away the router's snapshots, agents' loads and queue, and recreates
 * them from the log. Run it while no router replica is consuming.
 */
rebuildMain(SERVICE, async ({ bus, redis }) => {
  // One pass over the log serves both the snapshots and the agents' loads.
  const folded = await foldLog(bus);
  const snapshots = await rebuildSnapshots(bus, new SnapshotStore(redis, SERVICE), folded);
  const loads = new LoadStore(redis);
  const cleared = await loads.clearAll();
  const hot = hotStateFrom([...folded.snapshots.values()].map((s) => s.state));
  for (const [agentId, handoffIds] of hot.loads) await loads.restoreLoad(agentId, handoffIds);
  for (const target of hot.waiting)
    await loads.enqueue(target, queueScore(target.priority, Date.parse(target.requestedAt)));
  const held = [...hot.loads.values()].reduce((n, ids) => n + ids.length, 0);
  return {
    snapshots,
    keysCleared: cleared,
    eventsReplayed: folded.events,
    handoffsHeld: held,
    agentsWithLoad: hot.loads.size,
    queued: hot.waiting.length,
  };
});
