import { Priority, Resolution, type ConversationEvent } from '@support/contracts';
import { conversationEvent, type PayloadInitOf } from './events';
import { evolve } from './evolve';
import { lifecycleProjection } from './projection';
import { initialState, type ConversationState } from './state';

const C = 'conv-1';
let clock = 0;
const at = () => new Date(Date.UTC(2026, 0, 1, 9, 0, clock++)).toISOString();
let ids = 0;
const ev = <K extends Parameters<typeof conversationEvent>[2]>(
  kind: K,
  value: PayloadInitOf<K>,
): ConversationEvent => conversationEvent(C, `e-${ids++}`, kind, value as never, at());

const received = (id: string, text: string) =>
  ev('customerMessageReceived', {
    messageId: id,
    channel: 'web',
    externalConversationId: 'ext-1',
    customerId: 'cust-1',
    text,
    locale: 'en',
    pageUrl: '/billing',
    idempotencyKey: id,
    accountId: 'acct-1',
    sentAt: '',
  });

/** A conversation through the AI, a handoff passed on and taken, a handback, a resolution, a rating and a reopening. */
function lifecycleLog(): ConversationEvent[] {
  const h = { handoffId: 'ho-1' };
  return [
    received('m1', 'How do I export my invoices?'),
    ev('aiReplyProposed', {
      messageId: 'm1',
      replyId: 'r1',
      text: 'Open Billing.',
      confidence: 0.9,
      topic: 'billing',
      intent: 'billing_question',
    }),
    ev('messageScored', { messageId: 'm1', valence: 0.1, label: 'neutral', signals: [] }),
    ev('aiReplyReleased', {
      messageId: 'm1',
      replyId: 'r1',
      text: 'Open Billing.',
      confidence: 0.9,
      citations: [],
    }),
    received('m2', 'This is useless, I want a person'),
    ev('messageScored', {
      messageId: 'm2',
      valence: -0.7,
      label: 'negative',
      signals: ['frustration'],
    }),
    ev('handoffRequested', {
      ...h,
      messageId: 'm2',
      triggers: [{ rule: 'explicit_human_request', detail: 'asked', value: 1, threshold: 1 }],
      priority: Priority.HIGH,
      requiredSkills: ['billing'],
      language: 'en',
      policyVersion: 'v1',
    }),
    ev('handoffQueued', {
      ...h,
      queue: 'billing',
      position: 1,
      estimatedWaitSeconds: 60,
      team: '',
    }),
    ev('agentAssigned', { ...h, agentId: 'ag-1', agentName: 'Ada', team: 'Support' }),
    ev('agentDeclined', { ...h, agentId: 'ag-1', reason: 'busy', actionId: 'act-1' }),
    ev('agentAssigned', { ...h, agentId: 'ag-2', agentName: 'Bo', team: 'Support' }),
    ev('agentAccepted', { ...h, agentId: 'ag-2', actionId: 'act-2' }),
    ev('agentReplied', {
      ...h,
      agentId: 'ag-2',
      agentName: 'Bo',
      messageId: 'am-1',
      text: 'Done: exported.',
    }),
    ev('handedBack', { ...h, agentId: 'ag-2', agentName: 'Bo', note: 'exported for them' }),
    received('m3', 'Thanks, all good'),
    ev('conversationResolved', { resolution: Resolution.AI, resolvedBy: 'customer', note: '' }),
    ev('csatRequested', { requestId: 'csat-1', channel: 'web' }),
    ev('csatRated', { requestId: 'csat-1', score: 5, comment: 'quick' }),
    received('m4', 'One more question about invoices'),
  ];
}

const withoutText = (s: ConversationState) => {
  const { messages, transcript, ...rest } = s;
  void messages;
  void transcript;
  return rest;
};

describe('the lifecycle projection (the conversation without its text)', () => {
  it('given a whole lifecycle, then after every event it holds what the whole conversation holds but the text', () => {
    const log = lifecycleLog();
    let whole = initialState(C);
    let lifecycle = lifecycleProjection.initial(C);
    for (const event of log) {
      whole = evolve(whole, event);
      lifecycle = lifecycleProjection.evolve(lifecycle, event);
      expect({ after: event.payload.case, state: lifecycle }).toEqual({
        after: event.payload.case,
        state: withoutText(whole),
      });
    }
    expect(lifecycle.status).toBe('reopened');
    expect(lifecycle.handoff?.agent?.agentId).toBe('ag-2');
    expect(lifecycle.csat?.score).toBe(5);
    expect(lifecycle).not.toHaveProperty('messages');
    expect(lifecycle).not.toHaveProperty('transcript');
  });

  it('given events delivered again, then the state is the same object (nothing to react to)', () => {
    const log = lifecycleLog();
    const state = log.reduce(lifecycleProjection.evolve, lifecycleProjection.initial(C));
    for (const event of log.slice(-5)) expect(lifecycleProjection.evolve(state, event)).toBe(state);
  });

  it('given the same log, then its snapshot is a fraction of the whole one', () => {
    const log = lifecycleLog();
    const whole = JSON.stringify(log.reduce(evolve, initialState(C)));
    const lifecycle = JSON.stringify(
      log.reduce(lifecycleProjection.evolve, lifecycleProjection.initial(C)),
    );
    expect(lifecycle.length).toBeLessThan(whole.length * 0.75);
  });
});
