import type { Percentiles, ThresholdSuggestion } from './api.js';

/** Rates are fractions 0..1 rounded to 4 places; 0 over nothing. */
export const ratio = (part: number, whole: number): number =>
  whole > 0 ? round4(part / whole) : 0;

export const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** A percentile triple from the database (null over no samples), rounded to the millisecond. */
export function percentiles(count: number, values: (number | null)[] | null): Percentiles {
  const [p50, p90, p99] = (values ?? []).map((v) =>
    count > 0 && v !== null ? Math.round(Number(v) * 1000) / 1000 : null,
  );
  return { count, p50: p50 ?? null, p90: p90 ?? null, p99: p99 ?? null };
}

/** The change counted as a trend: a tenth either way. */
export const TREND_BAND = 0.1;

/**
 * Escalations in the range's second half against its first: the relative change (second - first) /
 * first (1 when the first half had none and the second some, 0 when both had none), and its word.
 */
export function trend(
  first: number,
  second: number,
): { trend: 'rising' | 'falling' | 'flat'; change: number } {
  const change = first > 0 ? round4((second - first) / first) : second > 0 ? 1 : 0;
  return {
    trend: change > TREND_BAND ? 'rising' : change < -TREND_BAND ? 'falling' : 'flat',
    change,
  };
}

/** Groups a handoff's first rule into what triggered it. */
export function triggerOf(rule: string | undefined): string {
  if (!rule) return 'unknown';
  if (/explicit|human_request/.test(rule)) return 'explicit_request';
  if (/frustration|sentiment|shift/.test(rule)) return 'sentiment';
  if (/confidence|no_answer|ai_unavailable/.test(rule)) return 'confidence';
  if (/repeat/.test(rule)) return 'repetition';
  if (/topic|legal|privacy|security|out_of_scope/.test(rule)) return 'topic';
  if (/vip|account|risk|dispute|incident|sla|tier/.test(rule)) return 'account';
  if (/page/.test(rule)) return 'page';
  return rule;
}

export type Comparison = 'lessThan' | 'lessThanInclusive' | 'greaterThan' | 'greaterThanInclusive';
export const COMPARISONS: readonly Comparison[] = [
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
];

/** Whether a rule comparing `value <operator> threshold` fires. */
export function fires(operator: Comparison, value: number, threshold: number): boolean {
  switch (operator) {
    case 'lessThan':
      return value < threshold;
    case 'lessThanInclusive':
      return value <= threshold;
    case 'greaterThan':
      return value > threshold;
    case 'greaterThanInclusive':
      return value >= threshold;
  }
}

/** The threshold, on a 0.01 grid, closest to the current one that no longer fires on `value`. */
function thresholdSparing(operator: Comparison, value: number): number {
  switch (operator) {
    case 'lessThan':
      return round2(Math.floor(value * 100 + 1e-9) / 100);
    case 'lessThanInclusive':
      return round2(Math.ceil(value * 100 - 1e-9) / 100 - 0.01);
    case 'greaterThan':
      return round2(Math.ceil(value * 100 - 1e-9) / 100);
    case 'greaterThanInclusive':
      return round2(Math.floor(value * 100 + 1e-9) / 100 + 0.01);
  }
}

/** One recorded handoff of a rule: the value it compared and whether it was a false escalation. */
export interface RuleSample {
  value: number;
  falseEscalation: boolean;
  /** No other handoff rule fired with it: a different threshold would have kept it from a person. */
  alone: boolean;
}

/** The share of a rule's confirmed handoffs a suggestion may send to the AI instead. */
export const MAX_MISSED_SHARE = 0.1;
/** False escalations a suggestion must spare at least: one is no cluster. */
export const MIN_SPARED = 2;

/**
 * The threshold suggestion for one rule: among thresholds that make the rule stricter (fire on
 * fewer values) and that spare a recorded false escalation, the one that would have kept the most
 * false escalations from a person while sending at most MAX_MISSED_SHARE (rounded down) of the
 * confirmed handoffs to the AI; ties go to fewer missed, then to the smaller move. Null when it
 * would spare fewer than MIN_SPARED false escalations.
 */
export function suggestThreshold(
  rule: string,
  policy: { threshold: string; operator: Comparison; current: number },
  samples: RuleSample[],
): ThresholdSuggestion | null {
  const { operator, current } = policy;
  const considered = samples.filter((s) => s.alone);
  const confirmed = samples.filter((s) => !s.falseEscalation).length;
  const allowedMissed = Math.floor(confirmed * MAX_MISSED_SHARE);
  const stricter = (t: number) => (operator.startsWith('less') ? t < current : t > current);
  const candidates = [
    ...new Set(
      considered
        .filter((s) => s.falseEscalation)
        .map((s) => thresholdSparing(operator, s.value))
        .filter(stricter),
    ),
  ];
  let best: { t: number; spared: number; missed: number } | null = null;
  for (const t of candidates) {
    const spared = considered.filter(
      (s) => s.falseEscalation && !fires(operator, s.value, t),
    ).length;
    const missed = considered.filter(
      (s) => !s.falseEscalation && !fires(operator, s.value, t),
    ).length;
    if (missed > allowedMissed) continue;
    const better =
      !best ||
      spared > best.spared ||
      (spared === best.spared &&
        (missed < best.missed ||
          (missed === best.missed && Math.abs(t - current) < Math.abs(best.t - current))));
    if (better) best = { t, spared, missed };
  }
  if (!best || best.spared < MIN_SPARED) return null;
  const falseTotal = samples.filter((s) => s.falseEscalation).length;
  const verb = best.t < current ? 'Lowering' : 'Raising';
  return {
    threshold: policy.threshold,
    current,
    suggested: best.t,
    rationale:
      `${verb} ${policy.threshold} from ${current} to ${best.t} would have kept ${best.spared} of ` +
      `${rule}'s ${falseTotal} false escalations from a person and sent ${best.missed} of its ` +
      `${confirmed} confirmed handoffs to the AI instead (at most ${allowedMissed} allowed).`,
    wouldAvoidFalse: best.spared,
    wouldMissConfirmed: best.missed,
  };
}

/** Where the decider's policy compares a rule with a named threshold. */
export interface RuleThreshold {
  threshold: string;
  operator: Comparison;
  current: number;
}

interface Condition {
  operator?: unknown;
  value?: unknown;
  all?: unknown;
  any?: unknown;
  not?: unknown;
}

function findCondition(node: unknown): { name: string; operator: Comparison } | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const found = findCondition(n);
      if (found) return found;
    }
    return undefined;
  }
  if (!node || typeof node !== 'object') return undefined;
  const c = node as Condition;
  const value = c.value as { threshold?: unknown } | undefined;
  if (
    value &&
    typeof value === 'object' &&
    typeof value.threshold === 'string' &&
    COMPARISONS.includes(c.operator as Comparison)
  )
    return { name: value.threshold, operator: c.operator as Comparison };
  return findCondition(c.all) ?? findCondition(c.any) ?? findCondition(c.not);
}

/** The named threshold a policy document's rule compares with (its first such condition), if any. */
export function ruleThreshold(document: unknown, rule: string): RuleThreshold | undefined {
  const doc = document as {
    rules?: { name?: unknown; when?: unknown }[];
    thresholds?: Record<string, unknown>;
  };
  const found = doc?.rules?.find((r) => r?.name === rule);
  const condition = found && findCondition(found.when);
  const current = condition && doc.thresholds?.[condition.name];
  if (!condition || typeof current !== 'number') return undefined;
  return { threshold: condition.name, operator: condition.operator, current };
}

/** The candidate policy for a what-if: the document with one threshold changed and a version saying so. */
export function patchPolicy(
  document: Record<string, unknown>,
  threshold: string,
  value: number,
): Record<string, unknown> {
  const thresholds = (document.thresholds ?? {}) as Record<string, number>;
  return {
    ...document,
    version: `${String(document.version ?? 'policy')}+${threshold}=${value}`,
    thresholds: { ...thresholds, [threshold]: value },
  };
}

/** Sentiment at or below which a conversation counts as a negative trajectory. */
export const CHURN_SENTIMENT = -0.3;
/** A fall from the start at least this large is a negative trajectory too. */
export const CHURN_FALL = -0.4;
/** A handed-off conversation rated this or lower. */
export const CHURN_CSAT = 2;

export interface AccountSignals {
  tier: string;
  vip: boolean;
  atRisk: boolean;
  /** Over the account's conversations: the lowest smoothed sentiment, the largest fall (null: none scored). */
  sentiment: number | null;
  change: number | null;
  /** The lowest rating of a handed-off conversation. */
  lowestHandoffCsat: number | null;
}

/**
 * Why an account is a churn risk, in words; empty when it is not: it must matter (the CRM flags it
 * at risk, or it is enterprise or VIP) and show trouble (a negative trajectory or a handoff rated
 * 2 or lower).
 */
export function churnReasons(a: AccountSignals): string[] {
  const standing: string[] = [];
  if (a.atRisk) standing.push('the CRM flags the account at risk');
  if (a.tier.toLowerCase() === 'enterprise') standing.push('enterprise tier');
  if (a.vip || a.tier.toLowerCase() === 'vip') standing.push('VIP account');
  const trouble: string[] = [];
  if (a.sentiment !== null && a.sentiment <= CHURN_SENTIMENT)
    trouble.push(`sentiment fell to ${round2(a.sentiment)}`);
  if (a.change !== null && a.change <= CHURN_FALL)
    trouble.push(`sentiment dropped by ${round2(-a.change)} within a conversation`);
  if (a.lowestHandoffCsat !== null && a.lowestHandoffCsat <= CHURN_CSAT)
    trouble.push(`a handed-off conversation was rated ${a.lowestHandoffCsat} of 5`);
  return standing.length && trouble.length ? [...standing, ...trouble] : [];
}
