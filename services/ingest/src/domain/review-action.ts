/**
 * A reviewer's decision on the AI's draft (DeskAction.Review): its own
 * checks, and what it appends: ReviewCompleted, and for an approval or an
 * edit the reply to the customer as the AI's answer (the draft, or the
 * edited text). A take-over sends nothing: the reviewer holds the
 * conversation as a handoff from then on. Pure: no I/O.
 */
import { deterministicId } from '@support/bus';
import {
  create,
  OutboundKind,
  OutboundMessageSchema,
  ReviewOutcome,
  type ConversationEvent,
  type DeskAction_Review,
  type FieldIssue,
  type OutboundMessage,
} from '@support/contracts';
import { conversationEvent, type ConversationState } from '@support/conversation';

const MAX_TEXT = 5000;

/** The id of the reply a review sends (once per review, whatever the action). */
export const reviewReplyMessageId = (reviewId: string) => deterministicId('review-reply', reviewId);

/** The Review's own fields: an outcome, and for an edit the text (1..5000 once trimmed). */
export function reviewIssues(review: DeskAction_Review): FieldIssue[] {
  if (!ReviewOutcome[review.outcome] || review.outcome === ReviewOutcome.UNSPECIFIED)
    return [
      {
        field: 'review.outcome',
        rule: 'required',
        message:
          'must be REVIEW_OUTCOME_APPROVED, REVIEW_OUTCOME_EDITED or REVIEW_OUTCOME_TAKEN_OVER',
      },
    ];
  const length = review.text.trim().length;
  if (review.outcome === ReviewOutcome.EDITED && (length < 1 || length > MAX_TEXT))
    return [
      {
        field: 'review.text',
        rule: 'length',
        message: `an edited draft must be 1 to ${MAX_TEXT} characters once trimmed (was ${length})`,
      },
    ];
  return [];
}

/** ReviewCompleted for the pending review of `state` (checked by the desk rules before), and the reply. */
export function reviewDecision(
  state: ConversationState,
  review: DeskAction_Review,
  who: { eventId: string; actionId: string; agentId: string; agentName: string },
  at: string,
): { event: ConversationEvent; outbound?: OutboundMessage } {
  const h = state.handoff!;
  const draft = h.review!;
  const sends = review.outcome !== ReviewOutcome.TAKEN_OVER;
  const text = review.outcome === ReviewOutcome.EDITED ? review.text.trim() : draft.text;
  const messageId = reviewReplyMessageId(h.handoffId);
  const event = conversationEvent(
    state.conversationId,
    who.eventId,
    'reviewCompleted',
    {
      reviewId: h.handoffId,
      messageId: draft.messageId,
      outcome: review.outcome,
      text: sends ? text : '',
      agentId: who.agentId,
      agentName: who.agentName,
      actionId: who.actionId,
      replyId: draft.replyId,
      outboundMessageId: sends ? messageId : '',
    },
    at,
  );
  if (!sends) return { event };
  const outbound = create(OutboundMessageSchema, {
    messageId,
    conversationId: state.conversationId,
    channel: state.channel,
    externalConversationId: state.externalConversationId,
    customerId: state.customerId,
    kind: OutboundKind.AI_REPLY,
    text,
    citations: draft.citations.map((c) => ({ ...c })),
    inReplyTo: draft.messageId,
    sentAt: at,
    author: 'AI assistant',
  });
  return { event, outbound };
}
