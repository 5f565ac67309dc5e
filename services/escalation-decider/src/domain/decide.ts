import { join } from 'node:path';
import { Priority } from '@support/contracts';
import {
  findMessage,
  isBotActive,
  lastHandbackAt,
  type ConversationState,
  type MessageView,
} from '@support/conversation';
import { disputeAmount, NO_CONTEXT, pagePath, type DecisionContext } from './context.js';
import { frustrationTrend } from './frustration.js';
import { lexiconDetector, type HumanRequest } from './human-request.js';
import { loadPolicyFile, type Facts, type FiredRule, type Policy } from './policy.js';
import { reviewDecision, type ReviewDecision } from './review.js';
import { riskTopics } from './risk-topics.js';
import { lostAccess } from './access.js';
import { topicSkills } from './topic.js';

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
  /** `forMs`: how long to wait at most, when shorter than the join's timeout. */
  | { kind: 'wait'; forMs?: number }
  | { kind: 'release'; missing: string[] }
  | ReviewDecision
  | {
      kind: 'handoff';
      triggers: TriggerFired[];
      /** Rules that raised the priority without causing the handoff (e.g. a VIP account). */
      priorityReasons: TriggerFired[];
      priority: Priority;
      requiredSkills: string[];
      /** The team a fired rule names (the handoff's cause first); '' when none does. */
      team: string;
      language: string;
      missing: string[];
    };

/** A customer telling the AI that its answer did not help, in the main European languages. */
const UNHELPFUL =
  /\b(did(n'?t| not) (help|work|answer)|does(n'?t| not) (help|work|answer)|not (helpful|what i (asked|need(ed)?))|that'?s not (it|right|what)|still (not|doesn'?t|does not|isn'?t|can'?t)|no help|useless|ça (ne )?m'?a pas aidé|hat nicht geholfen|no (me )?ha ayudado|não ajudou|non (mi )?ha aiutato|helpt niet)\b/i;

/**
 * The flag the AI responder puts on a reply it drafts for the person who has
 * or awaits the conversation: the agent's desk offers it, the decider never
 * releases it.
 */
export const DRAFT_FOR_AGENT = 'draft_for_agent';

/**
 * The customer messages whose history the rules look over: those since the AI
 * last took the conversation back from a person (all of them when it never
 * did), so that signals from before the handback do not hand it off again.
 */
export function messagesSinceHandback(state: ConversationState): MessageView[] {
  const since = lastHandbackAt(state);
  return since ? state.messages.filter((m) => m.at >= since) : state.messages;
}

/** Messages since the handback, up to and including `message`, that answer a released AI reply by saying it did not help. */
export function unhelpfulTurns(state: ConversationState, message: MessageView): number {
  let n = 0;
  let afterAnswer = false;
  for (const m of messagesSinceHandback(state)) {
    if (afterAnswer && UNHELPFUL.test(m.text)) n++;
    if (m.messageId === message.messageId) break;
    afterAnswer = afterAnswer || m.decision?.kind === 'released';
  }
  return n;
}

/** How the sentiment scorer smooths valences and calls a shift (services/sentiment-scorer/src/domain/trajectory.ts). */
const SMOOTHING = 0.5;
const SHIFT_DROP = 0.4;
const SHIFT_FLOOR = -0.2;

/**
 * The sentiment's change and shift through `message`, as the rules see them:
 * the scorer's trajectory, or after a handback the same trajectory over the
 * messages since (the scorer's runs from the conversation's first message).
 */
export function trajectorySinceHandback(
  state: ConversationState,
  message: MessageView,
): { change: number; shift: boolean } {
  const s = message.score;
  if (!s) return { change: 0, shift: false };
  if (!lastHandbackAt(state))
    return { change: s.trajectory?.change ?? 0, shift: s.trajectory?.shift ?? false };
  const valences: number[] = [];
  for (const m of messagesSinceHandback(state)) {
    if (m.score) valences.push(m.score.valence);
    if (m.messageId === message.messageId) break;
  }
  const start = valences[0] ?? s.valence;
  let smoothed = start;
  for (const v of valences.slice(1)) smoothed = SMOOTHING * v + (1 - SMOOTHING) * smoothed;
  const change = Math.round((smoothed - start) * 10_000) / 10_000;
  return { change, shift: change <= -SHIFT_DROP && smoothed <= SHIFT_FLOOR };
}

/**
 * What the policy's rules see of one customer message, its conversation and
 * their context. What looks over the conversation's history (the trajectory,
 * repeats of answered questions, "that didn't help" turns) counts only the
 * messages since the last handback.
 */
export function factsOf(
  state: ConversationState,
  message: MessageView,
  policy: Policy,
  context: DecisionContext = NO_CONTEXT,
): Facts {
  const p = message.proposal;
  const account = context.account;
  const s = message.score;
  const since = lastHandbackAt(state);
  const repeatedAny = s?.repeats ? findMessage(state, s.repeats.messageId) : undefined;
  // A repeat of a question from before the handback is not the AI failing again.
  const repeated = repeatedAny && (!since || repeatedAny.at >= since) ? repeatedAny : undefined;
  const trajectory = trajectorySinceHandback(state, message);
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
    trajectoryChange: trajectory.change,
    shift: trajectory.shift,
    hasFrustration: s?.frustration !== undefined,
    frustration: s?.frustration ?? 0,
    frustrationTrend: frustrationTrend(state, message),
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
    lostAccess: lostAccess(message.text),
  };
}

/** Which layer heard the request, and how sure the classifier was. */
const humanRequestDetail = (h: HumanRequest): string =>
  h.layer === 'lexicon'
    ? `customer asked for a person (lexicon, ${h.language}): "${h.phrase}"`
    : `customer asked for a person (classifier, p=${h.probability.toFixed(3)} ≥ ${h.threshold}): "${h.phrase}"`;

const asTrigger = ({ rule, detail, value, threshold }: FiredRule): TriggerFired => ({
  rule,
  detail,
  value,
  threshold,
});

/**
 * Decides for one customer message: release the AI reply, hand off, wait for
 * the missing inputs, or nothing (already decided; a person has the
 * conversation and the bot stays quiet; the message came while a person had
 * it, or its proposal is a draft for the agent). An explicit request for a
 * person is honoured without waiting for the AI's join: at most the policy's
 * topicWaitMs for its proposal, which says what the handoff is about (else
 * the conversation's earlier turns say it); everything else is the policy's
 * rules over the message's facts.
 */
/**
 * The wait for a proposal has run out, but the AI responder has not yet read
 * as far as the message: it is down or catching up, not failing on this
 * message. Wait on, within the policy's outage budget, rather than hand off.
 */
function aiOutageWait(policy: Policy, context: DecisionContext): Decision | undefined {
  const ai = context.aiResponder;
  if (ai?.position !== 'behind') return undefined;
  const left = policy.aiOutageWaitMs - ai.waitedMs;
  if (left <= 0) return undefined;
  return { kind: 'wait', forMs: Math.min(left, policy.joinTimeoutMs) };
}

/**
 * Why a message needs no decision of the decider (it has one, or it is not the AI's to answer),
 * or undefined when it still needs one.
 */
export function decidedOrNotOurs(
  state: ConversationState,
  message: MessageView,
): string | undefined {
  if (message.decision) return 'already decided';
  if (!isBotActive(state)) return `conversation is ${state.status}`;
  // A draft is for the agent's desk only, even when the conversation is back with the AI by now.
  if (message.proposal?.flags.includes(DRAFT_FOR_AGENT))
    return 'the proposal is a draft for the agent';
  const since = lastHandbackAt(state);
  if (since && message.at < since) return 'the message came while a person had the conversation';
  return undefined;
}

/** The messages of a conversation that still wait for the decider's decision, oldest first. */
export const awaitingDecision = (state: ConversationState): MessageView[] =>
  state.messages.filter((m) => !decidedOrNotOurs(state, m));

export async function decide(
  state: ConversationState,
  messageId: string,
  policy: Policy,
  timedOut: boolean,
  context: DecisionContext = NO_CONTEXT,
): Promise<Decision> {
  const message = findMessage(state, messageId);
  if (!message) return { kind: 'none', why: 'unknown message' };
  const settled = decidedOrNotOurs(state, message);
  if (settled) return { kind: 'none', why: settled };

  const language = (state.locale || 'en').slice(0, 2).toLowerCase();
  const missing: string[] = [];
  if (!message.proposal) missing.push('ai_proposal');
  if (!message.score) missing.push('sentiment');

  const triggers: TriggerFired[] = [];
  const human = await (context.detectHumanRequest ?? lexiconDetector)(message.text);
  if (human) {
    // What the handoff is about comes with the AI's proposal: wait for it a moment (topicWaitMs), no longer.
    if (!message.proposal && !timedOut && policy.topicWaitMs > 0)
      return { kind: 'wait', forMs: policy.topicWaitMs };
    triggers.push({
      rule: 'explicit_human_request',
      detail: humanRequestDetail(human),
      value: human.probability,
      threshold: human.threshold,
    });
  } else if (missing.length && !timedOut) return { kind: 'wait' };
  else if (!message.proposal) {
    const outage = aiOutageWait(policy, context);
    if (outage) return outage;
  }
  // On an explicit request the rules still run on what has arrived (never waiting), but only
  // to set the priority and skills: the request alone decides the handoff.
  const fired = await policy.evaluate(factsOf(state, message, policy, context));
  const causes = human ? [] : fired.filter((f) => f.effect === 'handoff');
  triggers.push(...causes.map(asTrigger));
  const boosts = fired.filter((f) => f.effect === 'priority');
  // No handoff: a review rule may still hold the reply for a person to check (review.ts).
  if (triggers.length === 0)
    return reviewDecision(message, fired, language, missing) ?? { kind: 'release', missing };

  const urgent = message.score?.signals.includes('urgency') ?? false;
  // The subject's skills: this message's proposal's, else the conversation's earlier turns'.
  const intentSkills = topicSkills(state, message, policy.threshold('minIntentConfidence', 0.5));
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
    team: [...causes, ...boosts].find((f) => f.team)?.team ?? '',
    // The words the customer wrote for a person say their language better than the widget's locale.
    language: human?.language || language,
    missing,
  };
}
