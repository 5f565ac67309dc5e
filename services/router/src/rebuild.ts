import 'reflect-metadata';
import { rebuildMain } from '@support/service-kit';
import { lifecycleProjection } from '@support/conversation';
import { foldHandled, projectionNamespace, rebuildSnapshots, SnapshotStore } from '@support/stream';
import { SERVICE } from './config.js';
import { restoreHotState } from './adapters/hot-state.js';
import { LoadStore } from './adapters/load-store.js';
import { DEFAULT_ROUTING_FILE, loadRoutingPolicy } from './domain/routing-policy.js';

/**
 * Throws away the router's snapshots, agents' loads, queue and deadlines to
 * accept, and recreates them from the log (the deadlines from the routing
 * policy in ROUTER_POLICY_FILE). Run it while no router replica is consuming.
 */
rebuildMain(SERVICE, async ({ bus, redis }) => {
  const policy = loadRoutingPolicy(process.env.ROUTER_POLICY_FILE || DEFAULT_ROUTING_FILE);
  // One pass over the log serves both the snapshots and the agents' loads.
  const folded = await foldHandled(bus, 'log', lifecycleProjection);
  const store = new SnapshotStore(
    redis,
    projectionNamespace(SERVICE, lifecycleProjection),
    lifecycleProjection,
  );
  const snapshots = await rebuildSnapshots(bus, store, folded);
  const loads = new LoadStore(redis);
  const cleared = await loads.clearAll();
  const hot = await restoreHotState(
    loads,
    policy,
    [...folded.snapshots.values()].map((s) => s.state),
  );
  return { snapshots, keysCleared: cleared, eventsReplayed: folded.events, ...hot };
});
