import type { PolicyDocument } from './policy.js';
import type { PolicyIssue } from './policy-check.js';

/**
 * A rule whose `all` bounds one numeric fact from below and from above with
 * bounds that leave nothing between them can never fire: e.g. a review band
 * `confidence >= reviewMinConfidence` and `confidence < minConfidence` after
 * `minConfidence` was lowered under `reviewMinConfidence`. The policy still
 * loads (the shipped rules then hand off under minConfidence and review
 * nothing, and a what-if may try such thresholds), but the band is reported
 * as a warning naming the rule and both thresholds. Only the rule's top-level
 * `all` is looked at (bands are written there); pure.
 */

type Bound = { value: number; inclusive: boolean; label: string };

const LOWER = new Set(['greaterThan', 'greaterThanInclusive']);
const UPPER = new Set(['lessThan', 'lessThanInclusive']);

interface Leaf {
  fact?: unknown;
  operator?: unknown;
  value?: unknown;
}

/** The number a condition compares with (a named threshold resolved), and how to name it. */
function boundOf(leaf: Leaf, thresholds: Record<string, number>): Bound | undefined {
  const inclusive = String(leaf.operator).endsWith('Inclusive');
  if (typeof leaf.value === 'number')
    return { value: leaf.value, inclusive, label: `${leaf.value}` };
  const named = leaf.value as { threshold?: unknown } | null;
  if (!named || typeof named !== 'object' || !('threshold' in named)) return undefined;
  const value = thresholds[String(named.threshold)];
  if (value === undefined) return undefined; // reported by checkPolicy as unknown_threshold
  return { value, inclusive, label: `${String(named.threshold)} (${value})` };
}

function tighter(a: Bound | undefined, b: Bound, lower: boolean): Bound {
  if (!a) return b;
  if (a.value === b.value) return a.inclusive ? b : a;
  return lower === a.value > b.value ? a : b;
}

/** Issues for rules whose bounds on a fact cannot both hold. */
export function checkBands(document: Pick<PolicyDocument, 'rules' | 'thresholds'>): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  for (const rule of document.rules) {
    const all = (rule.when as { all?: unknown }).all;
    if (!Array.isArray(all)) continue;
    const bounds = new Map<string, { lower?: Bound; upper?: Bound }>();
    for (const leaf of all as Leaf[]) {
      if (typeof leaf?.fact !== 'string') continue;
      const op = String(leaf.operator);
      const lower = LOWER.has(op);
      if (!lower && !UPPER.has(op)) continue;
      const bound = boundOf(leaf, document.thresholds);
      if (!bound) continue;
      const known = bounds.get(leaf.fact) ?? {};
      if (lower) known.lower = tighter(known.lower, bound, true);
      else known.upper = tighter(known.upper, bound, false);
      bounds.set(leaf.fact, known);
    }
    for (const [fact, { lower, upper }] of bounds) {
      if (!lower || !upper) continue;
      const empty =
        lower.value > upper.value ||
        (lower.value === upper.value && !(lower.inclusive && upper.inclusive));
      if (empty)
        issues.push({
          field: `rules[${rule.name}].when.all`,
          rule: 'empty_band',
          policyRule: rule.name,
          message: `rule ${rule.name} can never fire: ${fact} must be at least ${lower.label} and below ${upper.label}`,
        });
    }
  }
  return issues;
}
