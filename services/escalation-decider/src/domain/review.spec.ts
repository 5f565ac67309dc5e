import { AccountSchema, create, Priority } from '@support/contracts';
import { initialState, type ConversationState, type MessageView } from '@support/conversation';
import { decide, DEFAULT_POLICY_FILE, loadDefaultPolicy } from './decide';
import { checkBands } from './policy-bands';
import { parsePolicy } from './policy';
import { readFileSync } from 'node:fs';

const shipped = readFileSync(DEFAULT_POLICY_FILE, 'utf8');
const policy = loadDefaultPolicy();
const minConfidence = policy.threshold('minConfidence', NaN);
const reviewMin = policy.threshold('reviewMinConfidence', NaN);
const inBand = (reviewMin + minConfidence) / 2;

function stateWith(message: Partial<MessageView>): ConversationState {
  return {
    ...initialState('c1'),
    status: 'ai_handling',
    locale: 'en',
    messages: [{ messageId: 'm1', text: 'How do I download my invoices?', at: 't1', ...message }],
  };
}
const proposal = (
  confidence: number,
  more: Partial<NonNullable<MessageView['proposal']>> = {},
): NonNullable<MessageView['proposal']> => ({
  replyId: 'r1',
  text: 'Go to Billing, then Invoices.',
  confidence,
  intent: 'invoices',
  intentProbability: 0.9,
  topic: 'billing',
  outOfScope: false,
  urgency: 0,
  requiredSkills: ['billing'],
  kind: 'answer',
  missingDetails: [],
  generator: 'extractive',
  flags: [],
  citations: [],
  articlesTried: [],
  at: 't2',
  ...more,
});
const calm = { valence: 0.1, label: 'neutral', signals: [], at: 't2' };

describe('the review outcome', () => {
  it('ships a band just under the release threshold', () => {
    expect(reviewMin).toBeLessThan(minConfidence);
    expect(policy.warnings).toEqual([]);
  });

  it("given an answer in the review band, holds it for a person with the topic's skill", async () => {
    const d = await decide(
      stateWith({ proposal: proposal(inBand), score: calm }),
      'm1',
      policy,
      false,
    );
    expect(d).toEqual({
      kind: 'review',
      triggers: [
        expect.objectContaining({ rule: 'review_band', value: inBand, threshold: reviewMin }),
      ],
      priorityReasons: [],
      priority: Priority.NORMAL,
      requiredSkills: ['billing'],
      team: '',
      language: 'en',
      missing: [],
    });
  });

  it('releases at the threshold and hands off under the band', async () => {
    const at = await decide(
      stateWith({ proposal: proposal(minConfidence), score: calm }),
      'm1',
      policy,
      false,
    );
    expect(at.kind).toBe('release');
    const under = await decide(
      stateWith({ proposal: proposal(reviewMin - 0.01), score: calm }),
      'm1',
      policy,
      false,
    );
    expect(under.kind === 'handoff' && under.triggers.map((t) => t.rule)).toEqual([
      'low_confidence',
    ]);
  });

  it('given a handoff rule that fires too, hands off (a frustrated customer)', async () => {
    const angry = { valence: -0.8, label: 'negative', signals: ['frustration'], at: 't2' };
    const d = await decide(
      stateWith({ proposal: proposal(inBand), score: angry }),
      'm1',
      policy,
      false,
    );
    expect(d.kind === 'handoff' && d.triggers.map((t) => t.rule)).toEqual(['frustration']);
  });

  it('given an explicit request for a person, hands off', async () => {
    const d = await decide(
      stateWith({ text: 'Can I talk to a human?', proposal: proposal(inBand), score: calm }),
      'm1',
      policy,
      false,
    );
    expect(d.kind).toBe('handoff');
  });

  it('given a review rule on an account tier, reviews answers for it only', async () => {
    const tiered = parsePolicy(
      shipped.replace(
        /^rules:\n/m,
        `rules:\n  - name: growth_review\n    detail: growth accounts get checked answers\n    effect: review\n    when:\n      all:\n        - { fact: accountTier, operator: equal, value: growth }\n`,
      ),
    );
    const state = stateWith({ proposal: proposal(0.95), score: calm });
    const account = create(AccountSchema, { accountId: 'a', tier: 'GROWTH' });
    const growth = await decide(state, 'm1', tiered, false, {
      account,
      accountLookup: 'found',
      pageUrl: '',
    });
    expect(growth.kind === 'review' && growth.triggers.map((t) => t.rule)).toEqual([
      'growth_review',
    ]);
    expect((await decide(state, 'm1', tiered, false)).kind).toBe('release');
    // Without a draft to check, the review rule hands off instead.
    const intake = stateWith({
      proposal: proposal(0.95, { kind: 'intake', text: ' ' }),
      score: calm,
    });
    const none = await decide(intake, 'm1', tiered, false, {
      account,
      accountLookup: 'found',
      pageUrl: '',
    });
    expect(none.kind === 'handoff' && none.triggers.map((t) => t.rule)).toEqual(['growth_review']);
  });
});

describe('the policy effect', () => {
  it('is validated on load', () => {
    expect(() => parsePolicy(shipped.replace('effect: review', 'effect: revue'))).toThrow(
      /rules\[review_band\]\.effect/,
    );
  });

  it('warns about a band left empty by a release threshold moved under its floor', () => {
    const moved = parsePolicy(shipped.replace(/minConfidence: [0-9.]+/, 'minConfidence: 0.55'));
    expect(moved.warnings).toEqual([
      expect.objectContaining({ rule: 'empty_band', policyRule: 'review_band' }),
    ]);
    expect(moved.warnings[0].message).toMatch(
      /reviewMinConfidence \(0\.6\).*minConfidence \(0\.55\)/,
    );
    expect(
      checkBands({
        thresholds: { a: 1 },
        rules: [
          {
            name: 'point',
            when: {
              all: [
                { fact: 'confidence', operator: 'greaterThanInclusive', value: { threshold: 'a' } },
                { fact: 'confidence', operator: 'lessThanInclusive', value: 1 },
              ],
            },
          },
        ] as never,
      }),
    ).toEqual([]);
  });

  it('given the release threshold moved under the band, hands off under it and reviews nothing', async () => {
    const moved = parsePolicy(shipped.replace(/minConfidence: [0-9.]+/, 'minConfidence: 0.55'));
    const state = (c: number) => stateWith({ proposal: proposal(c), score: calm });
    expect((await decide(state(0.58), 'm1', moved, false)).kind).toBe('release');
    expect((await decide(state(0.5), 'm1', moved, false)).kind).toBe('handoff');
  });
});
