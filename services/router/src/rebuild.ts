import 'reflect-metadata';
import { evolve, initialState, type ConversationState } from '@support/conversation';
import { rebuildMain, rebuildSnapshots, replayLog, SnapshotStore } from '@support/service-kit';
import { SERVICE } from './config.js';
import { LoadStore } from './adapters/load-store.js';
import { queueScore } from './domain/handoff.js';
import { hotStateFrom } from './domain/recovery.js';

/**
 * Throws away the router's snapshots, agents' loads and queue, and recreates
 * them from the log. Run it while no router replica is consuming.
 */
rebuildMain(SERVICE, async ({ bus, redis }) => {
  const snapshots = await rebuildSnapshots(bus, new SnapshotStore(redis, SERVICE));
  const loads = new LoadStore(redis);
  const cleared = await loads.clearAll();
  const states = new Map<string, ConversationState>();
  const replayed = await replayLog(bus, async (event) => {
    const id = event.conversationId;
    states.set(id, evolve(states.get(id) ?? initialState(id), event));
  });
  const hot = hotStateFrom(states.values());
  for (const [agentId, handoffIds] of hot.loads) await loads.restoreLoad(agentId, handoffIds);
  for (const target of hot.waiting)
    await loads.enqueue(target, queueScore(target.priority, Date.parse(target.requestedAt)));
  const held = [...hot.loads.values()].reduce((n, ids) => n + ids.length, 0);
  return {
    snapshots,
    keysCleared: cleared,
    eventsReplayed: replayed.events,
    handoffsHeld: held,
    agentsWithLoad: hot.loads.size,
    queued: hot.waiting.length,
  };
});
