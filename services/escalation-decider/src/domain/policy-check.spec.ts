import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DEFAULT_POLICY_FILE } from './decide';
import { parsePolicy, PolicyError, type PolicyDocument } from './policy';
import { FACT_NAMES } from './policy-check';

const shipped = readFileSync(DEFAULT_POLICY_FILE, 'utf8');
const shippedDoc = parseYaml(shipped) as PolicyDocument;

/** The shipped document with `edit` applied to a copy of it, as YAML. */
const edited = (edit: (doc: PolicyDocument) => void): string => {
  const doc = structuredClone(shippedDoc);
  edit(doc);
  return stringifyYaml(doc);
};

const issuesOf = (text: string) => {
  try {
    parsePolicy(text, 'test');
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).issues;
  }
  throw new Error('the document was accepted');
};

const rule = (doc: PolicyDocument, name: string) => doc.rules.find((r) => r.name === name)!;

describe('policy validation names the rule by its name and the field', () => {
  it('an unknown fact', () => {
    const issues = issuesOf(
      edited((d) => {
        rule(d, 'frustration').when = {
          all: [{ fact: 'mood', operator: 'equal', value: 'angry' }],
        };
      }),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        field: 'rules[frustration].when.all[0].fact',
        rule: 'unknown_fact',
        policyRule: 'frustration',
        message: expect.stringContaining('unknown fact "mood"'),
      }),
    ]);
  });

  it('an unknown operator, and a list operator given a single value, deep in any/not', () => {
    const issues = issuesOf(
      edited((d) => {
        rule(d, 'no_answer').when = {
          any: [
            { not: { fact: 'confidence', operator: 'lessThanOrSo', value: 0.5 } },
            { fact: 'intent', operator: 'in', value: 'billing' },
          ],
        };
      }),
    );
    expect(issues.map((i) => [i.field, i.rule, i.policyRule])).toEqual([
      ['rules[no_answer].when.any[0].not.operator', 'unknown_operator', 'no_answer'],
      ['rules[no_answer].when.any[1].value', 'type', 'no_answer'],
    ]);
  });

  it('a threshold the document does not define', () => {
    const issues = issuesOf(
      shipped.replace('{ threshold: vipMinConfidence }', '{ threshold: noSuchThreshold }'),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        field: 'rules[vip_account].when.all[1].value',
        rule: 'unknown_threshold',
        policyRule: 'vip_account',
        message: expect.stringContaining('unknown threshold "noSuchThreshold"'),
      }),
    ]);
  });

  it('two rules of the same name', () => {
    const issues = issuesOf(
      edited((d) => {
        d.rules.push({ ...rule(d, 'frustration') });
      }),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        field: 'rules[frustration].name',
        rule: 'unique',
        policyRule: 'frustration',
      }),
    ]);
  });

  it('a schema error inside a rule (its priority), and one in a rule without a usable name', () => {
    const issues = issuesOf(
      edited((d) => {
        (rule(d, 'sla_urgent') as { priority: string }).priority = 'critical';
        (d.rules[0] as { name: unknown }).name = 42;
      }),
    );
    expect(issues.map((i) => [i.field, i.policyRule])).toEqual([
      ['rules[0].name', undefined],
      ['rules[sla_urgent].priority', 'sla_urgent'],
    ]);
  });

  it('outside the rules: the field alone', () => {
    const issues = issuesOf(shipped.replace(/^joinTimeoutMs: .*$/m, 'joinTimeoutMs: soon'));
    expect(issues).toEqual([
      expect.objectContaining({ field: 'joinTimeoutMs', rule: 'invalid_type' }),
    ]);
    expect(issues[0].policyRule).toBeUndefined();
  });

  it("accepts every fact of the decider and json-rules-engine's decorated operators", () => {
    expect(FACT_NAMES).toContain('atRisk');
    const policy = parsePolicy(
      edited((d) => {
        rule(d, 'frustration').when = {
          all: [{ fact: 'signals', operator: 'someFact:equal', value: 'frustration' }],
        };
      }),
    );
    expect(policy.document.rules.map((r) => r.name)).toContain('frustration');
  });

  it('the shipped policy has no issue', () => {
    expect(() => parsePolicy(shipped)).not.toThrow();
  });
});
