import { Priority, ReviewOutcome } from '@support/contracts';
import { deskActionBreach } from './desk-rules';
import { conversationEvent } from './events';
import { fold } from './evolve';
import { isBotActive, isPendingReview, lastHandbackAt } from './state';

const C = 'conv-r';
const t = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`;

const received = conversationEvent(
  C,
  'e-m1',
  'customerMessageReceived',
  { messageId: 'm1', channel: 'web', externalConversationId: 'x', customerId: 'c', text: 'How?' },
  t(1),
);
const requested = conversationEvent(
  C,
  'e-rr',
  'reviewRequested',
  {
    reviewId: 'rv-1',
    messageId: 'm1',
    replyId: 'rep-1',
    text: 'Open Settings, then Billing.',
    confidence: 0.84,
    citations: [{ articleId: 'kb-1', title: 'Billing', snippet: 's', score: 1 }],
    triggers: [{ rule: 'review_band', detail: 'in the band', value: 0.84, threshold: 0.8 }],
    priority: Priority.NORMAL,
    requiredSkills: ['billing'],
    language: 'en',
    team: 'Billing',
    policyVersion: 'p@1',
  },
  t(2),
);
const assigned = conversationEvent(
  C,
  'e-as',
  'agentAssigned',
  { handoffId: 'rv-1', agentId: 'ag-1', agentName: 'Ada', team: 'Billing' },
  t(3),
);
const completed = (outcome: ReviewOutcome, text = '', agentId = 'ag-1') =>
  conversationEvent(
    C,
    `e-rc-${outcome}-${agentId}`,
    'reviewCompleted',
    { reviewId: 'rv-1', messageId: 'm1', outcome, text, agentId, agentName: 'Ada' },
    t(4),
  );

describe('the fold of a review', () => {
  it('given a customer message, when a review is requested, then a person is awaited with the draft and no handoff is counted', () => {
    const s = fold(C, [received, requested]);
    expect(s.status).toBe('awaiting_human');
    expect(isBotActive(s)).toBe(false);
    expect(s.handoffCount).toBe(0);
    expect(s.handoff).toMatchObject({
      handoffId: 'rv-1',
      requiredSkills: ['billing'],
      team: 'Billing',
      review: { text: 'Open Settings, then Billing.', replyId: 'rep-1', outcome: 'pending' },
    });
    expect(s.messages[0].decision).toEqual({ kind: 'review', at: t(2), review: 'pending' });
    expect(isPendingReview(fold(C, [received, requested, assigned]))).toBe(true);
  });

  it('given an assigned review, when the reviewer edits it, then the edit is the answer and the AI carries on', () => {
    const s = fold(C, [received, requested, assigned, completed(ReviewOutcome.EDITED, 'Edited.')]);
    expect(s.status).toBe('ai_handling');
    expect(s.handoff?.review).toMatchObject({ outcome: 'edited', finalText: 'Edited.' });
    expect(s.handoff?.reviewedAt).toBe(t(4));
    expect(s.messages[0].decision).toEqual({ kind: 'released', at: t(4), review: 'edited' });
    expect(s.transcript.at(-1)).toMatchObject({ speaker: 'ai', text: 'Edited.' });
    expect(s.humanStretches?.at(-1)).toMatchObject({ ended: 'reviewed', to: t(4) });
    // A review is not a handback: the rules' history is not cut there.
    expect(lastHandbackAt(s)).toBe('');
    expect(isPendingReview(s)).toBe(false);
  });

  it('given an assigned review, when the reviewer takes it over, then it is a handoff they hold, accepted', () => {
    const s = fold(C, [received, requested, assigned, completed(ReviewOutcome.TAKEN_OVER)]);
    expect(s.status).toBe('with_human');
    expect(s.handoffCount).toBe(1);
    expect(s.handoff?.agent?.acceptedAt).toBe(t(4));
    expect(s.handoff?.review?.outcome).toBe('taken_over');
    expect(s.messages[0].decision).toEqual({ kind: 'handoff', at: t(4), review: 'taken_over' });
  });

  it('ignores a decision by someone who does not hold the review, or before anyone does', () => {
    const other = fold(C, [
      received,
      requested,
      assigned,
      completed(ReviewOutcome.APPROVED, 'x', 'ag-2'),
    ]);
    expect(other.handoff?.review?.outcome).toBe('pending');
    const early = fold(C, [received, requested, completed(ReviewOutcome.APPROVED, 'x')]);
    expect(early.handoff?.review?.outcome).toBe('pending');
  });
});

describe('the desk rules of a review', () => {
  const pending = fold(C, [received, requested, assigned]);
  const rule = (kind: Parameters<typeof deskActionBreach>[1]['kind'], s = pending) =>
    deskActionBreach(s, { handoffId: 'rv-1', agentId: 'ag-1', kind })?.rule;

  it('lets the reviewer decide, accept or decline, but not reply, hand back or resolve first', () => {
    expect(rule('review')).toBeUndefined();
    expect(rule('accept')).toBeUndefined();
    expect(rule('decline')).toBeUndefined();
    expect(rule('reply')).toBe('review_pending');
    expect(rule('resolve')).toBe('review_pending');
    expect(rule('handBack')).toBe('review_pending');
  });

  it('refuses a second decision, and a review of a plain handoff', () => {
    const done = fold(C, [received, requested, assigned, completed(ReviewOutcome.APPROVED, 'ok')]);
    expect(rule('review', done)).toBe('with_human');
    const taken = fold(C, [received, requested, assigned, completed(ReviewOutcome.TAKEN_OVER)]);
    expect(rule('review', taken)).toBe('review_pending');
    expect(rule('reply', taken)).toBeUndefined();
  });
});
