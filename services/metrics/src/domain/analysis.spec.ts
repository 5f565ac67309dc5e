import {
  churnReasons,
  patchPolicy,
  percentiles,
  ruleThreshold,
  suggestThreshold,
  trend,
  triggerOf,
  type RuleSample,
} from './analysis';

const sample = (value: number, falseEscalation: boolean, alone = true): RuleSample => ({
  value,
  falseEscalation,
  alone,
});

describe('threshold suggestion', () => {
  const policy = { threshold: 'minConfidence', operator: 'lessThan' as const, current: 0.9 };

  it('given false escalations clustered just under the threshold, then it lowers it past them', () => {
    // Confirmed: 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.72, 0.75, 0.8, 0.86 (10: one may be missed).
    // False: 0.87, 0.88, 0.89 and 0.85 (with another rule: never spared).
    const samples = [
      ...[0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.72, 0.75, 0.8, 0.86].map((v) => sample(v, false)),
      sample(0.87, true),
      sample(0.88, true),
      sample(0.89, true),
      sample(0.85, true, false),
    ];
    // Candidates 0.87 (spares 0.87..0.89: 3 false, misses none), 0.88 (2), 0.89 (1); 0.86 would
    // spare the same 3 false and miss 0.86 too. Best: 0.87.
    expect(suggestThreshold('low_confidence', policy, samples)).toEqual({
      threshold: 'minConfidence',
      current: 0.9,
      suggested: 0.87,
      rationale: expect.stringMatching(
        /^Lowering minConfidence from 0.9 to 0.87 would have kept 3 of low_confidence's 4 false/,
      ),
      wouldAvoidFalse: 3,
      wouldMissConfirmed: 0,
    });
  });

  it('given too few false escalations near the threshold, then it suggests nothing', () => {
    expect(
      suggestThreshold('low_confidence', policy, [sample(0.89, true), sample(0.5, false)]),
    ).toBeNull();
  });

  it('never misses more than a tenth of the confirmed handoffs', () => {
    // Confirmed mixed in with the false ones: 0.88 and 0.89 are confirmed, 5 confirmed in all (0 may be missed).
    const samples = [
      sample(0.87, true),
      sample(0.86, true),
      sample(0.88, false),
      sample(0.89, false),
      sample(0.1, false),
      sample(0.2, false),
      sample(0.3, false),
    ];
    expect(suggestThreshold('low_confidence', policy, samples)).toBeNull();
  });

  it('raises the threshold of an at-least rule and lowers the one of an at-most rule', () => {
    const above = {
      threshold: 'repeatSimilarity',
      operator: 'greaterThanInclusive' as const,
      current: 0.6,
    };
    // Fires when value >= t; sparing 0.63 needs t = 0.64, which also spares 0.61; 0.95 confirmed.
    expect(
      suggestThreshold('repeated_question', above, [
        sample(0.61, true),
        sample(0.63, true),
        sample(0.95, false),
      ]),
    ).toEqual(
      expect.objectContaining({ suggested: 0.64, wouldAvoidFalse: 2, wouldMissConfirmed: 0 }),
    );
    const below = {
      threshold: 'frustratedValence',
      operator: 'lessThanInclusive' as const,
      current: -0.5,
    };
    // Fires when value <= t; sparing -0.55 needs t = -0.56, sparing -0.52 too.
    expect(
      suggestThreshold('frustration', below, [
        sample(-0.52, true),
        sample(-0.55, true),
        sample(-0.9, false),
      ]),
    ).toEqual(expect.objectContaining({ suggested: -0.56, wouldAvoidFalse: 2 }));
  });
});

describe('policy', () => {
  const document = {
    version: 'v7',
    thresholds: { minConfidence: 0.9, shiftDrop: -0.4 },
    rules: [
      {
        name: 'no_answer',
        when: { all: [{ fact: 'proposalKind', operator: 'equal', value: 'no_answer' }] },
      },
      {
        name: 'sentiment_shift',
        when: {
          all: [
            { fact: 'shift', operator: 'equal', value: true },
            {
              any: [
                {
                  fact: 'trajectoryChange',
                  operator: 'lessThanInclusive',
                  value: { threshold: 'shiftDrop' },
                },
              ],
            },
          ],
        },
      },
    ],
  };

  it('finds the named threshold a rule compares with, nested or not', () => {
    expect(ruleThreshold(document, 'sentiment_shift')).toEqual({
      threshold: 'shiftDrop',
      operator: 'lessThanInclusive',
      current: -0.4,
    });
    expect(ruleThreshold(document, 'no_answer')).toBeUndefined();
    expect(ruleThreshold(document, 'nothing')).toBeUndefined();
  });

  it('patches one threshold and names the candidate version, leaving the document as it was', () => {
    const patched = patchPolicy(document, 'shiftDrop', -0.5);
    expect(patched).toEqual({
      ...document,
      version: 'v7+shiftDrop=-0.5',
      thresholds: { minConfidence: 0.9, shiftDrop: -0.5 },
    });
    expect(document.thresholds.shiftDrop).toBe(-0.4);
  });
});

describe('trend, triggers, percentiles and churn', () => {
  it('compares the second half with the first', () => {
    expect(trend(4, 6)).toEqual({ trend: 'rising', change: 0.5 });
    expect(trend(4, 2)).toEqual({ trend: 'falling', change: -0.5 });
    expect(trend(10, 11)).toEqual({ trend: 'flat', change: 0.1 });
    expect(trend(0, 3)).toEqual({ trend: 'rising', change: 1 });
    expect(trend(0, 0)).toEqual({ trend: 'flat', change: 0 });
  });

  it('groups first rules into triggers', () => {
    expect(triggerOf('explicit_human_request')).toBe('explicit_request');
    expect(triggerOf('sentiment_shift')).toBe('sentiment');
    expect(triggerOf('low_confidence')).toBe('confidence');
    expect(triggerOf('topic_risk')).toBe('topic');
    expect(triggerOf('vip_account')).toBe('account');
    expect(triggerOf(undefined)).toBe('unknown');
  });

  it('gives null percentiles over no samples and rounds to the millisecond', () => {
    expect(percentiles(0, null)).toEqual({ count: 0, p50: null, p90: null, p99: null });
    expect(percentiles(3, [1.23456, 2, 3])).toEqual({ count: 3, p50: 1.235, p90: 2, p99: 3 });
  });

  it('names churn risk only for accounts that matter and show trouble', () => {
    const calm = {
      tier: 'enterprise',
      vip: false,
      atRisk: false,
      sentiment: 0.2,
      change: 0,
      lowestHandoffCsat: 5,
    };
    expect(churnReasons(calm)).toEqual([]);
    expect(churnReasons({ ...calm, tier: 'pro', sentiment: -0.9 })).toEqual([]);
    expect(
      churnReasons({ ...calm, atRisk: true, sentiment: -0.3, change: -0.45, lowestHandoffCsat: 2 }),
    ).toEqual([
      'the CRM flags the account at risk',
      'enterprise tier',
      'sentiment fell to -0.3',
      'sentiment dropped by 0.45 within a conversation',
      'a handed-off conversation was rated 2 of 5',
    ]);
  });
});
