import {
  create,
  AccountSchema,
  BriefingSchema,
  Speaker,
  type MessageInitShape,
} from '@support/contracts';
import { conversationEvent, type PayloadInitOf } from '@support/conversation';
import {
  churnRisk,
  concernsWatch,
  defaultInsightSettings as settings,
  evolveWatch,
  exampleQuestion,
  gapWindows,
  handoffTopic,
  hourOf,
  initialWatch,
  knowledgeGap,
  reachedMark,
  recentEnough,
  writtenBefore,
  type ConversationWatch,
  type LogMark,
  type PendingGap,
} from './insights';

const at = new Date('2025-03-04T10:15:00Z');
let n = 0;
const event = <K extends Parameters<typeof conversationEvent>[2]>(
  kind: K,
  value: PayloadInitOf<K>,
) => conversationEvent('conv-1', `e-${n++}`, kind, value, at.toISOString());

const acme = (fields: { atRisk?: boolean; vip?: boolean; tier?: string } = {}) =>
  create(AccountSchema, {
    accountId: 'acct-acme',
    name: 'Acme',
    tier: 'business',
    monthlyValue: 4000,
    currency: 'EUR',
    owner: 'Maria Rossi',
    ...fields,
  });

const scored = (smoothed: number, start: number, shift = false) =>
  event('messageScored', {
    messageId: 'm',
    valence: smoothed,
    label: 'negative',
    signals: [],
    trajectory: { smoothed, start, change: smoothed - start, shift, messages: 3 },
  });
const released = (account = acme()) =>
  event('aiReplyReleased', {
    messageId: 'm',
    replyId: 'r',
    text: 'a',
    confidence: 0.9,
    citations: [],
    context: { account, accountLookup: 'found' },
  });
const handoff = (briefing: MessageInitShape<typeof BriefingSchema> = {}) =>
  event('handoffRequested', { handoffId: 'h-1', messageId: 'm', briefing });
const rated = (score: number) => event('csatRated', { requestId: 'q', score, comment: '' });

const fold = (...events: ReturnType<typeof event>[]): ConversationWatch =>
  events.reduce(evolveWatch, initialWatch);

describe('churn risk', () => {
  it('is raised when an account flagged at risk has a conversation whose sentiment fell', () => {
    // Given an at-risk account whose conversation goes from 0.2 to -0.7
    const account = acme({ atRisk: true });
    const last = scored(-0.7, 0.2);
    const watch = fold(released(account), last);
    // When the scorer reports it, then a churn risk is raised for the account and day
    expect(churnRisk(watch, last, at, settings)).toEqual({
      alertId: 'churn:acct-acme:2025-03-04',
      key: 'acct-acme',
      occurredAt: '2025-03-04T10:15:00.000Z',
      fields: {
        accountId: 'acct-acme',
        accountName: 'Acme',
        tier: 'business',
        monthlyValue: 4000,
        currency: 'EUR',
        owner: 'Maria Rossi',
        conversationId: 'conv-1',
        reasons: ['flagged at risk in the CRM', 'sentiment fell from 0.2 to -0.7'],
        sentiment: -0.7,
      },
    });
  });

  it('watches VIP and enterprise accounts, and no others', () => {
    const last = scored(-0.5, 0);
    const reasons = (account: ReturnType<typeof acme>) =>
      churnRisk(fold(released(account), last), last, at, settings)?.fields.reasons;
    expect(reasons(acme({ vip: true }))).toEqual(['VIP account', 'sentiment fell from 0 to -0.5']);
    expect(reasons(acme({ tier: 'Enterprise' }))).toEqual([
      'enterprise account',
      'sentiment fell from 0 to -0.5',
    ]);
    expect(reasons(acme())).toBeUndefined();
  });

  it('needs the smoothed sentiment at the threshold, or a shift by enough', () => {
    const account = acme({ atRisk: true });
    const decide = (e: ReturnType<typeof scored>) =>
      churnRisk(fold(released(account), e), e, at, settings);
    expect(decide(scored(-0.3, 0.1))).toBeDefined();
    expect(decide(scored(-0.29, 0.1))).toBeUndefined();
    // a shift the scorer flagged, change -0.5, though smoothed is only -0.1
    expect(decide(scored(-0.1, 0.4, true))?.fields.reasons).toEqual([
      'flagged at risk in the CRM',
      'sentiment fell from 0.4 to -0.1',
    ]);
    // the same change without the scorer's shift, or a shift of only -0.3
    expect(decide(scored(-0.1, 0.4, false))).toBeUndefined();
    expect(decide(scored(-0.1, 0.2, true))).toBeUndefined();
  });

  it('is raised when the account becomes known after the sentiment already fell', () => {
    const account = acme({ atRisk: true });
    const later = released(account);
    const watch = fold(scored(-0.6, -0.6), later);
    expect(churnRisk(watch, later, at, settings)?.fields.reasons).toEqual([
      'flagged at risk in the CRM',
      'sentiment fell to -0.6',
    ]);
  });

  it('knows the account from the handoff briefing, and a bad rating after a handoff', () => {
    const low = rated(2);
    const watch = fold(handoff({ account: acme({ vip: true }) }), low);
    expect(watch.handedOff).toBe(true);
    const decision = churnRisk(watch, low, at, settings);
    expect(decision?.fields.reasons).toEqual(['VIP account', 'rated 2/5 after a handoff']);
    expect(decision?.fields.sentiment).toBe(0);
    expect(churnRisk(watch, rated(3), at, settings)).toBeUndefined();
  });

  it('ignores a bad rating of a conversation that was never handed off', () => {
    const low = rated(1);
    expect(
      churnRisk(fold(released(acme({ atRisk: true })), low), low, at, settings),
    ).toBeUndefined();
  });

  it('is raised for nothing without a known account', () => {
    const last = scored(-0.9, 0.5, true);
    expect(churnRisk(fold(last), last, at, settings)).toBeUndefined();
  });

  it('keeps the latest account and trajectory', () => {
    const watch = fold(released(acme()), scored(-0.2, 0), released(acme({ atRisk: true })));
    expect(watch.account?.atRisk).toBe(true);
    expect(watch.trajectory).toEqual({ smoothed: -0.2, start: 0, change: -0.2, shift: false });
  });
});

describe('knowledge gap', () => {
  const hour = hourOf(at);
  const gap = (recent: number, previous: number, examples: string[] = []) =>
    knowledgeGap('billing', { recent, previous, examples }, hour, at, settings);

  it('needs the minimum of escalations and 1.5 times the window before', () => {
    expect(gap(5, 0)).toBeDefined();
    expect(gap(4, 0)).toBeUndefined();
    expect(gap(9, 6)).toBeDefined();
    expect(gap(8, 6)).toBeUndefined();
  });

  it('names the topic and the fixed window, so it is raised once per topic and window', () => {
    expect(
      gap(9, 3, ['Why was I charged twice?', '', 'Why was I charged twice?', 'Refund?']),
    ).toEqual({
      alertId: 'gap:billing:2025-03-04T00:24h',
      key: 'billing',
      occurredAt: '2025-03-04T10:15:00.000Z',
      fields: {
        topic: 'billing',
        escalations: 9,
        previousEscalations: 3,
        windowHours: 24,
        examples: ['Why was I charged twice?', 'Refund?'],
      },
    });
    const later = new Date('2025-03-04T23:59:00Z');
    expect(
      knowledgeGap(
        'billing',
        { recent: 5, previous: 0, examples: [] },
        hourOf(later),
        later,
        settings,
      )?.alertId,
    ).toBe('gap:billing:2025-03-04T00:24h');
    expect(
      knowledgeGap('', { recent: 9, previous: 0, examples: [] }, hour, at, settings),
    ).toBeUndefined();
  });

  it('counts the recent window up to the handoff hour and the window before it', () => {
    const w = gapWindows(100, 3);
    expect(w).toEqual({ recent: [98, 99, 100], previous: [95, 96, 97], alignedStart: 99 });
  });

  it('takes the topic from the briefing, else its intent', () => {
    expect(
      handoffTopic(create(BriefingSchema, { topic: ' Billing ', intent: 'cancellation' })),
    ).toBe('billing');
    expect(handoffTopic(create(BriefingSchema, { intent: 'cancellation' }))).toBe('cancellation');
    expect(handoffTopic(create(BriefingSchema, { intent: 'unknown' }))).toBe('');
    expect(handoffTopic(undefined)).toBe('');
  });

  it("takes the example from the transcript's last customer line", () => {
    const briefing = create(BriefingSchema, {
      transcript: [
        { speaker: Speaker.CUSTOMER, text: 'Hi' },
        { speaker: Speaker.CUSTOMER, text: 'Why was I\n charged twice?' },
        { speaker: Speaker.AI, text: 'Let me check.' },
      ],
    });
    expect(exampleQuestion(briefing)).toBe('Why was I charged twice?');
    expect(exampleQuestion(create(BriefingSchema, {}))).toBe('');
  });
});

describe('recentEnough: a replay of old history raises no alerts', () => {
  it('takes events within the maximum age', () => {
    const now = new Date('2025-03-05T10:00:00Z');
    expect(recentEnough(new Date('2025-03-04T10:00:00Z'), now, settings)).toBe(true);
    expect(recentEnough(new Date('2025-03-04T09:59:00Z'), now, settings)).toBe(false);
  });
});

describe('which events the watch needs', () => {
  // A watch on which every event that concerns it raises a churn risk: an at-risk account,
  // handed off, its sentiment fallen.
  const watch = fold(released(acme({ atRisk: true })), handoff(), scored(-0.7, 0.2));

  it('reads the watch for the events that change it or raise a churn risk', () => {
    for (const e of [scored(-0.7, 0.2), released(), handoff(), rated(1)]) {
      expect(concernsWatch(e)).toBe(true);
      expect(churnRisk(watch, e, at, settings)).toBeDefined();
    }
  });

  it('skips the others, which neither change the watch nor raise anything', () => {
    const others = [
      event('customerMessageReceived', { messageId: 'm2', text: 'still there?' }),
      event('aiReplyProposed', { messageId: 'm2', replyId: 'r2', text: 'yes', confidence: 0.8 }),
      event('agentAssigned', { handoffId: 'h-1', agentId: 'a', agentName: 'Ada', team: 'T' }),
      event('agentReplied', { handoffId: 'h-1', agentId: 'a', messageId: 'm3', text: 'hi' }),
      event('conversationResolved', { resolvedBy: 'a', note: '' }),
    ];
    for (const e of others) {
      expect(concernsWatch(e)).toBe(false);
      expect(evolveWatch(watch, e)).toBe(watch);
      expect(churnRisk(watch, e, at, settings)).toBeUndefined();
    }
  });
});

describe('when a knowledge gap may be decided', () => {
  // The log's ends at a mark: partition 2 has never had a record.
  const mark: LogMark = {
    ends: [
      { partition: 0, low: '0', high: '40' },
      { partition: 1, low: '10', high: '25' },
      { partition: 2, low: '0', high: '0' },
    ],
  };
  const pending = (partition: number, offset: string): PendingGap => ({
    topic: 'billing',
    hour: hourOf(at),
    at: at.toISOString(),
    partition,
    offset,
    conversationId: 'conv-1',
    correlationId: 'c',
    causationId: 'e',
  });

  it('waits until the group has committed every partition up to the mark, empty ones aside', () => {
    const committed = (entries: [number, bigint][]) => new Map(entries);
    expect(
      reachedMark(
        mark,
        committed([
          [0, 40n],
          [1, 25n],
        ]),
      ),
    ).toBe(true);
    expect(
      reachedMark(
        mark,
        committed([
          [0, 41n],
          [1, 30n],
          [2, -1n],
        ]),
      ),
    ).toBe(true);
    // One partition behind, or never committed, is not there yet.
    expect(
      reachedMark(
        mark,
        committed([
          [0, 40n],
          [1, 24n],
        ]),
      ),
    ).toBe(false);
    expect(reachedMark(mark, committed([[0, 40n]]))).toBe(false);
  });

  it('decides only on escalations written before the mark', () => {
    expect(writtenBefore(pending(0, '39'), mark)).toBe(true);
    expect(writtenBefore(pending(0, '40'), mark)).toBe(false);
    expect(writtenBefore(pending(1, '12'), mark)).toBe(true);
    // A partition the mark does not know (the topic grew since): not yet.
    expect(writtenBefore(pending(7, '0'), mark)).toBe(false);
  });
});
