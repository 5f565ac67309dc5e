import {
  create,
  DeskActionSchema,
  OutboundKind,
  ReviewOutcome,
  type ConversationEvent,
} from '@support/contracts';
import { conversationEvent, evolve, fold } from '@support/conversation';
import { decideDeskAction } from './desk-actions';
import { reviewReplyMessageId } from './review-action';

const C = 'conv-r';
const t = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`;
const log: ConversationEvent[] = [
  conversationEvent(
    C,
    'e1',
    'customerMessageReceived',
    { messageId: 'm1', channel: 'web', externalConversationId: 'x', customerId: 'c', text: 'How?' },
    t(1),
  ),
  conversationEvent(
    C,
    'e2',
    'reviewRequested',
    {
      reviewId: 'rv-1',
      messageId: 'm1',
      replyId: 'rep-1',
      text: 'The AI draft.',
      confidence: 0.85,
      citations: [{ articleId: 'kb-1', title: 'Billing' }],
      requiredSkills: ['billing'],
      language: 'en',
    },
    t(2),
  ),
  conversationEvent(
    C,
    'e3',
    'agentAssigned',
    { handoffId: 'rv-1', agentId: 'ag-1', agentName: 'Ada', team: 'Billing' },
    t(3),
  ),
];
const pending = fold(C, log);
const review = (outcome: ReviewOutcome, text = '', agentId = 'ag-1') =>
  create(DeskActionSchema, {
    actionId: `act-${outcome}`,
    conversationId: C,
    handoffId: 'rv-1',
    agentId,
    agentName: 'Ada',
    action: { case: 'review', value: { outcome, text } },
  });

describe('a review decided at a desk', () => {
  it('given an approval, appends ReviewCompleted and sends the AI draft as the AI reply', () => {
    const d = decideDeskAction(review(ReviewOutcome.APPROVED), pending, t(9));
    if (d.kind !== 'append') throw new Error(d.kind);
    expect(d.event.payload).toMatchObject({
      case: 'reviewCompleted',
      value: {
        reviewId: 'rv-1',
        messageId: 'm1',
        outcome: ReviewOutcome.APPROVED,
        text: 'The AI draft.',
        agentId: 'ag-1',
        replyId: 'rep-1',
        outboundMessageId: reviewReplyMessageId('rv-1'),
      },
    });
    expect(d.outbound).toMatchObject({
      messageId: reviewReplyMessageId('rv-1'),
      kind: OutboundKind.AI_REPLY,
      text: 'The AI draft.',
      inReplyTo: 'm1',
      citations: [expect.objectContaining({ articleId: 'kb-1' })],
    });
    expect(evolve(pending, d.event).status).toBe('ai_handling');
  });

  it('given an edit, sends the edited text', () => {
    const d = decideDeskAction(review(ReviewOutcome.EDITED, '  Edited answer. '), pending, t(9));
    if (d.kind !== 'append') throw new Error(d.kind);
    expect(d.outbound?.text).toBe('Edited answer.');
    expect(d.event.payload.value).toMatchObject({ text: 'Edited answer.' });
  });

  it('given a take-over, sends nothing and the reviewer holds a handoff', () => {
    const d = decideDeskAction(review(ReviewOutcome.TAKEN_OVER), pending, t(9));
    if (d.kind !== 'append') throw new Error(d.kind);
    expect(d.outbound).toBeUndefined();
    expect(evolve(pending, d.event).handoff?.agent?.acceptedAt).toBe(t(9));
  });

  it('refuses an edit without text, no outcome, someone else, or a second decision', () => {
    const reason = (d: ReturnType<typeof decideDeskAction>) =>
      d.kind === 'reject' ? `${d.rejection.field} ${d.rejection.rule}` : d.kind;
    expect(reason(decideDeskAction(review(ReviewOutcome.EDITED, ' '), pending, t(9)))).toBe(
      'review.text length',
    );
    expect(reason(decideDeskAction(review(ReviewOutcome.UNSPECIFIED), pending, t(9)))).toBe(
      'review.outcome required',
    );
    expect(
      reason(decideDeskAction(review(ReviewOutcome.APPROVED, '', 'ag-2'), pending, t(9))),
    ).toBe('agentId holder');
    const first = decideDeskAction(review(ReviewOutcome.APPROVED), pending, t(9));
    if (first.kind !== 'append') throw new Error(first.kind);
    const done = evolve(pending, first.event);
    expect(reason(decideDeskAction(review(ReviewOutcome.EDITED, 'again'), done, t(10)))).toBe(
      'conversationId with_human',
    );
  });
});
