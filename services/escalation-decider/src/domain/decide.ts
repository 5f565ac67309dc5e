import { Priority } from '@support/contracts';
import { findMessage, isBotActive, type ConversationState } from '@support/conversation';
import { detectHumanRequest } from './human-request.js';

/** Thresholds the decider applies; versioned so every decision names the policy it used. */
export interface Policy {
  version: string;
  /**
   * Below this confidence an AI answer is withheld and the conversation handed
   * off. The responder's confidence is calibrated: `npm run eval` reports the
   * threshold that keeps wrong answers under 5% on the labelled questions.
   */
  minConfidence: number;
  /** Below this intent probability a request for details or a small-talk reply is withheld. */
  minIntentConfidence: number;
  /** At or below this valence, with a frustration signal, the conversation is handed off. */
  frustratedValence: number;
  /** How long to wait for the AI's proposal and the sentiment before deciding on what has arrived. */
  joinTimeoutMs: number;
  /** The drop in smoothed valence the scorer calls a shift (reported against; the scorer decides). */
  shiftDrop: number;
  /** How alike a message must be to one the AI already answered to count as asking again. */
  repeatSimilarity: number;
}

export const defaultPolicy: Policy = {
  version: 'builtin-2',
  minConfidence: 0.9,
  minIntentConfidence: 0.5,
  frustratedValence: -0.5,
  joinTimeoutMs: 8000,
  shiftDrop: 0.4,
  repeatSimilarity: 0.6,
};

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

/**
 * Decides for one customer message: release the AI reply, hand off, wait for
 * the missing inputs, or nothing (already decided, or a person has the
 * conversation and the bot stays quiet). Pure: state and policy in, decision out.
 */
export function decide(
  state: ConversationState,
  messageId: string,
  policy: Policy,
  timedOut: boolean,
): Decision {
  const message = findMessage(state, messageId);
  if (!message) return { kind: 'none', why: 'unknown message' };
  if (message.decision) return { kind: 'none', why: 'already decided' };
  if (!isBotActive(state)) return { kind: 'none', why: `conversation is ${state.status}` };

  const language = (state.locale || 'en').slice(0, 2).toLowerCase();
  const triggers: TriggerFired[] = [];
  const human = detectHumanRequest(message.text);
  if (human) {
    triggers.push({
      rule: 'explicit_human_request',
      detail: `customer asked for a person: "${human.phrase}"`,
      value: 1,
      threshold: 1,
    });
  }
  const missing: string[] = [];
  if (!message.proposal) missing.push('ai_proposal');
  if (!message.score) missing.push('sentiment');

  if (triggers.length === 0) {
    if (missing.length && !timedOut) return { kind: 'wait' };
    if (!message.proposal) {
      triggers.push({
        rule: 'ai_unavailable',
        detail: `no AI reply within ${policy.joinTimeoutMs} ms`,
        value: 0,
        threshold: policy.joinTimeoutMs,
      });
    } else if (message.proposal.kind === 'no_answer') {
      triggers.push({
        rule: 'no_answer',
        detail: 'the AI has no grounded answer to give',
        value: message.proposal.confidence,
        threshold: policy.minConfidence,
      });
    } else {
      // Asking for details or answering a greeting risks little: it needs only a trusted intent.
      const conversational =
        message.proposal.kind === 'intake' || message.proposal.kind === 'smalltalk';
      const min = conversational ? policy.minIntentConfidence : policy.minConfidence;
      if (message.proposal.confidence < min) {
        triggers.push({
          rule: 'low_confidence',
          detail: `AI confidence ${message.proposal.confidence.toFixed(2)} is below ${min}`,
          value: message.proposal.confidence,
          threshold: min,
        });
      }
    }
    const score = message.score;
    if (score?.trajectory?.shift) {
      const t = score.trajectory;
      triggers.push({
        rule: 'sentiment_shift',
        detail: `the conversation turned negative: smoothed valence ${t.smoothed.toFixed(2)}, ${t.change.toFixed(2)} since the first message${t.turnedAtMessageId ? ` (turned at ${t.turnedAtMessageId})` : ''}`,
        value: t.change,
        threshold: -policy.shiftDrop,
      });
    }
    const repeated = score?.repeats && findMessage(state, score.repeats.messageId);
    if (
      score?.repeats &&
      repeated?.decision?.kind === 'released' &&
      score.repeats.similarity >= policy.repeatSimilarity
    ) {
      triggers.push({
        rule: 'repeated_question',
        detail: `the customer asks again what the AI already answered ("${repeated.text.slice(0, 80)}")`,
        value: score.repeats.similarity,
        threshold: policy.repeatSimilarity,
      });
    }
    if (
      score &&
      score.valence <= policy.frustratedValence &&
      score.signals.some((s) => s === 'frustration' || s === 'shouting' || s === 'profanity')
    ) {
      triggers.push({
        rule: 'frustration',
        detail: `valence ${score.valence.toFixed(2)} with ${score.signals.join(', ')}`,
        value: score.valence,
        threshold: policy.frustratedValence,
      });
    }
  }
  if (triggers.length === 0) return { kind: 'release', missing };

  const urgent = message.score?.signals.includes('urgency') ?? false;
  const intent = message.proposal?.intent ?? '';
  const signalled = urgent
    ? Priority.URGENT
    : triggers.some((t) => t.rule === 'frustration')
      ? Priority.HIGH
      : Priority.NORMAL;
  // The responder tags the intent's urgency and the skill a person needs; older proposals carry neither.
  const proposed = message.proposal?.requiredSkills ?? [];
  return {
    kind: 'handoff',
    triggers,
    priority: Math.max(signalled, message.proposal?.urgency ?? 0) as Priority,
    requiredSkills: proposed.length ? [...proposed] : [SKILL_BY_INTENT[intent] ?? 'general'],
    language: human?.language && !state.locale ? human.language : language,
    missing,
  };
}
