import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { HandoffTarget } from '../domain/handoff';
import { ANNOUNCE_GRACE_MS, Keys, LoadStore } from './load-store';

/**
 * The queue in Redis: a handoff queued by one reaction is kept from every other serveQueue until
 * its "you're in the queue" has committed, so that no replica's "Ada joined" goes on the log
 * ahead of it (a race replicas.int.spec.ts met under load).
 */
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
const loads = new LoadStore(redis);
const mine: string[] = [];

afterAll(async () => {
  for (const id of mine) await loads.dropQueued(id);
  await redis.quit();
});

function target(): HandoffTarget {
  const handoffId = `itest-${randomUUID()}`;
  mine.push(handoffId);
  return {
    handoffId,
    conversationId: randomUUID(),
    messageId: randomUUID(),
    priority: 0,
    requestedAt: new Date().toISOString(),
    channel: 'web',
    externalConversationId: '',
    customerId: '',
    correlationId: randomUUID(),
    requiredSkills: [],
    language: 'en',
  };
}

/** The ids of the waiting handoffs this test queued, as serveQueue would see them. */
async function waitingIds(mineToo?: string): Promise<string[]> {
  return (await loads.waiting(1000, mineToo))
    .map((t) => t.handoffId)
    .filter((id) => mine.includes(id));
}

describe('the queue: handoffs held back until their queued notice is out', () => {
  it('serves a queued handoff to its own reaction at once, and to the others once announced', async () => {
    const t = target();
    expect(await loads.enqueue(t, Date.now())).toBe(true);
    // Another reaction or replica does not see it yet; the reaction that queued it does.
    expect(await waitingIds()).not.toContain(t.handoffId);
    expect(await waitingIds(t.handoffId)).toContain(t.handoffId);
    // Its transaction committed: everyone may serve it.
    await loads.announced(t.handoffId);
    expect(await waitingIds()).toContain(t.handoffId);
  });

  it('lets the others serve it after the grace when the process that queued it died before announcing', async () => {
    const t = target();
    await loads.enqueue(t, Date.now());
    await redis.zadd(Keys.announcing, Date.now() - ANNOUNCE_GRACE_MS - 1000, t.handoffId);
    expect(await waitingIds()).toContain(t.handoffId);
  });

  it('forgets the hold when the handoff leaves the queue', async () => {
    const t = target();
    await loads.enqueue(t, Date.now());
    await loads.dropQueued(t.handoffId);
    expect(await redis.zscore(Keys.announcing, t.handoffId)).toBeNull();
  });
});
