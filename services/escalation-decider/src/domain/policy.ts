import { readFileSync } from 'node:fs';
import { Engine, type RuleProperties, type TopLevelConditionResult } from 'json-rules-engine';
import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { issuesOf, Priority } from '@support/contracts';
import { checkBands } from './policy-bands.js';
import { checkPolicy, ruleLabel, type PolicyIssue } from './policy-check.js';
import { versionOf } from './policy-version.js';

/**
 * The escalation policy as data: a versioned YAML or JSON document of named
 * thresholds and rules. Rules are json-rules-engine conditions over the facts
 * the decider gathers for a message (see `Facts`); a value may name a
 * threshold as `{ threshold: <name> }`. Every rule that fires hands the
 * conversation off, and the decision names it with the values it saw.
 */
const condition: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(condition).min(1) }),
    z.strictObject({ any: z.array(condition).min(1) }),
    z.strictObject({ not: condition }),
    z.strictObject({
      fact: z.string().min(1),
      operator: z.string().min(1),
      value: z.unknown(),
      path: z.string().optional(),
    }),
  ]),
);

const PRIORITIES = {
  low: Priority.LOW,
  normal: Priority.NORMAL,
  high: Priority.HIGH,
  urgent: Priority.URGENT,
};

export const policySchema = z.strictObject({
  version: z.string().min(1),
  description: z.string().default(''),
  /** How long to wait for the AI's proposal and the sentiment before deciding on what has arrived. */
  joinTimeoutMs: z.number().int().positive(),
  /**
   * How long an explicit request for a person waits for the AI's proposal of
   * the same message, for what the handoff is about (its intent and skills);
   * then it goes with what the conversation's earlier turns say. Never longer
   * than joinTimeoutMs; absent or 0: no wait.
   */
  topicWaitMs: z.number().int().min(0).max(60_000).optional(),
  /**
   * How long in all a message may wait for the AI's proposal while the AI
   * responder has not yet read as far as the message (it crashed, restarts or
   * rebalances), before the handoff for a missing answer (ai_unavailable):
   * one slow responder should not hand every waiting customer to a person.
   * Never shorter than joinTimeoutMs; absent or 0: no longer than it.
   */
  aiOutageWaitMs: z.number().int().min(0).max(600_000).optional(),
  thresholds: z.record(z.string(), z.number()),
  /**
   * The page map: the product area of the page the customer is on, from the
   * path of its URL (picomatch globs, first match wins), for rules to combine
   * with the rest (fact pageArea).
   */
  pages: z
    .array(
      z.strictObject({
        match: z.string().min(1),
        area: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case'),
      }),
    )
    .default([]),
  rules: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case'),
        detail: z.string().min(1),
        /** The handoff's priority when this rule fires (the highest of the fired rules wins). */
        priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal'),
        /**
         * handoff: the conversation goes to a person. priority: the rule only
         * raises the priority (and adds skills) of a handoff that another
         * trigger causes, e.g. VIP accounts are served first. review: the AI's
         * reply waits for a person to approve, edit or take it over (a handoff
         * rule that fires too wins).
         */
        effect: z.enum(['handoff', 'priority', 'review']).default('handoff'),
        /** Skills a person needs when this rule fires, added to the intent's (names from directory.teams). */
        skills: z.array(z.string().min(1)).default([]),
        /** The team the handoff is meant for when this rule fires (a name from directory.teams). */
        team: z.string().trim().min(1).max(100).optional(),
        when: condition,
      }),
    )
    .min(1),
});

export type PolicyDocument = z.infer<typeof policySchema>;

/** What the rules may look at, for one customer message. */
export interface Facts {
  /** A proposal arrived (false only when the join timed out without one). */
  hasProposal: boolean;
  proposalKind: string;
  confidence: number;
  intent: string;
  intentProbability: number;
  outOfScope: boolean;
  flags: string[];
  /** A score arrived. */
  hasScore: boolean;
  valence: number;
  signals: string[];
  trajectoryChange: number;
  shift: boolean;
  /** The score carries the learned frustration score (false for scores from before it existed). */
  hasFrustration: boolean;
  /** How frustrated the customer sounds in this message, 0..1 (0 without a frustration score). */
  frustration: number;
  /** The messages' frustration smoothed from a calm start, since the last handback, 0..1. */
  frustrationTrend: number;
  /** Similarity to an earlier message the AI answered (0 when it repeats none). */
  repeatOfAnswered: number;
  /** Customer messages, this one included, that say an AI answer did not help. */
  unhelpfulTurns: number;
  pageUrl: string;
  joinTimeoutMs: number;
  /** Legal dispute, pricing negotiation, privacy request, security incident or regulated advice, from the wording. */
  riskTopics: string[];
  /** found, unknown, unavailable or none (the conversation names no account). */
  accountLookup: string;
  accountTier: string;
  vip: boolean;
  atRisk: boolean;
  monthlyValue: number;
  /** The amount of the charge the customer disputes in this message (0 when they dispute nothing). */
  disputeAmount: number;
  openIncidents: number;
  /** First-response target of the account's SLA in minutes (0: no SLA). */
  slaMinutes: number;
  /** The product area of the page the customer is on, from the policy's page map ('' when unmapped). */
  pageArea: string;
  /** The customer says they cannot get into their account: locked out, cannot log in, lost their second factor, account disabled. */
  lostAccess: boolean;
}

export interface FiredRule {
  rule: string;
  detail: string;
  value: number;
  threshold: number;
  priority: Priority;
  effect: 'handoff' | 'priority' | 'review';
  skills: string[];
  /** The team the rule names ('' when none). */
  team: string;
}

/** A document that is not a valid policy: `issues` name each field and the rule it is in. */
export class PolicyError extends Error {
  constructor(
    source: string,
    readonly issues: PolicyIssue[],
  ) {
    super(`${source}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.name = 'PolicyError';
  }
}

/** A policy ready to evaluate. */
export class Policy {
  private readonly engine: Engine;
  private readonly pageMatchers: { test: (path: string) => boolean; area: string }[];
  /** `<document version>@<content hash>` (see versionOf): what decisions record. */
  readonly version: string;
  /**
   * What loads but is likely a mistake: rules that can never fire because their bounds leave
   * nothing between them (an empty review band after minConfidence moved under
   * reviewMinConfidence). Logged where a policy comes into force.
   */
  readonly warnings: PolicyIssue[];

  /** `version`: the stored name of this document (policy.versions); by default computed from it. */
  constructor(
    readonly document: PolicyDocument,
    version?: string,
  ) {
    this.version = version ?? versionOf(document);
    this.warnings = checkBands(document);
    this.engine = new Engine([], { allowUndefinedFacts: false });
    // A list fact shares an element with the given list (e.g. riskTopics containsAny [legal_dispute]).
    this.engine.addOperator('containsAny', (fact: unknown, value: unknown) =>
      Array.isArray(fact) && Array.isArray(value) ? value.some((v) => fact.includes(v)) : false,
    );
    this.pageMatchers = document.pages.map((p) => ({
      test: picomatch(p.match, { dot: true, nocase: true }),
      area: p.area,
    }));
    for (const r of document.rules) {
      const rule: RuleProperties = {
        name: r.name,
        conditions: resolveThresholds(
          r.when,
          document.thresholds,
          r.name,
        ) as RuleProperties['conditions'],
        event: { type: 'handoff', params: { rule: r.name } },
      };
      this.engine.addRule(rule);
    }
  }

  get joinTimeoutMs(): number {
    return this.document.joinTimeoutMs;
  }

  /** How long in all a message waits for a proposal the AI responder has not yet read as far as. */
  get aiOutageWaitMs(): number {
    return Math.max(this.document.aiOutageWaitMs ?? 0, this.document.joinTimeoutMs);
  }

  /** How long an explicit request for a person waits for its message's proposal (0: not at all). */
  get topicWaitMs(): number {
    return Math.min(this.document.topicWaitMs ?? 0, this.document.joinTimeoutMs);
  }

  threshold(name: string, fallback: number): number {
    return this.document.thresholds[name] ?? fallback;
  }

  /** The product area the page map gives a URL's path ('' when no pattern matches). */
  pageArea(path: string): string {
    if (!path) return '';
    return this.pageMatchers.find((m) => m.test(path))?.area ?? '';
  }

  /** The rules that fire on these facts, in the document's order, each with what it compared. */
  async evaluate(facts: Facts): Promise<FiredRule[]> {
    const { results } = await this.engine.run({ ...facts });
    const fired = new Set(results.map((r) => r.name));
    return this.document.rules
      .filter((r) => fired.has(r.name))
      .map((r) => {
        const result = results.find((x) => x.name === r.name)!;
        const compared = comparisons(result.conditions);
        const numeric = compared.find(
          (c) => typeof c.fact === 'number' && typeof c.value === 'number',
        );
        return {
          rule: r.name,
          detail: `${r.detail} (${compared.map((c) => `${c.name} ${JSON.stringify(c.fact)} ${c.operator} ${JSON.stringify(c.value)}`).join(', ')})`,
          value: typeof numeric?.fact === 'number' ? numeric.fact : 1,
          threshold: typeof numeric?.value === 'number' ? numeric.value : 1,
          priority: PRIORITIES[r.priority],
          effect: r.effect,
          skills: r.skills,
          team: r.team ?? '',
        };
      });
  }
}

/**
 * The router's vocabulary as the decider reads it from directory.teams: the
 * teams with the skills each covers, and every known skill.
 */
export interface DirectoryVocabulary {
  teams: readonly { name: string; skills: readonly string[] }[];
  skills: readonly { name: string }[];
}

const known = (names: string[]) => (names.length ? names.join(', ') : '(none)');

/**
 * The team and skill names the policy's rules use that the directory does not
 * know (or a team that does not cover a skill the same rule asks for), each
 * naming the rule. Empty when every name is known. The policy API answers 400
 * with these; the policy file fails to load at start-up.
 */
export function validatePolicyAgainstDirectory(
  policy: Pick<PolicyDocument, 'rules'>,
  vocabulary: DirectoryVocabulary,
): PolicyIssue[] {
  const teams = new Map(vocabulary.teams.map((t) => [t.name, new Set(t.skills)]));
  const skills = new Set(vocabulary.skills.map((k) => k.name));
  const issues: PolicyIssue[] = [];
  policy.rules.forEach((r) => {
    const covered = r.team ? teams.get(r.team) : undefined;
    if (r.team && !covered)
      issues.push({
        field: `rules[${r.name}].team`,
        rule: 'unknown_team',
        policyRule: r.name,
        message: `rule ${r.name} names team "${r.team}", which the directory does not know; known teams: ${known([...teams.keys()])}`,
      });
    r.skills.forEach((skill, j) => {
      if (!skills.has(skill))
        issues.push({
          field: `rules[${r.name}].skills[${j}]`,
          rule: 'unknown_skill',
          policyRule: r.name,
          message: `rule ${r.name} names skill "${skill}", which the directory does not know; known skills: ${known([...skills].sort())}`,
        });
      else if (covered && !covered.has(skill))
        issues.push({
          field: `rules[${r.name}].skills[${j}]`,
          rule: 'skill_not_in_team',
          policyRule: r.name,
          message: `rule ${r.name} sends "${skill}" to team ${r.team}, which does not cover it; it covers ${known([...covered])}`,
        });
    });
  });
  return issues;
}

/**
 * The team a handoff needing these skills is meant for when no rule names
 * one: the team covering the most of them (the first skill, the most
 * important, breaks a tie, then the name); '' when no team covers any.
 */
export function teamForSkills(skills: readonly string[], vocabulary: DirectoryVocabulary): string {
  let best = { name: '', covered: 0, first: false };
  for (const team of [...vocabulary.teams].sort((a, b) => a.name.localeCompare(b.name))) {
    const covered = skills.filter((s) => team.skills.includes(s)).length;
    const first = skills.length > 0 && team.skills.includes(skills[0]!);
    if (covered > best.covered || (covered === best.covered && covered > 0 && first && !best.first))
      best = { name: team.name, covered, first };
  }
  return best.name;
}

/**
 * Parses and validates a policy document (YAML or JSON); throws PolicyError
 * naming each problem's field and, inside a rule, the rule by its name.
 */
export function parsePolicy(text: string, source = 'policy'): Policy {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new PolicyError(source, [
      {
        field: '(document)',
        rule: 'syntax',
        message: `not valid YAML or JSON: ${(err as Error).message}`,
      },
    ]);
  }
  return policyFromObject(raw, source);
}

/** Validates a parsed document (an object from YAML or JSON); throws PolicyError. */
export function policyFromObject(raw: unknown, source = 'policy'): Policy {
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    const rules = (raw as { rules?: unknown } | null)?.rules;
    throw new PolicyError(
      source,
      parsed.error.issues.map((issue) => {
        const [first] = issuesOf(new z.ZodError([issue]));
        if (issue.path[0] !== 'rules' || typeof issue.path[1] !== 'number')
          return { ...first, field: first.field === '(body)' ? '(document)' : first.field };
        const { label, name } = ruleLabel(rules, issue.path[1]);
        return {
          ...first,
          field: first.field.replace(/^rules\[\d+\]/, label),
          ...(name ? { policyRule: name } : {}),
        };
      }),
    );
  }
  const issues = checkPolicy(parsed.data);
  if (issues.length) throw new PolicyError(source, issues);
  try {
    return new Policy(parsed.data);
  } catch (err) {
    throw new PolicyError(source, [
      { field: '(document)', rule: 'policy', message: (err as Error).message },
    ]);
  }
}

export function loadPolicyFile(file: string): Policy {
  return parsePolicy(readFileSync(file, 'utf8'), file);
}

/** Replaces `{ threshold: name }` values with the named number; an unknown name is an error. */
function resolveThresholds(
  node: unknown,
  thresholds: Record<string, number>,
  rule: string,
): unknown {
  if (Array.isArray(node)) return node.map((n) => resolveThresholds(n, thresholds, rule));
  if (!node || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  if ('fact' in obj && 'operator' in obj) {
    const value = obj.value as { threshold?: string } | undefined;
    if (value && typeof value === 'object' && !Array.isArray(value) && 'threshold' in value) {
      const n = thresholds[String(value.threshold)];
      if (n === undefined) throw new Error(`rule ${rule}: unknown threshold "${value.threshold}"`);
      return { ...obj, value: n };
    }
    return obj;
  }
  return Object.fromEntries(
    Object.entries(obj).map(([k, v]) => [k, resolveThresholds(v, thresholds, rule)]),
  );
}

interface Comparison {
  name: string;
  operator: string;
  fact: unknown;
  value: unknown;
}

/** The conditions that held in a fired rule, with the fact's value and what it was compared with. */
function comparisons(node: TopLevelConditionResult | Record<string, unknown>): Comparison[] {
  const n = node as Record<string, unknown>;
  // A group that did not hold (a branch of an `any` that failed) is not why the rule fired, even
  // if some of its own conditions held.
  if (n.result === false) return [];
  for (const key of ['all', 'any'] as const) {
    if (Array.isArray(n[key]))
      return (n[key] as Record<string, unknown>[]).flatMap((c) => comparisons(c));
  }
  if (n.not) return [];
  if (typeof n.fact === 'string' && n.result === true) {
    return [
      {
        name: n.fact,
        operator: String(n.operator),
        fact: n.factResult,
        value: n.valueResult ?? n.value,
      },
    ];
  }
  return [];
}
