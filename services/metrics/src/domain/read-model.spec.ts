import {
  create,
  KnowledgeEventSchema,
  Priority,
  Resolution,
  type ConversationEvent,
  type MessageInitShape,
} from '@support/contracts';
import { conversationEvent, type PayloadInitOf } from '@support/conversation';
import {
  applyConversationEvent,
  foldEvents,
  invalidReason,
  type ConversationState,
} from './read-model';

const C = 'conv-1';
const t = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`;
const fallback = new Date('2030-01-01T00:00:00Z');
let seq = 0;
const ev = <K extends Parameters<typeof conversationEvent>[2]>(
  kind: K,
  value: PayloadInitOf<K>,
  n: number,
  id = `e${++seq}`,
): ConversationEvent => conversationEvent(C, id, kind, value, t(n));

const received = (n: number, locale = 'de-AT') =>
  ev('customerMessageReceived', { messageId: `m${n}`, channel: 'email', text: 'hi', locale }, n);
const proposed = (n: number, topic: string) =>
  ev('aiReplyProposed', { messageId: `m${n}`, replyId: `p${n}`, topic }, n);
const released = (n: number) =>
  ev(
    'aiReplyReleased',
    {
      messageId: 'm',
      replyId: `r${n}`,
      policyVersion: 'v1',
      context: {
        account: {
          accountId: 'a1',
          name: 'Acme',
          tier: 'enterprise',
          atRisk: true,
          monthlyValue: 900,
          currency: 'EUR',
          owner: 'Kim',
        },
      },
    },
    n,
  );
const handoff = (n: number, id: string, trigger: number) =>
  ev(
    'handoffRequested',
    {
      handoffId: id,
      messageId: `m${trigger}`,
      triggers: [{ rule: 'low_confidence', value: 0.8, threshold: 0.9 }],
      priority: Priority.HIGH,
      language: 'fr',
      policyVersion: 'v2',
      briefing: { topic: 'billing' },
    },
    n,
  );
const assigned = (n: number, id: string) =>
  ev('agentAssigned', { handoffId: id, agentId: 'ag', agentName: 'A', team: 'T' }, n);
const resolved = (n: number, resolution: Resolution, assumed = false) =>
  ev('conversationResolved', { resolution, resolvedBy: 'c', assumed }, n);
const scored = (n: number, smoothed: number, change: number) =>
  ev(
    'messageScored',
    { messageId: `m${n}`, valence: smoothed, trajectory: { smoothed, change, messages: 1 } },
    n,
  );

const run = (events: ConversationEvent[]) =>
  events.reduce<ConversationState>(
    (state, e) => applyConversationEvent(state, e, fallback) ?? state,
    { handoffs: {} },
  );

describe('the metrics fold of one conversation', () => {
  it('given a first message and an AI reply, then it keeps the segments they name', () => {
    const { row } = run([
      received(1),
      proposed(2, 'billing'),
      proposed(3, 'shipping'),
      released(4),
    ]);
    expect(row).toEqual(
      expect.objectContaining({
        channel: 'email',
        language: 'de',
        topic: 'billing',
        policyVersion: 'v1',
        tier: 'enterprise',
        accountId: 'a1',
        accountAtRisk: true,
        accountMonthlyValue: 900,
        startedAt: new Date(t(1)),
        firstMessageAt: new Date(t(1)),
        aiReplies: 1,
      }),
    );
  });

  it('given an assumed AI resolution, then it is automation, assumed, and the base of missed escalations', () => {
    const { row } = run([received(1), released(2), resolved(3, Resolution.AI, true)]);
    expect(row).toEqual(
      expect.objectContaining({ resolvedAs: 'ai', assumed: true, aiResolvedAt: new Date(t(3)) }),
    );
  });

  it('given an AI resolution, when the customer writes again and is rated badly, then it is reopened after the AI', () => {
    const { row } = run([
      received(1),
      resolved(2, Resolution.AI),
      received(3),
      resolved(4, Resolution.AI),
      ev('csatRated', { score: 4 }, 5),
      ev('csatRated', { score: 2 }, 6),
    ]);
    expect(row).toEqual(
      expect.objectContaining({
        reopened: 1,
        reopenedAfterAi: true,
        csatScore: 2,
        aiResolvedAt: new Date(t(2)),
      }),
    );
  });

  it('given a handoff re-routed twice, then it is one handoff with its first times and trigger time', () => {
    const { row, handoffs } = run([
      received(1),
      received(3),
      handoff(5, 'h1', 1),
      assigned(6, 'h1'),
      ev('acceptTimedOut', { handoffId: 'h1', agentId: 'ag' }, 7),
      assigned(8, 'h1'),
      ev('agentAccepted', { handoffId: 'h1', agentId: 'ag' }, 9),
      ev('agentReplied', { handoffId: 'h1', agentId: 'ag', text: 'x' }, 10),
      ev('agentReplied', { handoffId: 'h1', agentId: 'ag', text: 'y' }, 11),
      ev('falseEscalationMarked', { handoffId: 'h1', agentId: 'ag' }, 12),
      resolved(13, Resolution.HUMAN),
    ]);
    expect(row).toEqual(
      expect.objectContaining({
        handoffs: 1,
        firstHandoffAt: new Date(t(5)),
        firstTriggerAt: new Date(t(1)),
        language: 'de',
        topic: 'billing',
        policyVersion: 'v2',
        resolvedAs: 'human',
        aiResolvedAt: null,
      }),
    );
    expect(Object.values(handoffs)).toEqual([
      expect.objectContaining({
        handoffId: 'h1',
        requestedAt: new Date(t(5)),
        triggerAt: new Date(t(1)),
        rules: ['low_confidence'],
        triggers: [{ rule: 'low_confidence', value: 0.8, threshold: 0.9 }],
        priority: 'high',
        assignments: 2,
        assignedAt: new Date(t(6)),
        acceptedAt: new Date(t(9)),
        firstReplyAt: new Date(t(10)),
        falseMarked: true,
        resolvedAt: new Date(t(13)),
      }),
    ]);
  });

  it('given a handback, when the AI resolves it, then it is human-involved, not automation', () => {
    const { row } = run([
      received(1),
      handoff(2, 'h1', 1),
      ev('handedBack', { handoffId: 'h1', agentId: 'ag' }, 3),
      resolved(4, Resolution.AI),
    ]);
    expect(row).toEqual(
      expect.objectContaining({ resolvedAs: 'ai', handoffs: 1, aiResolvedAt: null }),
    );
  });

  it('keeps the lowest smoothed sentiment and the largest fall', () => {
    const { row } = run([
      received(1),
      scored(2, -0.2, -0.1),
      scored(3, -0.5, -0.3),
      scored(4, 0.1, 0.2),
    ]);
    expect(row).toEqual(expect.objectContaining({ lowestSentiment: -0.5, largestFall: -0.3 }));
  });

  it('uses the fallback time when occurred_at is missing', () => {
    const e = received(1);
    e.occurredAt = '';
    expect(applyConversationEvent({ handoffs: {} }, e, fallback)?.row?.startedAt).toEqual(fallback);
  });

  it('names what is wrong with an unusable event', () => {
    expect(
      invalidReason(conversationEvent('', 'e', 'handoffQueued', { handoffId: 'h', queue: 'q' })),
    ).toMatch(/conversation_id/);
    expect(invalidReason(ev('csatRated', { score: 9 }, 1))).toMatch(/score/);
    expect(invalidReason(received(1))).toBeUndefined();
  });
});

describe('the fold of both topics', () => {
  const knowledge = (
    id: string,
    payload: MessageInitShape<typeof KnowledgeEventSchema>['payload'],
    at = t(30),
  ) => create(KnowledgeEventSchema, { eventId: id, occurredAt: at, payload });

  it('counts a redelivered event once and applies a match whichever topic came first', () => {
    const h = handoff(5, 'h1', 1);
    const match = knowledge('k1', {
      case: 'resolutionMatched',
      value: { conversationId: C, handoffId: 'h1', articleId: 'art-1' },
    });
    const article = knowledge('k2', {
      case: 'articlePublished',
      value: { articleId: 'art-1', title: 'Refunds', topic: 'billing' },
    });
    const first = received(1);
    const model = foldEvents([first, h, h], [match, match, article]);
    expect(model.conversations[0]?.handoffs).toBe(1);
    expect(model.handoffs).toEqual([
      expect.objectContaining({ handoffId: 'h1', matchedArticleId: 'art-1' }),
    ]);
    expect(model.articles).toEqual([
      { articleId: 'art-1', title: 'Refunds', topic: 'billing', publishedAt: new Date(t(30)) },
    ]);
    expect(model.eventIds).toEqual([first.eventId, h.eventId, 'knowledge:k1', 'knowledge:k2']);
  });
});
