import 'reflect-metadata';
import { Redis } from 'ioredis';
import { Bus } from '@support/bus';
import { evolve, initialState, type ConversationState } from '@support/conversation';
import { loadConfig, rebuildSnapshots, replayLog, SnapshotStore } from '@support/service-kit';
import { configSchema, SERVICE } from './config.js';
import { LoadStore } from './adapters/load-store.js';
import { queueScore } from './domain/handoff.js';
import { hotStateFrom } from './domain/recovery.js';

/**
 * Throws away the router's snapshots, agents' loads and queue, and recreates
 * them from the log. Run it while no router replica is consuming.
 */
async function main(): Promise<void> {
  const config = loadConfig(configSchema);
  const bus = new Bus({ service: SERVICE, brokers: config.KAFKA_BROKERS });
  const redis = new Redis(config.REDIS_URL);
  try {
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
    console.log(
      JSON.stringify({
        service: SERVICE,
        rebuilt: {
          snapshots,
          keysCleared: cleared,
          eventsReplayed: replayed.events,
          handoffsHeld: held,
          agentsWithLoad: hot.loads.size,
          queued: hot.waiting.length,
        },
      }),
    );
  } finally {
    await bus.close();
    await redis.quit();
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
