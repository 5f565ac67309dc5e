import { ReviewOutcome, type ConversationEvent } from '@support/contracts';

/**
 * The reviews of the metrics read model: one row per review of an AI draft
 * (ReviewRequested), with how and when the reviewer decided. Pure: the live
 * consumer and the rebuild fold the same way.
 */
export interface ReviewRow {
  reviewId: string;
  conversationId: string;
  requestedAt: Date;
  rules: string[];
  policyVersion: string;
  topic: string;
  assignedAt: Date | null;
  /** '' while pending; approved (sent unchanged), edited, taken_over (became a handoff). */
  outcome: '' | 'approved' | 'edited' | 'taken_over';
  completedAt: Date | null;
}

const OUTCOMES: Partial<Record<ReviewOutcome, ReviewRow['outcome']>> = {
  [ReviewOutcome.APPROVED]: 'approved',
  [ReviewOutcome.EDITED]: 'edited',
  [ReviewOutcome.TAKEN_OVER]: 'taken_over',
};

/** The conversation's reviews after one event, or undefined when the event changes none. */
export function applyReviewEvent(
  reviews: Record<string, ReviewRow>,
  event: ConversationEvent,
  at: Date,
  topic: string,
): Record<string, ReviewRow> | undefined {
  const p = event.payload;
  if (p.case === 'reviewRequested') {
    const r = p.value;
    if (!r.reviewId || reviews[r.reviewId]) return undefined;
    return {
      ...reviews,
      [r.reviewId]: {
        reviewId: r.reviewId,
        conversationId: event.conversationId,
        requestedAt: at,
        rules: [...new Set(r.triggers.map((t) => t.rule))],
        policyVersion: r.policyVersion,
        topic: topic || r.briefing?.topic || '',
        assignedAt: null,
        outcome: '',
        completedAt: null,
      },
    };
  }
  const id =
    p.case === 'agentAssigned'
      ? p.value.handoffId
      : p.case === 'reviewCompleted'
        ? p.value.reviewId
        : '';
  const known = id ? reviews[id] : undefined;
  if (!known) return undefined;
  if (p.case === 'agentAssigned')
    return known.assignedAt ? undefined : { ...reviews, [id]: { ...known, assignedAt: at } };
  const outcome = p.case === 'reviewCompleted' ? OUTCOMES[p.value.outcome] : undefined;
  if (!outcome || known.outcome) return undefined;
  return { ...reviews, [id]: { ...known, outcome, completedAt: at } };
}
