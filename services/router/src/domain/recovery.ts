import type { ConversationLifecycle } from '@support/conversation';
import { handoffTarget, type HandoffTarget } from './handoff.js';

/** What the router keeps in Redis, as it follows from the conversations' states. */
export interface RouterHotState {
  /** Handoff ids held, by agent id. */
  loads: Map<string, string[]>;
  /** Handoffs that wait in the queue (queued, no agent yet, not resolved). */
  waiting: HandoffTarget[];
  /** Assignments whose agent has not accepted yet (their deadlines follow from the policy). */
  unaccepted: { conversationId: string; handoffId: string; agentId: string; assignedAt: string }[];
}

/**
 * Derives the agents' loads and the queue from folded conversation states:
 * a conversation with a human counts against its agent (accepted or not);
 * one awaiting a human that the router queued waits in the queue, with the
 * agents who passed on it.
 */
export function hotStateFrom(states: Iterable<ConversationLifecycle>): RouterHotState {
  const loads = new Map<string, string[]>();
  const waiting: HandoffTarget[] = [];
  const unaccepted: RouterHotState['unaccepted'] = [];
  for (const state of states) {
    const handoff = state.handoff;
    if (!handoff) continue;
    if (state.status === 'with_human' && handoff.agent) {
      const held = loads.get(handoff.agent.agentId) ?? [];
      held.push(handoff.handoffId);
      loads.set(handoff.agent.agentId, held);
      if (!handoff.agent.acceptedAt)
        unaccepted.push({
          conversationId: state.conversationId,
          handoffId: handoff.handoffId,
          agentId: handoff.agent.agentId,
          assignedAt: handoff.agent.assignedAt,
        });
    } else if (state.status === 'awaiting_human' && handoff.queue && !handoff.agent) {
      waiting.push(handoffTarget(state, '')!);
    }
  }
  return { loads, waiting, unaccepted };
}
