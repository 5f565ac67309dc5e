import 'reflect-metadata';
import { foldHandled, rebuildMain, rebuildSnapshots, SnapshotStore } from '@support/service-kit';
import { SERVICE } from './config.js';
import { LoadStore } from './adapters/load-store.js';
import { queueScore } from './domain/handoff.js';
import { hotStateFrom } from './domain/recovery.js';
import {
  acceptDeadline,
  DEFAULT_ROUTING_FILE,
  loadRoutingPolicy,
} from './domain/routing-policy.js';

/**
 * Throws away the router's snapshots, agents' loads, queue and deadlines to
 * accept, and recreates them from the log (the deadlines from the routing
 * policy in ROUTER_POLICY_FILE). Run it while no router replica is consuming.
 */
rebuildMain(SERVICE, async ({ bus, redis }) => {
  const policy = loadRoutingPolicy(process.env.ROUTER_POLICY_FILE || DEFAULT_ROUTING_FILE);
  // One pass over the log serves both the snapshots and the agents' loads.
  const folded = await foldHandled(bus);
  const snapshots = await rebuildSnapshots(bus, new SnapshotStore(redis, SERVICE), folded);
  const loads = new LoadStore(redis);
  const cleared = await loads.clearAll();
  const hot = hotStateFrom([...folded.snapshots.values()].map((s) => s.state));
  for (const [agentId, handoffIds] of hot.loads) await loads.restoreLoad(agentId, handoffIds);
  for (const target of hot.waiting)
    await loads.enqueue(target, queueScore(target.priority, Date.parse(target.requestedAt)));
  let deadlines = 0;
  for (const u of hot.unaccepted) {
    const acceptBy = acceptDeadline(policy, u.assignedAt);
    if (!acceptBy) continue;
    await loads.awaitAcceptance({ ...u, acceptBy, correlationId: '', causationId: '' });
    deadlines++;
  }
  const held = [...hot.loads.values()].reduce((n, ids) => n + ids.length, 0);
  return {
    snapshots,
    keysCleared: cleared,
    eventsReplayed: folded.events,
    handoffsHeld: held,
    agentsWithLoad: hot.loads.size,
    queued: hot.waiting.length,
    awaitingAcceptance: deadlines,
  };
});
