import { Priority, ReviewOutcome } from '@support/contracts';
import { conversationEvent, fold } from '@support/conversation';
import { actionCase, actionInputSchema, refusal } from './actions';
import { draftFor, laneOf, queueItem, reviewOf } from './queue';

const C = 'conv-r';
const at = (n: number) => `2026-01-01T00:00:0${n}Z`;
const pending = fold(C, [
  conversationEvent(
    C,
    'e1',
    'customerMessageReceived',
    { messageId: 'm1', channel: 'web', externalConversationId: 'x', customerId: 'c', text: 'How?' },
    at(1),
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
      triggers: [{ rule: 'review_band' }],
      priority: Priority.NORMAL,
      requiredSkills: ['billing'],
    },
    at(2),
  ),
  conversationEvent(
    C,
    'e3',
    'agentAssigned',
    { handoffId: 'rv-1', agentId: 'ag-1', agentName: 'Ada', team: 'Billing' },
    at(3),
  ),
]);

describe('the review lane', () => {
  it('shows a pending review to its reviewer in the review lane, with the draft', () => {
    expect(laneOf(pending, 'ag-1')).toBe('review');
    expect(laneOf(pending, 'ag-2')).toBe('colleague');
    expect(queueItem(pending, 'ag-1')).toMatchObject({
      lane: 'review',
      review: { text: 'The AI draft.', confidence: 0.85 },
    });
    expect(reviewOf(pending)).toMatchObject({ replyId: 'rep-1', rules: ['review_band'] });
    expect(draftFor(pending)).toBeUndefined();
  });

  it('takes approve, edit (with text) and take_over as a DeskAction.Review', () => {
    const edit = actionInputSchema.parse({
      type: 'review',
      handoffId: 'rv-1',
      outcome: 'edit',
      text: ' Better. ',
    });
    expect(actionCase(edit)).toEqual({
      case: 'review',
      value: { outcome: ReviewOutcome.EDITED, text: 'Better.' },
    });
    const approve = actionInputSchema.parse({
      type: 'review',
      handoffId: 'rv-1',
      outcome: 'approve',
      text: 'x',
    });
    expect(actionCase(approve)).toEqual({
      case: 'review',
      value: { outcome: ReviewOutcome.APPROVED, text: '' },
    });
    const blank = actionInputSchema.safeParse({
      type: 'review',
      handoffId: 'rv-1',
      outcome: 'edit',
    });
    expect(blank.success || blank.error.issues[0].path).toEqual(['text']);
  });

  it('refuses a reply before the review is decided, and a review by someone else', () => {
    const reply = actionInputSchema.parse({ type: 'reply', handoffId: 'rv-1', text: 'hi' });
    expect(refusal(pending, 'ag-1', reply)?.message).toMatch(/waits for your review/);
    const take = actionInputSchema.parse({
      type: 'review',
      handoffId: 'rv-1',
      outcome: 'take_over',
    });
    expect(refusal(pending, 'ag-1', take)).toBeUndefined();
    expect(refusal(pending, 'ag-2', take)?.message).toBe('the conversation is not assigned to you');
  });
});
