import type { Rules } from '../api';
import type { Load } from './Section';

/** The escalation policy the decider has in force, as the dashboard shows it. */
export type PolicyInForce =
  { state: 'loading' } | { state: 'known'; version: string } | { state: 'unknown'; why: string };

/**
 * From the rules view (the metrics service reads the decider's GET /v1/policy
 * with its own key, so the browser never holds one): the version decisions
 * are being made under, e.g. "default-4@1f0c9a2b".
 */
export function policyInForce(rules: Load<Rules>): PolicyInForce {
  if (rules.state === 'loading') return { state: 'loading' };
  if (rules.state === 'error') return { state: 'unknown', why: rules.message };
  const { policyVersion, policyError } = rules.data;
  if (policyVersion) return { state: 'known', version: policyVersion };
  return { state: 'unknown', why: policyError ?? 'the escalation decider did not say' };
}
