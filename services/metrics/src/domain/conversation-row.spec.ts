import { Priority, Resolution, type ConversationEvent } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { applyEvent, invalidReason, type ConversationRow } from './conversation-row';

const C = 'conv-1';
const t = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`;
const fallback = new Date('2030-01-01T00:00:00Z');

const received = (n: number) =>
  conversationEvent(
    C,
    `m${n}`,
    'customerMessageReceived',
    {
      messageId: `m${n}`,
      channel: 'email',
      externalConversationId: 'x',
      customerId: 'c',
      text: 'hi',
      locale: 'en',
      pageUrl: '',
      idempotencyKey: `k${n}`,
      accountId: '',
      sentAt: '',
    },
    t(n),
  );
const released = (n: number) =>
  conversationEvent(
    C,
    `r${n}`,
    'aiReplyReleased',
    { messageId: 'm', replyId: `r${n}`, text: 'a', confidence: 0.9, citations: [] },
    t(n),
  );
const handoff = (n: number) =>
  conversationEvent(
    C,
    `h${n}`,
    'handoffRequested',
    {
      handoffId: `h${n}`,
      messageId: 'm',
      triggers: [],
      priority: Priority.NORMAL,
      requiredSkills: [],
      language: 'en',
      policyVersion: 'v1',
    },
    t(n),
  );
const assigned = (n: number) =>
  conversationEvent(
    C,
    `a${n}`,
    'agentAssigned',
    { handoffId: 'h', agentId: 'ag', agentName: 'A', team: 'T' },
    t(n),
  );
const resolved = (n: number, resolution: Resolution) =>
  conversationEvent(
    C,
    `x${n}`,
    'conversationResolved',
    { resolution, resolvedBy: 'c', note: '' },
    t(n),
  );

const run = (events: ConversationEvent[]) =>
  events.reduce<ConversationRow | undefined>(
    (row, e) => applyEvent(row, e, fallback) ?? row,
    undefined,
  );

describe('metrics row per conversation', () => {
  it('given a first customer message, then a conversation row starts with its channel and time', () => {
    expect(run([received(1)])).toEqual(
      expect.objectContaining({
        conversationId: C,
        channel: 'email',
        startedAt: new Date(t(1)),
        status: 'ai_handling',
        aiReplies: 0,
        handoffs: 0,
      }),
    );
  });

  it('given AI replies and a resolution, then it counts replies and an AI resolution', () => {
    const row = run([
      received(1),
      released(2),
      received(3),
      released(4),
      resolved(5, Resolution.AI),
    ]);
    expect(row).toEqual(
      expect.objectContaining({
        aiReplies: 2,
        status: 'resolved_by_ai',
        resolvedAs: 'ai',
        resolvedAt: new Date(t(5)),
      }),
    );
  });

  it('given two handoffs and an assignment, then it keeps the first handoff and assignment times', () => {
    const row = run([
      received(1),
      handoff(2),
      assigned(3),
      resolved(4, Resolution.HUMAN),
      received(5),
      handoff(6),
      assigned(7),
    ]);
    expect(row).toEqual(
      expect.objectContaining({
        handoffs: 2,
        firstHandoffAt: new Date(t(2)),
        assignedAt: new Date(t(3)),
        status: 'with_human',
        reopened: 1,
        resolvedAs: null,
      }),
    );
  });

  it('given a resolved conversation, when the customer writes again, then it is reopened and no longer resolved', () => {
    const row = run([received(1), resolved(2, Resolution.AI), received(3)]);
    expect(row).toEqual(
      expect.objectContaining({
        status: 'reopened',
        reopened: 1,
        resolvedAs: null,
        resolvedAt: null,
      }),
    );
  });

  it('given an event the read model does not count, then nothing changes', () => {
    const row = run([received(1)]);
    const scored = conversationEvent(
      C,
      's',
      'messageScored',
      { messageId: 'm1', valence: 0, label: 'neutral', signals: [] },
      t(2),
    );
    expect(applyEvent(row, scored, fallback)).toBeUndefined();
  });

  it('uses the fallback time when occurred_at is missing', () => {
    const e = received(1);
    e.occurredAt = '';
    expect(applyEvent(undefined, e, fallback)?.startedAt).toEqual(fallback);
  });

  it('names what is missing from an unusable event', () => {
    expect(
      invalidReason(conversationEvent('', 'e', 'handoffQueued', { handoffId: 'h', queue: 'q' })),
    ).toMatch(/conversation_id/);
    expect(invalidReason(received(1))).toBeUndefined();
  });
});
