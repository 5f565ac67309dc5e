import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  AccountSchema,
  create,
  ReplyKind,
  type BriefingSchema,
  type ConversationEvent,
  type DecisionContextSchema,
  type MessageInitShape,
} from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { DEFAULT_POLICY_FILE, loadDefaultPolicy } from './decide';
import { parsePolicy, type PolicyDocument } from './policy';
import { whatIf } from './whatif';

const shipped = readFileSync(DEFAULT_POLICY_FILE, 'utf8');
/** The shipped policy with the release threshold at `n` and no review band (answers under it hand off). */
const withMinConfidence = (n: number, version: string) =>
  parsePolicy(
    shipped
      .replace(/minConfidence: [0-9.]+/, `minConfidence: ${n}`)
      .replace(/reviewMinConfidence: [0-9.]+/, `reviewMinConfidence: ${n}`)
      .replace(/^version: .*$/m, `version: ${version}`),
  );

let clock = 0;
const at = () => new Date(Date.UTC(2026, 10, 20, 9, 0, clock++)).toISOString();

interface Turn {
  text: string;
  confidence: number;
  handedOff: boolean;
  valence?: number;
  /** The account and page the recorded release decided with. */
  context?: MessageInitShape<typeof DecisionContextSchema>;
  /** The briefing of the recorded handoff, with the account it saw. */
  briefing?: MessageInitShape<typeof BriefingSchema>;
}

/** A recorded conversation: each turn a message, the AI's proposal, its score and the recorded decision. */
function conversation(id: string, turns: Turn[]) {
  const events: ConversationEvent[] = [];
  for (const [i, t] of turns.entries()) {
    const m = `${id}-m${i}`;
    events.push(
      conversationEvent(
        id,
        `${m}-r`,
        'customerMessageReceived',
        {
          messageId: m,
          channel: 'web',
          externalConversationId: id,
          customerId: 'c',
          text: t.text,
          locale: 'en',
        },
        at(),
      ),
      conversationEvent(
        id,
        `${m}-p`,
        'aiReplyProposed',
        {
          messageId: m,
          replyId: `${m}-reply`,
          text: 'an answer',
          confidence: t.confidence,
          intent: 'how_to',
          intentProbability: 0.9,
          kind: ReplyKind.ANSWER,
        },
        at(),
      ),
      conversationEvent(
        id,
        `${m}-s`,
        'messageScored',
        { messageId: m, valence: t.valence ?? 0, label: 'neutral' },
        at(),
      ),
      t.handedOff
        ? conversationEvent(
            id,
            `${m}-h`,
            'handoffRequested',
            {
              handoffId: `${m}-handoff`,
              messageId: m,
              triggers: [{ rule: 'low_confidence', value: t.confidence, threshold: 0.9 }],
              briefing: t.briefing,
            },
            at(),
          )
        : conversationEvent(
            id,
            `${m}-a`,
            'aiReplyReleased',
            {
              messageId: m,
              replyId: `${m}-reply`,
              text: 'an answer',
              confidence: t.confidence,
              context: t.context,
            },
            at(),
          ),
    );
  }
  return events;
}

describe('what-if replay', () => {
  const day = [
    ...conversation('c1', [
      { text: 'How do I export a report?', confidence: 0.7, handedOff: true },
    ]),
    ...conversation('c2', [
      { text: 'How do I add a card?', confidence: 0.95, handedOff: false },
      { text: 'And freeze it?', confidence: 0.6, handedOff: true },
    ]),
    ...conversation('c3', [{ text: 'Where are invoices?', confidence: 0.97, handedOff: false }]),
  ];

  it('given the recorded policy, changes nothing', async () => {
    const report = await whatIf(day, withMinConfidence(0.9, 'same-1'));
    expect(report.decisions).toBe(4);
    expect(report.changed).toEqual([]);
    expect(report.recorded.handoffs).toBe(report.candidate.handoffs);
    expect(report.candidate.rules).toEqual({ low_confidence: 2 });
  });

  it('given a lower threshold, reports the handoffs it saves and the conversations that stay with the AI', async () => {
    const report = await whatIf(day, withMinConfidence(0.65, 'lenient-1'));
    expect(report.candidateVersion).toMatch(/^lenient-1@/);
    expect(report.recorded).toMatchObject({
      handoffs: 2,
      handoffRate: 0.5,
      conversationsHandedOff: 2,
    });
    expect(report.candidate).toMatchObject({ handoffs: 1, conversationsHandedOff: 1 });
    expect(report.changed).toEqual([
      expect.objectContaining({ messageId: 'c1-m0', recorded: 'handoff', candidate: 'release' }),
    ]);
    expect(report.flipped).toEqual({ toHuman: [], toAi: ['c1'] });
  });

  it('given a stricter threshold, the AI falls silent after the first handoff of a conversation', async () => {
    const report = await whatIf(day, withMinConfidence(0.96, 'strict-1'));
    expect(report.changed.map((c) => [c.messageId, c.recorded, c.candidate])).toEqual([
      ['c2-m0', 'release', 'handoff'],
    ]);
    expect(report.flipped.toHuman).toEqual([]);
    expect(report.candidate.handoffs).toBe(2);
  });

  it('finds requests for a person with the detector it is given, as the live decider does', async () => {
    const text = 'could a member of your staff sort this out';
    const events = conversation('c9', [{ text, confidence: 0.95, handedOff: false }]);
    const policy = withMinConfidence(0.9, 'same-9');
    expect((await whatIf(events, policy)).changed).toEqual([]);
    const classifier = async (t: string) =>
      t === text
        ? {
            language: 'en',
            phrase: t,
            layer: 'classifier' as const,
            probability: 0.9,
            threshold: 0.6,
          }
        : undefined;
    const report = await whatIf(events, policy, {}, classifier);
    expect(report.changed.map((c) => [c.candidate, c.candidateRules])).toEqual([
      ['handoff', ['explicit_human_request']],
    ]);
  });

  it('counts only the conversations that started in the window', async () => {
    const report = await whatIf(day, withMinConfidence(0.9, 'same-1'), {
      from: day.find((e) => e.conversationId === 'c2')!.occurredAt,
    });
    expect(report.conversations).toBe(2);
    expect(report.decisions).toBe(3);
  });
});

describe('what-if replay with the recorded account and page', () => {
  const vip = create(AccountSchema, { accountId: 'acc-7', name: 'Acme GmbH', vip: true });
  /** The policy before the account rules: the shipped one without its VIP rules. */
  const withoutVipRules = (() => {
    const doc = parseYaml(shipped) as PolicyDocument;
    return parsePolicy(
      stringifyYaml({
        ...doc,
        version: 'default-3',
        rules: doc.rules.filter((r) => !r.name.startsWith('vip_')),
      }),
    );
  })();

  it('given releases recorded before the decider read "£3k" or knew contracts, replays them with the facts read from their text', async () => {
    const events = [
      ...conversation('old-dispute', [
        { text: 'You charged us twice, £3k each time', confidence: 0.95, handedOff: false },
      ]),
      ...conversation('old-contract', [
        {
          text: 'Please fill in our vendor security questionnaire',
          confidence: 0.95,
          handedOff: false,
        },
      ]),
      ...conversation('old-plain', [
        { text: 'How do I add a card?', confidence: 0.95, handedOff: false },
      ]),
    ];
    const report = await whatIf(events, loadDefaultPolicy());
    expect(report.flipped.toHuman.sort()).toEqual(['old-contract', 'old-dispute']);
    expect(report.changed.map((c) => [c.conversationId, c.candidateRules])).toEqual([
      ['old-dispute', ['billing_dispute']],
      ['old-contract', ['topic_risk']],
    ]);
  });

  it('given a release recorded for a VIP account before the VIP rule existed, replays it with that account and flips it to a person', async () => {
    const events = [
      ...conversation('vip', [
        {
          text: 'How do I add a user?',
          confidence: 0.9,
          handedOff: false,
          context: { account: vip, accountLookup: 'found' },
        },
      ]),
      ...conversation('plain', [
        { text: 'How do I add a user?', confidence: 0.9, handedOff: false },
      ]),
    ];
    expect((await whatIf(events, withoutVipRules)).changed).toEqual([]);

    const report = await whatIf(events, loadDefaultPolicy());
    expect(report.changed).toEqual([
      expect.objectContaining({
        conversationId: 'vip',
        recorded: 'release',
        candidate: 'handoff',
        candidateRules: ['vip_account'],
      }),
    ]);
    expect(report.flipped).toEqual({ toHuman: ['vip'], toAi: [] });
  });

  it('given a handoff recorded for a VIP account, replays it with the account its briefing names', async () => {
    const events = [
      ...conversation('vip', [
        {
          text: 'How do I add a user?',
          confidence: 0.7,
          handedOff: true,
          briefing: { account: vip, accountLookup: 'found' },
        },
      ]),
      ...conversation('plain', [
        { text: 'How do I add a user?', confidence: 0.7, handedOff: true },
      ]),
    ];
    const report = await whatIf(events, withMinConfidence(0.65, 'lenient-2'));
    expect(report.changed.map((c) => [c.conversationId, c.candidate])).toEqual([
      ['plain', 'release'],
    ]);
    expect(report.candidate.rules).toEqual({ vip_account: 1 });
    expect(report.flipped).toEqual({ toHuman: [], toAi: ['plain'] });
  });

  it('given a candidate whose page map knows the page, changes the decision made on it', async () => {
    const events = conversation('leaving', [
      {
        text: 'How do I stop my subscription?',
        confidence: 0.95,
        valence: -0.3,
        handedOff: false,
        context: {
          accountLookup: 'none',
          page: { url: 'https://app.example.com/settings/leave', path: '/settings/leave' },
        },
      },
    ]);
    expect((await whatIf(events, loadDefaultPolicy())).changed).toEqual([]);

    const leavePage = parsePolicy(
      shipped
        .replace(/^pages:\n/m, "pages:\n  - { match: '**/leave{,/**}', area: cancellation }\n")
        .replace(/^version: .*$/m, 'version: pages-1'),
    );
    expect(leavePage.pageArea('/settings/leave')).toBe('cancellation');
    const report = await whatIf(events, leavePage);
    expect(report.changed).toEqual([
      expect.objectContaining({
        messageId: 'leaving-m0',
        recorded: 'release',
        candidate: 'handoff',
        candidateRules: ['cancellation_page'],
      }),
    ]);
  });
});

describe('what-if replay with reviews', () => {
  /** The shipped policy with the release threshold and the review band's floor given. */
  const band = (min: number, reviewMin: number, version: string) =>
    parsePolicy(
      shipped
        .replace(/minConfidence: [0-9.]+/, `minConfidence: ${min}`)
        .replace(/reviewMinConfidence: [0-9.]+/, `reviewMinConfidence: ${reviewMin}`)
        .replace(/^version: .*$/m, `version: ${version}`),
    );
  const reviewed = (id: string, confidence: number) => {
    const [received, proposed, scored] = conversation(id, [
      { text: 'How do I rename a project?', confidence, handedOff: false },
    ]);
    const m = `${id}-m0`;
    return [
      received,
      proposed,
      scored,
      conversationEvent(
        id,
        `${m}-rv`,
        'reviewRequested',
        {
          reviewId: `${m}-review`,
          messageId: m,
          replyId: `${m}-reply`,
          text: 'an answer',
          confidence,
          triggers: [{ rule: 'review_band', value: confidence, threshold: 0.6 }],
          context: { accountLookup: 'none' },
        },
        at(),
      ),
    ];
  };
  const log = [
    ...reviewed('r1', 0.7),
    ...conversation('r2', [{ text: 'How do I add a card?', confidence: 0.72, handedOff: false }]),
    ...conversation('r3', [{ text: 'How do I export?', confidence: 0.5, handedOff: true }]),
  ];

  it('given the shipped band, replays a recorded review as a review and moves a release in the band to review', async () => {
    const report = await whatIf(log, loadDefaultPolicy());
    expect(report.recorded).toMatchObject({ reviews: 1, handoffs: 1, conversationsReviewed: 1 });
    expect(report.candidate).toMatchObject({ reviews: 2, reviewRate: 0.667, handoffs: 1 });
    expect(report.candidate.rules).toEqual({ review_band: 2, low_confidence: 1 });
    expect(report.changed).toEqual([
      expect.objectContaining({
        messageId: 'r2-m0',
        recorded: 'release',
        candidate: 'review',
        candidateRules: ['review_band'],
      }),
    ]);
  });

  it('given a band moved down, reports a handoff that becomes a review', async () => {
    const report = await whatIf(log, band(0.72, 0.45, 'lower-band-1'));
    const moved = Object.fromEntries(
      report.changed.map((c) => [c.messageId, [c.recorded, c.candidate]]),
    );
    expect(moved).toEqual({ 'r3-m0': ['handoff', 'review'] });
    expect(report.flipped).toEqual({ toHuman: [], toAi: ['r3'] });
  });

  it('given no band, a recorded review becomes a handoff or a release', async () => {
    const strict = await whatIf(log, band(0.9, 0.9, 'no-band-1'));
    expect(strict.changed.map((c) => [c.messageId, c.recorded, c.candidate])).toEqual([
      ['r1-m0', 'review', 'handoff'],
      ['r2-m0', 'release', 'handoff'],
    ]);
    expect(strict.candidate.reviews).toBe(0);
    const lenient = await whatIf(log, band(0.7, 0.7, 'no-band-2'));
    expect(lenient.changed.map((c) => [c.messageId, c.recorded, c.candidate])).toEqual([
      ['r1-m0', 'review', 'release'],
    ]);
  });
});
