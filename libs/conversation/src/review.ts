import {
  ReviewOutcome,
  type Citation,
  type ReviewCompleted,
  type ReviewRequested,
} from '@support/contracts';
import type {
  ConversationState,
  HumanStretch,
  MessageView,
  ReviewOutcomeView,
  TranscriptLine,
} from './state.js';

/**
 * The fold of the review events: a review is a handoff whose handoff view
 * carries the AI's draft (`handoff.review`), so the router routes it, desks
 * show it and the same desk rules hold; the reviewer's decision either sends
 * the draft (as is or edited) and gives the conversation back to the AI, or
 * makes the review a handoff they hold. Pure; called by `evolve`.
 */

export const REVIEW_OUTCOMES: Record<ReviewOutcome, ReviewOutcomeView | undefined> = {
  [ReviewOutcome.UNSPECIFIED]: undefined,
  [ReviewOutcome.APPROVED]: 'approved',
  [ReviewOutcome.EDITED]: 'edited',
  [ReviewOutcome.TAKEN_OVER]: 'taken_over',
};

const citationViews = (list: Citation[]) =>
  list.map((c) => ({ articleId: c.articleId, title: c.title, snippet: c.snippet, score: c.score }));

function setDecision(
  messages: MessageView[],
  messageId: string,
  decision: MessageView['decision'],
): MessageView[] {
  return messages.map((m) => (m.messageId === messageId ? { ...m, decision } : m));
}

/** ReviewRequested: the conversation awaits a person, who is to check the draft (not a handoff yet). */
export function reviewRequested(
  state: ConversationState,
  base: ConversationState,
  r: ReviewRequested,
  at: string,
): ConversationState {
  return {
    ...base,
    status: 'awaiting_human',
    messages: setDecision(state.messages, r.messageId, { kind: 'review', at, review: 'pending' }),
    handoff: {
      handoffId: r.reviewId,
      messageId: r.messageId,
      requestedAt: at,
      triggers: r.triggers.map((t) => ({
        rule: t.rule,
        detail: t.detail,
        value: t.value,
        threshold: t.threshold,
      })),
      priority: r.priority,
      requiredSkills: [...r.requiredSkills],
      language: r.language,
      ...(r.team ? { team: r.team } : {}),
      summary: r.briefing?.summary ?? '',
      summaryGenerator: r.briefing?.summaryGenerator || 'extractive',
      review: {
        messageId: r.messageId,
        replyId: r.replyId,
        text: r.text,
        confidence: r.confidence,
        citations: citationViews(r.citations),
        policyVersion: r.policyVersion,
        outcome: 'pending',
        finalText: '',
        completedAt: '',
        reviewerId: '',
      },
    },
  };
}

function endReviewStretch(stretches: HumanStretch[] | undefined, at: string) {
  const last = stretches?.at(-1);
  if (!stretches || !last || last.to) return stretches;
  return [...stretches.slice(0, -1), { ...last, to: at, ended: 'reviewed' as const }];
}

function inTimeOrder(lines: TranscriptLine[], line: TranscriptLine): TranscriptLine[] {
  let i = lines.length;
  while (i > 0 && line.at && lines[i - 1].at > line.at) i--;
  return [...lines.slice(0, i), line, ...lines.slice(i)];
}

/**
 * ReviewCompleted, for the pending review of the current handoff held by the
 * reviewer: approved or edited sends the text (the AI carries on); taken over
 * makes it a handoff the reviewer holds, accepted.
 */
export function reviewCompleted(
  state: ConversationState,
  base: ConversationState,
  c: ReviewCompleted,
  at: string,
): ConversationState {
  const h = state.handoff;
  const outcome = REVIEW_OUTCOMES[c.outcome];
  if (!h?.review || h.handoffId !== c.reviewId || h.review.outcome !== 'pending' || !outcome)
    return base;
  if (state.status !== 'with_human' || h.agent?.agentId !== c.agentId) return base;
  const review = {
    ...h.review,
    outcome,
    finalText: outcome === 'taken_over' ? '' : c.text,
    completedAt: at,
    reviewerId: c.agentId,
  };
  const messageId = h.review.messageId;
  if (outcome === 'taken_over')
    return {
      ...base,
      handoffCount: state.handoffCount + 1,
      messages: setDecision(state.messages, messageId, { kind: 'handoff', at, review: outcome }),
      handoff: { ...h, review, agent: { ...h.agent!, acceptedAt: h.agent!.acceptedAt ?? at } },
    };
  return {
    ...base,
    status: 'ai_handling',
    messages: setDecision(state.messages, messageId, { kind: 'released', at, review: outcome }),
    handoff: { ...h, review, reviewedAt: at },
    humanStretches: endReviewStretch(state.humanStretches, at),
    transcript: inTimeOrder(state.transcript, {
      speaker: 'ai',
      text: c.text,
      at,
      ...(outcome === 'edited' ? { author: c.agentName || c.agentId } : {}),
    }),
  };
}
