import type { ConversationEvent } from '@support/contracts';
import {
  isResolved,
  isWithPerson,
  type ConversationLifecycle,
  type HandoffView,
} from '@support/conversation';
import { acceptDeadline, type RoutingPolicy } from './routing-policy.js';

/**
 * An assignment's life after the router made it: assigned, then accepted,
 * or declined / not accepted in time (and routed again, without that agent),
 * then handed back to the AI or resolved. Pure: from a log event and the
 * conversation's state before and after it, what the router must do.
 */

/** Why an agent's assignment ended, as `AgentAssignment.ended_reason` says. */
export type EndedReason = 'declined' | 'timeout' | 'handed_back' | 'resolved' | 'reviewed';

/** The agent an assignment is (or was) with. */
export interface AssignedTo {
  agentId: string;
  agentName: string;
  team: string;
  /** When the agent was assigned (RFC 3339; empty when unknown). */
  assignedAt: string;
}

export type LifecycleStep =
  /** Assigned, and the policy asks the agent to accept by `acceptBy`: the router keeps the deadline. */
  | {
      kind: 'awaitAcceptance';
      handoffId: string;
      agentId: string;
      assignedAt: string;
      acceptBy: string;
    }
  /** The agent accepted: the deadline goes, desks see it accepted, the customer hears who joined. */
  | { kind: 'accepted'; handoffId: string; agent: AssignedTo; attempt: number }
  /** The agent declined or did not accept in time: their slot is freed and the handoff routed again without them. */
  | { kind: 'passed'; handoffId: string; agent: AssignedTo; reason: 'declined' | 'timeout' }
  /** The reviewer approved or edited the AI's draft (sent by ingest): their slot is freed, the AI carries on. */
  | { kind: 'reviewed'; handoffId: string; agent: AssignedTo }
  /** The reviewer took the conversation over: it is theirs, accepted; the customer hears who joined. */
  | { kind: 'takenOver'; handoffId: string; agent: AssignedTo }
  /** The agent handed the conversation back to the AI: their slot is freed and the customer told. */
  | { kind: 'handedBack'; handoffId: string; agent?: AssignedTo; agentName: string }
  /**
   * An assignment that reached the log after the conversation had left the
   * people (handed back, resolved, or replaced by a newer handoff): the agent
   * is let go at once.
   */
  | {
      kind: 'lateAssignment';
      handoffId: string;
      agent: AssignedTo;
      reason: 'handed_back' | 'resolved';
    };

/** What the reviewer's decision means for their assignment: only one the fold applied counts. */
function reviewStep(
  c: { reviewId: string; agentId: string },
  before: ConversationLifecycle,
  after: ConversationLifecycle,
): LifecycleStep | undefined {
  const h = before.handoff;
  const outcome = after.handoff?.review?.outcome;
  if (!h?.agent || h.handoffId !== c.reviewId || h.review?.outcome !== 'pending') return undefined;
  if (h.agent.agentId !== c.agentId || !outcome || outcome === 'pending') return undefined;
  const agent = assignedTo(h.agent);
  return outcome === 'taken_over'
    ? { kind: 'takenOver', handoffId: h.handoffId, agent }
    : { kind: 'reviewed', handoffId: h.handoffId, agent };
}

const assignedTo = (agent: NonNullable<HandoffView['agent']>): AssignedTo => ({
  agentId: agent.agentId,
  agentName: agent.agentName,
  team: agent.team,
  assignedAt: agent.assignedAt,
});

/** Whether a person handed this (earlier) handoff of the conversation back to the AI. */
const handedBackEarlier = (state: ConversationLifecycle, handoffId: string): boolean =>
  (state.humanStretches ?? []).some((s) => s.handoffId === handoffId && s.ended === 'handed_back');

/**
 * What an event means for the current assignment, or undefined when nothing
 * is to be done. `before` is the router's state of the conversation before
 * the event; without a snapshot of the handoff (a redelivery after the
 * snapshot was lost) nothing is known to be undone, so nothing is.
 */
export function lifecycleStep(
  event: ConversationEvent,
  before: ConversationLifecycle,
  after: ConversationLifecycle,
  policy: Pick<RoutingPolicy, 'acceptWithinSeconds'>,
): LifecycleStep | undefined {
  const { payload } = event;
  const h = before.handoff;
  if (!h) return undefined;
  switch (payload.case) {
    case 'agentAssigned': {
      const a = payload.value;
      const agent: AssignedTo = {
        agentId: a.agentId,
        agentName: a.agentName,
        team: a.team,
        assignedAt: event.occurredAt,
      };
      if (h.handoffId !== a.handoffId)
        return {
          kind: 'lateAssignment',
          handoffId: a.handoffId,
          agent,
          reason: handedBackEarlier(before, a.handoffId) ? 'handed_back' : 'resolved',
        };
      if (h.handedBackAt)
        return { kind: 'lateAssignment', handoffId: a.handoffId, agent, reason: 'handed_back' };
      if (!isWithPerson(before))
        return { kind: 'lateAssignment', handoffId: a.handoffId, agent, reason: 'resolved' };
      const acceptBy = acceptDeadline(policy, event.occurredAt);
      if (!acceptBy) return undefined;
      return {
        kind: 'awaitAcceptance',
        handoffId: a.handoffId,
        agentId: a.agentId,
        assignedAt: event.occurredAt,
        acceptBy,
      };
    }
    case 'agentAccepted': {
      const a = payload.value;
      if (h.handoffId !== a.handoffId || before.status !== 'with_human') return undefined;
      if (!h.agent || h.agent.agentId !== a.agentId || h.agent.acceptedAt) return undefined;
      return {
        kind: 'accepted',
        handoffId: h.handoffId,
        agent: assignedTo(h.agent),
        attempt: h.passedBy?.length ?? 0,
      };
    }
    case 'agentDeclined':
    case 'acceptTimedOut': {
      const d = payload.value;
      if (h.handoffId !== d.handoffId || before.status !== 'with_human') return undefined;
      if (!h.agent || h.agent.agentId !== d.agentId) return undefined;
      // Only what the fold let go of: the conversation waits for a person again.
      if (after.status !== 'awaiting_human') return undefined;
      return {
        kind: 'passed',
        handoffId: h.handoffId,
        agent: assignedTo(h.agent),
        reason: payload.case === 'agentDeclined' ? 'declined' : 'timeout',
      };
    }
    case 'reviewCompleted':
      return reviewStep(payload.value, before, after);
    case 'handedBack': {
      const b = payload.value;
      if (h.handoffId !== b.handoffId || isResolved(before) || h.handedBackAt) return undefined;
      return {
        kind: 'handedBack',
        handoffId: h.handoffId,
        ...(h.agent ? { agent: assignedTo(h.agent) } : {}),
        agentName: b.agentName.trim() || h.agent?.agentName.trim() || '',
      };
    }
    default:
      return undefined;
  }
}
