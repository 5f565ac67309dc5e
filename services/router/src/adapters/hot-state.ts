import type { ConversationLifecycle } from '@support/conversation';
import { queueScore } from '../domain/handoff.js';
import { hotStateFrom } from '../domain/recovery.js';
import { acceptDeadline, type RoutingPolicy } from '../domain/routing-policy.js';
import type { LoadStore } from './load-store.js';

/**
 * Puts back, from conversation states, what the router keeps in Redis beside its snapshots:
 * the handoffs each agent holds, the queue, and the deadlines to accept. Every write adds
 * (a set member, a queue entry, a deadline not already there), so states may come partition
 * by partition, as a restore of lost snapshots brings them, or all at once, as a rebuild does.
 */
export async function restoreHotState(
  loads: LoadStore,
  policy: RoutingPolicy,
  states: Iterable<ConversationLifecycle>,
): Promise<{
  handoffsHeld: number;
  agentsWithLoad: number;
  queued: number;
  awaitingAcceptance: number;
}> {
  const hot = hotStateFrom(states);
  for (const [agentId, handoffIds] of hot.loads) await loads.restoreLoad(agentId, handoffIds);
  for (const target of hot.waiting)
    await loads.enqueue(target, queueScore(target.priority, Date.parse(target.requestedAt)));
  let awaitingAcceptance = 0;
  for (const u of hot.unaccepted) {
    const acceptBy = acceptDeadline(policy, u.assignedAt);
    if (!acceptBy) continue;
    await loads.awaitAcceptance({ ...u, acceptBy, correlationId: '', causationId: '' });
    awaitingAcceptance++;
  }
  const handoffsHeld = [...hot.loads.values()].reduce((n, ids) => n + ids.length, 0);
  return {
    handoffsHeld,
    agentsWithLoad: hot.loads.size,
    queued: hot.waiting.length,
    awaitingAcceptance,
  };
}
