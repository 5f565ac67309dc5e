import { Priority, Resolution, ReviewOutcome, type ConversationEvent } from '@support/contracts';
import {
  conversationEvent,
  evolve,
  fold,
  initialState,
  type ConversationState,
} from '@support/conversation';
import { handoffTarget } from './handoff';
import { lifecycleStep } from './lifecycle';

const C = 'conv-1';
const T0 = '2026-11-21T10:00:00.000Z';
const WITH_ACCEPTANCE = { acceptWithinSeconds: 60 };
const NO_ACCEPTANCE = { acceptWithinSeconds: 0 };

let n = 0;
const ev = <K extends Parameters<typeof conversationEvent>[2]>(
  kind: K,
  value: Parameters<typeof conversationEvent<K>>[3],
  at = T0,
): ConversationEvent => conversationEvent(C, `e${++n}`, kind, value, at);

const received = () =>
  ev('customerMessageReceived', {
    messageId: 'm1',
    channel: 'web',
    externalConversationId: 'ext',
    customerId: 'cust',
    text: 'I need a person',
    locale: 'de',
    pageUrl: '',
    idempotencyKey: 'k1',
    accountId: '',
    sentAt: '',
  });
const requested = (handoffId = 'h1') =>
  ev('handoffRequested', {
    handoffId,
    messageId: 'm1',
    triggers: [],
    priority: Priority.NORMAL,
    requiredSkills: ['billing'],
    language: 'de',
    policyVersion: 'v1',
  });
const assigned = (agentId: string, handoffId = 'h1', at = T0) =>
  ev('agentAssigned', { handoffId, agentId, agentName: `${agentId} name`, team: 'Billing' }, at);
const accepted = (agentId: string) => ev('agentAccepted', { handoffId: 'h1', agentId });
const declined = (agentId: string) =>
  ev('agentDeclined', { handoffId: 'h1', agentId, reason: 'busy' });
const timedOut = (agentId: string) =>
  ev('acceptTimedOut', { handoffId: 'h1', agentId, waitedSeconds: 60 });
const handedBack = (agentId: string, agentName = '') =>
  ev('handedBack', { handoffId: 'h1', agentId, agentName, note: 'refund issued' });
const resolved = () =>
  ev('conversationResolved', { resolution: Resolution.HUMAN, resolvedBy: 'agent', note: '' });

/** Given the events so far, when `event` arrives: the step the router takes. */
function when(
  given: ConversationEvent[],
  event: ConversationEvent,
  policy = WITH_ACCEPTANCE,
): ReturnType<typeof lifecycleStep> {
  const before: ConversationState = fold(C, given);
  return lifecycleStep(event, before, evolve(before, event), policy);
}

const ann = { agentId: 'ann', agentName: 'ann name', team: 'Billing', assignedAt: T0 };

describe('an assignment waiting for the agent to accept', () => {
  it('given a policy that asks for acceptance, when an agent is assigned, then the deadline is kept', () => {
    expect(when([received(), requested()], assigned('ann'))).toEqual({
      kind: 'awaitAcceptance',
      handoffId: 'h1',
      agentId: 'ann',
      assignedAt: T0,
      acceptBy: '2026-11-21T10:01:00.000Z',
    });
  });

  it('given a policy that needs no acceptance, when an agent is assigned, then there is nothing to wait for', () => {
    expect(when([received(), requested()], assigned('ann'), NO_ACCEPTANCE)).toBeUndefined();
  });

  it('when the assigned agent accepts, then the acceptance is followed with the attempt it closes', () => {
    expect(when([received(), requested(), assigned('ann')], accepted('ann'))).toEqual({
      kind: 'accepted',
      handoffId: 'h1',
      agent: ann,
      attempt: 0,
    });
    // The second agent, after the first declined: attempt 1.
    expect(
      when(
        [received(), requested(), assigned('ann'), declined('ann'), assigned('bob')],
        accepted('bob'),
      ),
    ).toEqual(expect.objectContaining({ kind: 'accepted', attempt: 1 }));
  });

  it('given an acceptance already followed, or from an agent who does not hold it, then nothing more', () => {
    const given = [received(), requested(), assigned('ann')];
    expect(when([...given, accepted('ann')], accepted('ann'))).toBeUndefined();
    expect(when(given, accepted('bob'))).toBeUndefined();
    expect(when([...given, resolved()], accepted('ann'))).toBeUndefined();
  });
});

describe('an agent passing on a handoff', () => {
  it('when the assigned agent declines, then they are let go and the handoff routed again', () => {
    expect(when([received(), requested(), assigned('ann')], declined('ann'))).toEqual({
      kind: 'passed',
      handoffId: 'h1',
      agent: ann,
      reason: 'declined',
    });
  });

  it('when the assigned agent did not accept in time, then the same, as a timeout', () => {
    expect(when([received(), requested(), assigned('ann')], timedOut('ann'))).toEqual(
      expect.objectContaining({ kind: 'passed', reason: 'timeout', agent: ann }),
    );
  });

  it('given another agent holds it, or it was passed on already, then a decline changes nothing', () => {
    const given = [received(), requested(), assigned('ann')];
    expect(when(given, declined('bob'))).toBeUndefined();
    expect(when([...given, declined('ann')], timedOut('ann'))).toBeUndefined();
    expect(when([...given, resolved()], declined('ann'))).toBeUndefined();
  });
});

describe('handing back and late assignments', () => {
  it('when the agent hands the conversation back, then they are let go and named to the customer', () => {
    const given = [received(), requested(), assigned('ann'), accepted('ann')];
    expect(when(given, handedBack('ann', 'Ann A.'))).toEqual({
      kind: 'handedBack',
      handoffId: 'h1',
      agent: { ...ann },
      agentName: 'Ann A.',
    });
    // Without a name on the event, the name the assignment had.
    expect(when(given, handedBack('ann'))).toEqual(
      expect.objectContaining({ agentName: 'ann name' }),
    );
    // Handed back once already: the customer is not told twice.
    expect(when([...given, handedBack('ann')], handedBack('ann'))).toBeUndefined();
  });

  it('given a conversation handed back, when an assignment arrives late, then that agent is let go at once', () => {
    const given = [received(), requested(), handedBack('x')];
    expect(when(given, assigned('bob', 'h1', '2026-11-21T10:00:05.000Z'))).toEqual({
      kind: 'lateAssignment',
      handoffId: 'h1',
      agent: {
        agentId: 'bob',
        agentName: 'bob name',
        team: 'Billing',
        assignedAt: '2026-11-21T10:00:05.000Z',
      },
      reason: 'handed_back',
    });
  });

  it('given a resolved conversation, or a newer handoff, when an assignment arrives late, then that agent is let go', () => {
    expect(when([received(), requested(), resolved()], assigned('bob'))).toEqual(
      expect.objectContaining({ kind: 'lateAssignment', reason: 'resolved' }),
    );
    expect(
      when([received(), requested('h1'), resolved(), requested('h2')], assigned('bob', 'h1')),
    ).toEqual(expect.objectContaining({ kind: 'lateAssignment', handoffId: 'h1' }));
  });

  it('given no snapshot of the handoff (a redelivery after the snapshot was lost), then nothing is undone', () => {
    const event = assigned('ann');
    expect(
      lifecycleStep(event, initialState(C), evolve(initialState(C), event), WITH_ACCEPTANCE),
    ).toBe(undefined);
  });
});

describe('a review', () => {
  const review = () =>
    ev('reviewRequested', {
      reviewId: 'h1',
      messageId: 'm1',
      replyId: 'r1',
      text: 'Go to Billing.',
      confidence: 0.85,
      requiredSkills: ['billing'],
      language: 'de',
    });
  const decided = (outcome: ReviewOutcome, agentId = 'ag-1') =>
    ev('reviewCompleted', {
      reviewId: 'h1',
      messageId: 'm1',
      outcome,
      text: 'Go to Billing.',
      agentId,
    });
  const pending = () => fold(C, [received(), review(), assigned('ag-1')]);
  const step = (event: ConversationEvent, before: ConversationState) =>
    lifecycleStep(event, before, evolve(before, event), WITH_ACCEPTANCE);

  it('is routed as a handoff that announces nobody (handoffTarget.review)', () => {
    expect(handoffTarget(fold(C, [received(), review()]), 'corr')).toMatchObject({
      handoffId: 'h1',
      requiredSkills: ['billing'],
      review: true,
    });
  });

  it('given an approval or an edit by the reviewer, then the reviewer is let go', () => {
    for (const outcome of [ReviewOutcome.APPROVED, ReviewOutcome.EDITED])
      expect(step(decided(outcome), pending())).toMatchObject({
        kind: 'reviewed',
        handoffId: 'h1',
        agent: { agentId: 'ag-1' },
      });
  });

  it("given a take-over, then it is the reviewer's, and a handoff from then on", () => {
    const before = pending();
    const event = decided(ReviewOutcome.TAKEN_OVER);
    expect(step(event, before)).toMatchObject({ kind: 'takenOver', agent: { agentId: 'ag-1' } });
    expect(handoffTarget(evolve(before, event), 'corr')?.review).toBe(false);
  });

  it('given a decision by someone else, or a second one, then nothing', () => {
    expect(step(decided(ReviewOutcome.APPROVED, 'ag-2'), pending())).toBeUndefined();
    const done = evolve(pending(), decided(ReviewOutcome.APPROVED));
    expect(step(decided(ReviewOutcome.EDITED), done)).toBeUndefined();
  });
});
