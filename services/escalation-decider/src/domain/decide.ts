import { join } from 'node:path';
import { Priority } from '@support/contracts';
import {
  findMessage,
  isBotActive,
  type ConversationState,
  type MessageView,
} from '@support/conversation';
import { disputeAmount, NO_CONTEXT, pagePath, type DecisionContext } from './context.js';
import { detectHumanRequest } from './human-request.js';
import { loadPolicyFile, type Facts, type FiredRule, type Policy } from './policy.js';
import { riskTopics } from './risk-topics.js';

/** The policy the decider ships with (services/escalation-decider/policy/default.yaml). */
export const DEFAULT_POLICY_FILE = join(__dirname, '..', '..', 'policy', 'default.yaml');
export const loadDefaultPolicy = (): Policy => loadPolicyFile(DEFAULT_POLICY_FILE);

export interface TriggerFired {
  rule: string;
  detail: string;
  value: number;
  threshold: number;
}

export type Decision =
  | { kind: 'none'; why: string }
  | { kind: 'wait' }
  | { kind: 'release'; missing: string[] }
  | {
      kind: 'handoff';
      triggers: TriggerFired[];
      /** Rules that raised the priority without causing the handoff (e.g. a VIP account). */
      priorityReasons: TriggerFired[];
      priority: Priority;
      requiredSkills: string[];
      language: string;
      missing: string[];
    };

const SKILL_BY_INTENT: Record<string, string> = {
  billing: 'billing',
  invoices: 'billing',
  plans: 'billing',
  api: 'technical',
  sso: 'technical',
  webhooks: 'technical',
  integrations: 'technical',
};

/** A customer telling the AI that its answer did not help, in the main European languages. */
const UNHELPFUL =
  /\b(did(n'?t| not) (help|work|answer)|does(n'?t| not) (help|work|answer)|not (helpful|what i (asked|need(ed)?))|that'?s not (it|right|what)|still (not|doesn'?t|does not|isn'?t|can'?t)|no help|useless|ça (ne )?m'?a pas aidé|hat nicht geholfen|no (me )?ha ayudado|não ajudou|non (mi )?ha aiutato|helpt niet)\b/i;

/** Messages, up to and including `message`, that answer a released AI reply by saying it did not help. */
export function unhelpfulTurns(state: ConversationState, message: MessageView): number {
  let n = 0;
  let afterAnswer = false;
  for (const m of state.messages) {
    if (afterAnswer && UNHELPFUL.test(m.text)) n++;
    if (m.messageId === message.messageId) break;
    afterAnswer = afterAnswer || m.decision?.kind === 'released';
  }
  return n;
}

/** What the policy's rules see of one customer message, its conversation and their context. */
export function factsOf(
  state: ConversationState,
  message: MessageView,
  policy: Policy,
  context: DecisionContext = NO_CONTEXT,
): Facts {
  const p = message.proposal;
  const account = context.account;
  const s = message.score;
  const repeated = s?.repeats ? findMessage(state, s.repeats.messageId) : undefined;
  return {
    hasProposal: !!p,
    proposalKind: p?.kind ?? 'unspecified',
    confidence: p?.confidence ?? 0,
    intent: p?.intent ?? '',
    intentProbability: p?.intentProbability ?? 0,
    outOfScope: p?.outOfScope ?? false,
    flags: p?.flags ?? [],
    hasScore: !!s,
    valence: s?.valence ?? 0,
    signals: s?.signals ?? [],
    trajectoryChange: s?.trajectory?.change ?? 0,
    shift: s?.trajectory?.shift ?? false,
    repeatOfAnswered: repeated?.decision?.kind === 'released' ? (s?.repeats?.similarity ?? 0) : 0,
    unhelpfulTurns: unhelpfulTurns(state, message),
    pageUrl: context.pageUrl || state.pageUrl,
    joinTimeoutMs: policy.joinTimeoutMs,
    riskTopics: riskTopics(message.text),
    accountLookup: context.accountLookup,
    accountTier: account?.tier.toLowerCase() ?? '',
    vip: account?.vip ?? false,
    atRisk: account?.atRisk ?? false,
    monthlyValue: account?.monthlyValue ?? 0,
    disputeAmount: disputeAmount(state, message, account),
    openIncidents: account?.openIncidents.length ?? 0,
    slaMinutes: account?.slaFirstResponseMinutes ?? 0,
    pageArea: policy.pageArea(pagePath(context.pageUrl || state.pageUrl)),
  };
}

const asTrigger = ({ rule, detail, value, threshold }: FiredRule): TriggerFired => ({
  rule,
  detail,
  value,
  threshold,
});

/**
 * Decides for one customer message: release the AI reply, hand off, wait for
 * the missing inputs, or nothing (already decided, or a person has the
 * conversation and the bot stays quiet). An explicit request for a person is
 * honoured at once, without waiting for the AI; everything else is the
 * policy's rules over the message's facts.
 */
export async function decide(
  state: ConversationState,
  messageId: string,
  policy: Policy,
  timedOut: boolean,
  context: DecisionContext = NO_CONTEXT,
): Promise<Decision> {
  const message = findMessage(state, messageId);
  if (!message) return { kind: 'none', why: 'unknown message' };
  if (message.decision) return { kind: 'none', why: 'already decided' };
  if (!isBotActive(state)) return { kind: 'none', why: `conversation is ${state.status}` };

  const language = (state.locale || 'en').slice(0, 2).toLowerCase();
  const missing: string[] = [];
  if (!message.proposal) missing.push('ai_proposal');
  if (!message.score) missing.push('sentiment');

  const triggers: TriggerFired[] = [];
  const human = detectHumanRequest(message.text);
  if (human) {
    triggers.push({
      rule: 'explicit_human_request',
      detail: `customer asked for a person: "${human.phrase}"`,
      value: 1,
      threshold: 1,
    });
  } else if (missing.length && !timedOut) return { kind: 'wait' };
  // On an explicit request the rules still run on what has arrived (never waiting), but only
  // to set the priority and skills: the request alone decides the handoff.
  const fired = await policy.evaluate(factsOf(state, message, policy, context));
  const causes = human ? [] : fired.filter((f) => f.effect === 'handoff');
  triggers.push(...causes.map(asTrigger));
  const boosts = fired.filter((f) => f.effect === 'priority');
  if (triggers.length === 0) return { kind: 'release', missing };

  const urgent = message.score?.signals.includes('urgency') ?? false;
  const intent = message.proposal?.intent ?? '';
  // The responder tags the intent's urgency and the skill a person needs; older proposals carry neither.
  const proposed = message.proposal?.requiredSkills ?? [];
  const intentSkills = proposed.length ? [...proposed] : [SKILL_BY_INTENT[intent] ?? 'general'];
  const ruleSkills = [...causes, ...boosts].flatMap((f) => f.skills);
  return {
    kind: 'handoff',
    triggers,
    priorityReasons: boosts.map(asTrigger),
    priority: Math.max(
      urgent ? Priority.URGENT : Priority.NORMAL,
      ...[...causes, ...boosts].map((f) => f.priority),
      message.proposal?.urgency ?? 0,
    ) as Priority,
    // The skills the rules name come first: a billing dispute needs billing even if the intent said otherwise.
    requiredSkills: [...new Set([...ruleSkills, ...intentSkills])].filter(
      (skill, _, all) => skill !== 'general' || all.length === 1,
    ),
    // The words the customer wrote for a person say their language better than the widget's locale.
    language: human?.language || language,
    missing,
  };
}
