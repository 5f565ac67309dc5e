import { readFileSync } from 'node:fs';
import { DEFAULT_POLICY_FILE, loadDefaultPolicy } from './decide';
import { parsePolicy, PolicyError, type Facts } from './policy';
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
  repeatOfAnswered: 0,
  unhelpfulTurns: 0,
  pageUrl: '',
  joinTimeoutMs: 8000,
  ...over,
});

const text = readFileSync(DEFAULT_POLICY_FILE, 'utf8');

describe('the escalation policy as data', () => {
  const policy = loadDefaultPolicy();

  it('loads the shipped policy, versioned', () => {
    expect(policy.version).toMatch(/^default-\d+$/);
    expect(policy.threshold('minConfidence', NaN)).toBe(0.9);
  });

  it('fires nothing for a confident answer to a calm customer', async () => {
    expect(await policy.evaluate(facts())).toEqual([]);
  });

  it('names every rule that fires with the value it saw against its threshold', async () => {
    const fired = await policy.evaluate(
      facts({ confidence: 0.4, valence: -0.7, signals: ['frustration'] }),
    );
    expect(fired.map((f) => [f.rule, f.value, f.threshold])).toEqual([
      ['low_confidence', 0.4, 0.9],
      ['frustration', -0.7, -0.5],
    ]);
    expect(fired[1].priority).toBe(Priority.HIGH);
    expect(fired[0].detail).toContain('confidence 0.4 lessThan 0.9');
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
        .replace('minConfidence: 0.9', 'minConfidence: 0.3')
        .replace(/version: .*/, 'version: lenient-1'),
    );
    expect(lenient.version).toBe('lenient-1');
    expect(await lenient.evaluate(facts({ confidence: 0.4 }))).toEqual([]);
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
