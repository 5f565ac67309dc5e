import type { FieldIssue } from '@support/contracts';
import type { Facts, PolicyDocument } from './policy.js';

/** A problem in a policy document: the field (rules named, e.g. `rules[vip_account].when.all[1].value`) and the rule it is in. */
export interface PolicyIssue extends FieldIssue {
  /** The name of the policy rule the problem is in (absent for thresholds, pages, version...). */
  policyRule?: string;
}

/**
 * Every fact a condition may name (`Facts`); the compiler keeps it complete.
 * The rules engine would only notice an unknown fact when a message is
 * decided, so a document naming one is refused up front.
 */
const FACTS: { [K in keyof Facts]: true } = {
  hasProposal: true,
  proposalKind: true,
  confidence: true,
  intent: true,
  intentProbability: true,
  outOfScope: true,
  flags: true,
  hasScore: true,
  valence: true,
  signals: true,
  trajectoryChange: true,
  shift: true,
  hasFrustration: true,
  frustration: true,
  frustrationTrend: true,
  repeatOfAnswered: true,
  unhelpfulTurns: true,
  pageUrl: true,
  joinTimeoutMs: true,
  riskTopics: true,
  accountLookup: true,
  accountTier: true,
  vip: true,
  atRisk: true,
  monthlyValue: true,
  disputeAmount: true,
  openIncidents: true,
  slaMinutes: true,
  pageArea: true,
  lostAccess: true,
};
export const FACT_NAMES = Object.keys(FACTS) as (keyof Facts)[];

/** json-rules-engine's operators, and the policy's own containsAny. */
const OPERATORS = new Set([
  'equal',
  'notEqual',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'containsAny',
]);
/** json-rules-engine's operator decorators, written `<decorator>:<operator>` (e.g. someFact:equal). */
const DECORATORS = new Set(['someFact', 'someValue', 'everyFact', 'everyValue', 'swap', 'not']);
/** Operators whose value is a list. */
const LIST_VALUE = new Set(['in', 'notIn', 'containsAny']);

function knownOperator(name: string): boolean {
  const parts = name.split(':');
  const operator = parts.pop()!;
  return OPERATORS.has(operator) && parts.every((d) => DECORATORS.has(d));
}

/** `rules[<name>]` when the rule at that index has a usable name, else `rules[<index>]`. */
export function ruleLabel(rules: unknown, index: number): { label: string; name?: string } {
  const rule = Array.isArray(rules) ? (rules[index] as { name?: unknown } | undefined) : undefined;
  const name = typeof rule?.name === 'string' && rule.name ? rule.name : undefined;
  return { label: `rules[${name ?? index}]`, name };
}

/**
 * What the schema cannot see: duplicate rule names, unknown facts and
 * operators, thresholds a rule names that the document does not define, and
 * list operators given something other than a list. Each issue names the rule.
 */
export function checkPolicy(document: PolicyDocument): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const seen = new Set<string>();
  for (const rule of document.rules) {
    const at = `rules[${rule.name}]`;
    const issue = (field: string, code: string, message: string) =>
      issues.push({
        field: `${at}${field}`,
        rule: code,
        policyRule: rule.name,
        message,
      });
    if (seen.has(rule.name)) issue('.name', 'unique', `the name is used by an earlier rule too`);
    seen.add(rule.name);
    walk(rule.when, '.when', (leaf, path) => {
      if (!(FACTS as Record<string, unknown>)[leaf.fact])
        issue(
          `${path}.fact`,
          'unknown_fact',
          `unknown fact "${leaf.fact}" (one of ${FACT_NAMES.join(', ')})`,
        );
      if (!knownOperator(leaf.operator))
        issue(
          `${path}.operator`,
          'unknown_operator',
          `unknown operator "${leaf.operator}" (one of ${[...OPERATORS].join(', ')})`,
        );
      const value = leaf.value as { threshold?: unknown } | undefined;
      const named =
        value && typeof value === 'object' && !Array.isArray(value) && 'threshold' in value;
      if (named && document.thresholds[String(value.threshold)] === undefined)
        issue(
          `${path}.value`,
          'unknown_threshold',
          `unknown threshold "${String(value.threshold)}" (defined: ${Object.keys(document.thresholds).join(', ') || 'none'})`,
        );
      if (LIST_VALUE.has(leaf.operator) && !Array.isArray(leaf.value) && !named)
        issue(`${path}.value`, 'type', `operator ${leaf.operator} needs a list as its value`);
    });
  }
  return issues;
}

interface Leaf {
  fact: string;
  operator: string;
  value: unknown;
}

/** Calls `visit` with every fact condition under `node` and its path (e.g. `.when.all[1]`). */
function walk(node: unknown, path: string, visit: (leaf: Leaf, path: string) => void): void {
  if (!node || typeof node !== 'object') return;
  const n = node as Record<string, unknown>;
  for (const key of ['all', 'any'] as const) {
    if (Array.isArray(n[key]))
      (n[key] as unknown[]).forEach((c, i) => walk(c, `${path}.${key}[${i}]`, visit));
  }
  if (n.not) walk(n.not, `${path}.not`, visit);
  if (typeof n.fact === 'string' && typeof n.operator === 'string') visit(n as never, path);
}
