import type { ConversationState } from './state.js';
import { isResolved } from './state.js';

/** What an agent can do at a desk (the DeskAction oneof's cases). */
export type DeskActionKind =
  | 'accept'
  | 'decline'
  | 'reply'
  | 'handBack'
  | 'resolve'
  | 'markFalseEscalation'
  | 'proposeArticle'
  | 'review';

/** Why an agent's action does not fit the conversation: the field, the rule and a sentence. */
export interface DeskBreach {
  field: 'conversationId' | 'handoffId' | 'agentId' | 'action';
  rule:
    | 'known_conversation'
    | 'current_handoff'
    | 'held_handoff'
    | 'open'
    | 'with_human'
    | 'holder'
    | 'not_accepted'
    | 'review_pending';
  message: string;
  /**
   * The state may only be behind the log (the conversation, handoff or
   * assignment named may not have reached it yet): worth checking again.
   */
  mayCatchUp: boolean;
}

/** Whether the agent holds, or held, this handoff. */
function heldBy(state: ConversationState, handoffId: string, agentId: string): boolean {
  return (
    state.handoff?.agent?.agentId === agentId ||
    (state.humanStretches ?? []).some((s) => s.handoffId === handoffId && s.agentId === agentId)
  );
}

const breach = (
  field: DeskBreach['field'],
  rule: DeskBreach['rule'],
  message: string,
  mayCatchUp = false,
): DeskBreach => ({ field, rule, message, mayCatchUp });

/**
 * A review (a handoff carrying the AI's draft) is decided first: while it is
 * pending, the reviewer approves, edits or takes it over (accept and decline
 * as for any offer); a review action needs a pending review.
 */
function reviewRule(pending: boolean, kind: DeskActionKind): DeskBreach | undefined {
  if (kind === 'review' && !pending)
    return breach('action', 'review_pending', 'the handoff has no review waiting for a decision');
  if (pending && (kind === 'reply' || kind === 'handBack' || kind === 'resolve'))
    return breach(
      'action',
      'review_pending',
      'the AI draft waits for review: approve it, edit it or take the conversation over first',
    );
  return undefined;
}

/**
 * The rules of the desk, shared by ingest (which appends the action's event)
 * and the desk (which answers 409 at once): the handoff must be the
 * conversation's current one; marking a false escalation or proposing an
 * article is for an agent who holds or held it, also after the end; anything
 * else only for the agent it is assigned to while a person has the
 * conversation, and accept or decline only before they accepted.
 */
export function deskActionBreach(
  state: ConversationState,
  action: { handoffId: string; agentId: string; kind: DeskActionKind },
): DeskBreach | undefined {
  if (state.status === 'new')
    return breach('conversationId', 'known_conversation', 'no such conversation in the log', true);
  const h = state.handoff;
  if (!h) return breach('handoffId', 'current_handoff', 'the conversation has no handoff', true);
  if (h.handoffId !== action.handoffId) {
    // A handoff a person held before is known to be past; any other may be one the state has not seen yet.
    const past = (state.humanStretches ?? []).some((s) => s.handoffId === action.handoffId);
    return breach(
      'handoffId',
      'current_handoff',
      past
        ? 'is an earlier handoff of the conversation, not its current one'
        : 'is not the current handoff of the conversation',
      !past,
    );
  }
  const { agentId, kind } = action;
  if (kind === 'markFalseEscalation' || kind === 'proposeArticle')
    return heldBy(state, h.handoffId, agentId)
      ? undefined
      : breach(
          'agentId',
          'held_handoff',
          'never held this handoff (only its agent, now or before, may do this)',
          true,
        );
  if (isResolved(state))
    return breach('conversationId', 'open', 'the conversation is resolved already');
  if (h.handedBackAt)
    return breach('conversationId', 'with_human', 'the conversation was handed back to the AI');
  if (h.reviewedAt)
    return breach('conversationId', 'with_human', 'the review is done: the AI carries on');
  const reviewBreach = reviewRule(h.review?.outcome === 'pending', kind);
  if (reviewBreach) return reviewBreach;
  const holds = state.status === 'with_human' && h.agent?.agentId === agentId;
  // An agent who let this handoff go is not offered it again; anyone else may be assigned next.
  if (!holds && (h.passedBy ?? []).some((p) => p.agentId === agentId))
    return breach('agentId', 'holder', 'let this handoff go (declined or did not accept in time)');
  if (!h.agent || state.status !== 'with_human')
    return breach('agentId', 'holder', 'the handoff is not assigned to anyone yet', true);
  if (!holds)
    return breach('agentId', 'holder', 'is not the agent the handoff is assigned to', true);
  if ((kind === 'accept' || kind === 'decline') && h.agent.acceptedAt)
    return breach(
      'action',
      'not_accepted',
      kind === 'accept'
        ? `the agent accepted this handoff already (at ${h.agent.acceptedAt})`
        : 'the agent accepted this handoff already: hand it back or resolve it instead',
    );
  return undefined;
}
