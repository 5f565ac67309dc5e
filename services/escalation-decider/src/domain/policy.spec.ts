import { readFileSync } from 'node:fs';
import { DEFAULT_POLICY_FILE, loadDefaultPolicy } from './decide';
import { parsePolicy, PolicyError, type Facts } from './policy';
import { RISK_TOPICS } from './risk-topics';
import { Priority } from '@support/contracts';

const facts = (over: Partial<Facts> = {}): Facts => ({
  hasProposal: true,
  proposalKind: 'answer',
  confidence: 0.95,
  intent: 'how_to',
  intentProbability: 0.9,
  outOfScope: false,
  flags: [],
  hasScore: true,
  valence: 0,
  signals: [],
  trajectoryChange: 0,
  shift: false,
  hasFrustration: true,
  frustration: 0,
  frustrationTrend: 0,
  repeatOfAnswered: 0,
  unhelpfulTurns: 0,
  pageUrl: '',
  joinTimeoutMs: 8000,
  riskTopics: [],
  accountLookup: 'none',
  accountTier: '',
  vip: false,
  atRisk: false,
  monthlyValue: 0,
  disputeAmount: 0,
  openIncidents: 0,
  slaMinutes: 0,
  pageArea: '',
  lostAccess: false,
  ...over,
});

const text = readFileSync(DEFAULT_POLICY_FILE, 'utf8');

describe('the escalation policy as data', () => {
  const policy = loadDefaultPolicy();

  it('loads the shipped policy, versioned', () => {
    expect(policy.version).toMatch(/^default-\d+@[0-9a-f]{8}$/);
    expect(policy.threshold('minConfidence', NaN)).toBe(0.8);
  });

  it('fires nothing for a confident answer to a calm customer', async () => {
    expect(await policy.evaluate(facts())).toEqual([]);
  });

  it('names every rule that fires with the value it saw against its threshold', async () => {
    const fired = await policy.evaluate(
      facts({ confidence: 0.4, valence: -0.7, frustration: 0.85 }),
    );
    expect(fired.map((f) => [f.rule, f.value, f.threshold])).toEqual([
      // An answer: handed off under the review band's floor (reviewMinConfidence).
      ['low_confidence', 0.4, 0.6],
      ['frustration', 0.85, 0.8],
    ]);
    expect(fired[1].priority).toBe(Priority.HIGH);
    expect(fired[0].detail).toContain('confidence 0.4 lessThan 0.8');
  });

  it('hands off when the AI keeps failing the customer', async () => {
    expect(await policy.evaluate(facts({ unhelpfulTurns: 1 }))).toEqual([]);
    const fired = await policy.evaluate(facts({ unhelpfulTurns: 2 }));
    expect(fired.map((f) => [f.rule, f.value, f.threshold])).toEqual([['repeated_failure', 2, 2]]);
  });

  it('hands legal, privacy and security matters to a person when the intent is trusted', async () => {
    const fired = await policy.evaluate(facts({ intent: 'security' }));
    expect(fired.map((f) => f.rule)).toEqual(['topic_risk']);
    expect(await policy.evaluate(facts({ intent: 'security', intentProbability: 0.3 }))).toEqual(
      [],
    );
  });

  it('decides by the document: the same facts, another threshold, another decision', async () => {
    const lenient = parsePolicy(
      text
        .replace(/minConfidence: [0-9.]+/, 'minConfidence: 0.3')
        .replace(/version: .*/, 'version: lenient-1'),
    );
    expect(lenient.version).toMatch(/^lenient-1@[0-9a-f]{8}$/);
    expect(await lenient.evaluate(facts({ confidence: 0.4 }))).toEqual([]);
  });

  it('takes how long a request for a person waits for its proposal from the document, never past the join', () => {
    expect(policy.topicWaitMs).toBe(1500);
    const without = parsePolicy(text.replace(/^topicWaitMs: .*$/m, ''));
    expect(without.topicWaitMs).toBe(0);
    // Absent, it changes nothing of the document's content (its version's hash).
    expect(without.document).not.toHaveProperty('topicWaitMs');
    const longer = parsePolicy(text.replace(/^topicWaitMs: .*$/m, 'topicWaitMs: 20000'));
    expect(longer.topicWaitMs).toBe(longer.joinTimeoutMs);
    expect(() => parsePolicy(text.replace(/^topicWaitMs: .*$/m, 'topicWaitMs: -1'))).toThrow(
      /topicWaitMs/,
    );
  });

  it.each([
    ['version: x\njoinTimeoutMs: 1\nthresholds: {}\nrules: []', /rules/],
    [text.replace(/^version: .*$/m, ''), /version/],
    [text.replace('name: low_confidence', 'name: Low Confidence'), /snake_case/],
    [
      text.replace('value: { threshold: minConfidence }', 'value: { threshold: nope }'),
      /unknown threshold "nope"/,
    ],
    ['rules: [', /not valid YAML/],
  ])('rejects an invalid document, naming the problem (%#)', (doc, message) => {
    expect(() => parsePolicy(doc, 'test.yaml')).toThrow(PolicyError);
    expect(() => parsePolicy(doc, 'test.yaml')).toThrow(message);
  });
});

describe('the account, topic and page rules of the shipped policy', () => {
  const policy = loadDefaultPolicy();
  const rulesFor = async (over: Partial<Facts>) =>
    (await policy.evaluate(facts(over))).map((f) => f.rule);
  const fired = async (over: Partial<Facts>, rule: string) =>
    (await policy.evaluate(facts(over))).find((f) => f.rule === rule);
  const causesFor = async (over: Partial<Facts>) =>
    (await policy.evaluate(facts(over))).filter((f) => f.effect === 'handoff').map((f) => f.rule);
  const routeFor = async (over: Partial<Facts>) =>
    (await policy.evaluate(facts(over))).find((f) => f.team)?.team ?? '';

  it.each(RISK_TOPICS)(
    'hands a message about %s to a person with high priority, whatever the intent',
    async (t) => {
      expect(await causesFor({ riskTopics: [t] })).toEqual(['topic_risk']);
      expect((await fired({ riskTopics: ['other', t] }, 'topic_risk'))?.priority).toBe(
        Priority.HIGH,
      );
    },
  );

  it.each([
    [{ riskTopics: ['pricing_negotiation'], intent: 'billing' }, 'Account Management'],
    [{ riskTopics: ['contract_procurement'], intent: 'billing' }, 'Account Management'],
    [{ riskTopics: ['contract_procurement'], intent: 'contract_legal' }, 'Account Management'],
    [{ riskTopics: ['legal_terms'], intent: 'billing' }, 'Legal'],
    [{ riskTopics: ['legal_dispute'] }, 'Legal'],
    [{ riskTopics: [], intent: 'contract_legal' }, 'Legal'],
    // Legal terms in a negotiation: the legal team first.
    [{ riskTopics: ['pricing_negotiation', 'legal_terms'] }, 'Legal'],
    [{ riskTopics: ['privacy_request'], intent: 'billing' }, ''],
  ])('routes %j to the team %j, never to billing by default', async (over, team) => {
    expect(await routeFor(over)).toBe(team);
    const skills = (await policy.evaluate(facts(over))).flatMap((f) => f.skills);
    expect(skills).not.toContain('billing');
  });

  it('routes contracts with the contracts skill first, before what the intent says', async () => {
    const routed = await fired(
      { riskTopics: ['pricing_negotiation'], intent: 'billing' },
      'route_account_management',
    );
    expect(routed).toMatchObject({
      effect: 'priority',
      team: 'Account Management',
      skills: ['contracts', 'account_management'],
    });
  });

  it('hands off a shouting, urgent customer locked out of their account as urgent (urgent_lockout)', async () => {
    const locked = { lostAccess: true, signals: ['shouting', 'urgency'], valence: -0.2 };
    const lockout = await fired(locked, 'urgent_lockout');
    expect(lockout).toMatchObject({ priority: Priority.URGENT, skills: ['account', 'security'] });
    expect(lockout?.effect).toBe('handoff');
    // Each alone, or any two of the three, is not this rule.
    for (const over of [
      { lostAccess: true, signals: ['urgency'] },
      { lostAccess: true, signals: ['shouting'] },
      { lostAccess: false, signals: ['shouting', 'urgency'] },
    ])
      expect(await rulesFor(over)).not.toContain('urgent_lockout');
  });

  it('names only the branch of an any-rule that held, not the conditions of one that failed', async () => {
    const risk = await fired(
      { intent: 'billing', intentProbability: 0.98, riskTopics: ['regulated_advice'] },
      'topic_risk',
    );
    expect(risk?.detail).toContain('riskTopics ["regulated_advice"]');
    expect(risk?.detail).not.toContain('intentProbability');
    expect([risk?.value, risk?.threshold]).toEqual([1, 1]);
  });

  it('leaves a message without a risky topic to the AI', async () => {
    expect(await rulesFor({ riskTopics: [] })).toEqual([]);
    expect(await rulesFor({ riskTopics: ['smalltalk'] })).toEqual([]);
  });

  it('gives a VIP or enterprise account the AI answer only when it is nearly certain', async () => {
    const vip = await policy.evaluate(facts({ vip: true, confidence: 0.9 }));
    expect(vip.map((f) => [f.rule, f.value, f.threshold, f.effect])).toEqual([
      ['vip_account', 0.9, 0.94, 'handoff'],
      ['vip_priority', 1, 1, 'priority'],
    ]);
    expect(vip[0].priority).toBe(Priority.HIGH);
    expect(await rulesFor({ accountTier: 'enterprise', confidence: 0.9 })).toEqual([
      'vip_account',
      'vip_priority',
    ]);
    expect(await rulesFor({ vip: true, confidence: 0.94 })).toEqual(['vip_priority']);
    expect(await rulesFor({ accountTier: 'enterprise', confidence: 0.99 })).toEqual([
      'vip_priority',
    ]);
    expect(await rulesFor({ accountTier: 'pro', confidence: 0.9 })).toEqual([]);
  });

  it('sends a disputed charge of at least the threshold to billing', async () => {
    const dispute = await fired({ disputeAmount: 500 }, 'billing_dispute');
    expect(dispute).toEqual(
      expect.objectContaining({
        value: 500,
        threshold: 500,
        priority: Priority.HIGH,
        effect: 'handoff',
        skills: ['billing'],
      }),
    );
    expect(await rulesFor({ disputeAmount: 499 })).toEqual([]);
    expect(await rulesFor({ disputeAmount: 0 })).toEqual([]);
  });

  it('hands an at-risk account to retention when it is unhappy or talks of leaving', async () => {
    for (const over of [
      { valence: -0.1 },
      { signals: ['churn_threat'] },
      { intent: 'cancellation' },
    ] as Partial<Facts>[]) {
      expect(await rulesFor({ atRisk: true, ...over })).toEqual(['at_risk_account']);
    }
    expect((await fired({ atRisk: true, valence: -0.1 }, 'at_risk_account'))?.skills).toEqual([
      'retention',
    ]);
    expect(await rulesFor({ atRisk: true, valence: 0.4 })).toEqual([]);
    expect(await rulesFor({ atRisk: false, valence: -0.1, signals: ['churn_threat'] })).toEqual([]);
  });

  it('hands a reported problem on an account with an open incident to the technical team', async () => {
    for (const intent of ['bug_report', 'technical_integration', 'account_access']) {
      expect(await rulesFor({ openIncidents: 1, intent })).toEqual(['open_incident']);
    }
    expect(await rulesFor({ openIncidents: 2, signals: ['urgency'] })).toEqual(['open_incident']);
    expect(
      (await fired({ openIncidents: 1, intent: 'bug_report' }, 'open_incident'))?.skills,
    ).toEqual(['technical']);
    expect(await rulesFor({ openIncidents: 1, intent: 'how_to' })).toEqual([]);
    expect(await rulesFor({ openIncidents: 0, intent: 'bug_report' })).toEqual([]);
  });

  it('hands an urgent problem on an SLA account off as urgent', async () => {
    const urgent = await policy.evaluate(facts({ slaMinutes: 30, signals: ['urgency'] }));
    expect(urgent.map((f) => [f.rule, f.priority, f.effect])).toEqual([
      ['sla_urgent', Priority.URGENT, 'handoff'],
      ['sla_priority', Priority.HIGH, 'priority'],
    ]);
    expect(await rulesFor({ slaMinutes: 30 })).toEqual(['sla_priority']);
    expect(await rulesFor({ slaMinutes: 0, signals: ['urgency'] })).toEqual([]);
  });

  it('hands an unhappy or leaving customer on the cancellation page to retention', async () => {
    for (const over of [
      { valence: -0.1 },
      { signals: ['churn_threat'] },
      { intent: 'cancellation' },
    ] as Partial<Facts>[]) {
      expect(await rulesFor({ pageArea: 'cancellation', ...over })).toEqual(['cancellation_page']);
    }
    expect(await fired({ pageArea: 'cancellation', valence: -0.1 }, 'cancellation_page')).toEqual(
      expect.objectContaining({ priority: Priority.HIGH, skills: ['retention'] }),
    );
    expect(await rulesFor({ pageArea: 'cancellation', valence: 0.3 })).toEqual([]);
    expect(await rulesFor({ pageArea: 'billing', valence: -0.1 })).toEqual([]);
  });

  it('hands off a customer stuck on a billing page once an answer did not help', async () => {
    expect(
      await fired({ pageArea: 'billing', unhelpfulTurns: 1 }, 'billing_page_struggle'),
    ).toEqual(
      expect.objectContaining({
        priority: Priority.NORMAL,
        effect: 'handoff',
        skills: ['billing'],
      }),
    );
    expect(await rulesFor({ pageArea: 'billing', unhelpfulTurns: 0 })).toEqual([]);
    expect(await rulesFor({ pageArea: '', unhelpfulTurns: 1 })).toEqual([]);
  });

  it('keeps the VIP, SLA and routing rules to raising the priority: they never hand off alone', () => {
    const priorityOnly = policy.document.rules.filter((r) => r.effect === 'priority');
    expect(priorityOnly.map((r) => r.name)).toEqual([
      'vip_priority',
      'sla_priority',
      'route_legal',
      'route_account_management',
    ]);
  });

  it.each([
    ['/app/billing/invoices', 'billing'],
    ['/billing', 'billing'],
    ['/account/cancel', 'cancellation'],
    ['/Account/Cancel', 'cancellation'],
    ['/settings/security/2fa', 'security'],
    ['/settings/privacy', 'privacy'],
    ['/developers/webhooks', 'integrations'],
    ['/billing/cancel', 'billing'],
    ['/help', ''],
    ['/', ''],
    ['', ''],
  ])('maps the page %s to the product area "%s" (first match wins)', (path, area) => {
    expect(policy.pageArea(path)).toBe(area);
  });

  it('takes the page map from the document', () => {
    const custom = parsePolicy(text.replace('area: cancellation', 'area: retention'));
    expect(custom.pageArea('/account/cancel')).toBe('retention');
    const none = parsePolicy(text.replace(/^pages:[\s\S]*?^rules:/m, 'rules:'));
    expect(none.pageArea('/app/billing/invoices')).toBe('');
  });

  it.each([
    [text.replace('area: billing', 'area: Billing Page'), /pages\[0\]\.area: must be snake_case/],
    [text.replace(', area: security }', ' }'), /pages\[2\]\.area/],
    [text.replace('effect: priority', 'effect: boost'), /rules\[vip_priority\]\.effect/],
    [text.replace('priority: urgent', 'priority: critical'), /rules\[sla_urgent\]\.priority/],
    [text.replace('skills: [billing]', 'skills: billing'), /rules\[billing_dispute\]\.skills/],
  ])('rejects a bad page map or rule, naming the field (%#)', (doc, message) => {
    expect(() => parsePolicy(doc, 'test.yaml')).toThrow(PolicyError);
    expect(() => parsePolicy(doc, 'test.yaml')).toThrow(message);
  });
});
