import { ReviewOutcome } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { foldEvents } from './read-model';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 9, 0, s)).toISOString();

/** A conversation whose AI answer went to review, and how the reviewer decided. */
function reviewed(id: string, outcome: ReviewOutcome | undefined, decidedAfter = 30) {
  const events = [
    conversationEvent(
      id,
      `${id}-1`,
      'customerMessageReceived',
      { messageId: `${id}-m`, channel: 'web', customerId: 'c', text: 'How?' },
      at(0),
    ),
    conversationEvent(
      id,
      `${id}-2`,
      'reviewRequested',
      {
        reviewId: `${id}-rv`,
        messageId: `${id}-m`,
        text: 'draft',
        triggers: [{ rule: 'review_band' }],
        policyVersion: 'p@1',
      },
      at(1),
    ),
    conversationEvent(
      id,
      `${id}-3`,
      'agentAssigned',
      { handoffId: `${id}-rv`, agentId: 'ag', agentName: 'A', team: 'T' },
      at(2),
    ),
  ];
  if (outcome !== undefined)
    events.push(
      conversationEvent(
        id,
        `${id}-4`,
        'reviewCompleted',
        { reviewId: `${id}-rv`, messageId: `${id}-m`, outcome, agentId: 'ag' },
        at(1 + decidedAfter),
      ),
    );
  return events;
}

describe('reviews in the read model', () => {
  it('given reviews decided each way, keeps one row each with the outcome and when', () => {
    const model = foldEvents([
      ...reviewed('a', ReviewOutcome.APPROVED, 30),
      ...reviewed('b', ReviewOutcome.EDITED, 50),
      ...reviewed('c', ReviewOutcome.TAKEN_OVER),
      ...reviewed('d', undefined),
    ]);
    const byId = Object.fromEntries(model.reviews.map((r) => [r.reviewId, r]));
    expect(byId['a-rv']).toMatchObject({
      conversationId: 'a',
      outcome: 'approved',
      rules: ['review_band'],
      policyVersion: 'p@1',
      requestedAt: new Date(at(1)),
      assignedAt: new Date(at(2)),
      completedAt: new Date(at(31)),
    });
    expect(byId['b-rv'].outcome).toBe('edited');
    expect(byId['c-rv'].outcome).toBe('taken_over');
    expect(byId['d-rv']).toMatchObject({ outcome: '', completedAt: null });
    // A review is not a handoff.
    expect(model.handoffs).toEqual([]);
    expect(model.conversations.map((c) => c.handoffs)).toEqual([0, 0, 0, 0]);
  });

  it('counts a redelivered or second decision once', () => {
    const events = reviewed('a', ReviewOutcome.APPROVED);
    const again = conversationEvent(
      'a',
      'a-5',
      'reviewCompleted',
      { reviewId: 'a-rv', outcome: ReviewOutcome.EDITED, agentId: 'ag' },
      at(59),
    );
    const model = foldEvents([...events, events[3], again]);
    expect(model.reviews).toEqual([
      expect.objectContaining({ outcome: 'approved', completedAt: new Date(at(31)) }),
    ]);
  });
});
