import { Priority } from '@support/contracts';
import type { MessageView } from '@support/conversation';
import type { TriggerFired } from './decide.js';
import type { FiredRule } from './policy.js';

/**
 * The third outcome between release and handoff: the policy's `review` rules
 * (e.g. answers in a confidence band just under the release threshold, a
 * topic, an account tier) hold the AI's reply for a person to approve as is,
 * edit, or take the conversation. A handoff rule that fires wins; an explicit
 * request for a person is a handoff. Pure.
 */
export interface ReviewDecision {
  kind: 'review';
  /** The review rules that fired. */
  triggers: TriggerFired[];
  priorityReasons: TriggerFired[];
  priority: Priority;
  /** Skills the reviewer needs: the rules', then the topic's as the responder tagged it. */
  requiredSkills: string[];
  team: string;
  language: string;
  missing: string[];
}

const asTrigger = ({ rule, detail, value, threshold }: FiredRule): TriggerFired => ({
  rule,
  detail,
  value,
  threshold,
});

/** A draft a person can approve: a proposal with text that is not a "no answer" holding line. */
export function reviewableDraft(message: MessageView): boolean {
  const p = message.proposal;
  return !!p && p.kind !== 'no_answer' && p.text.trim().length > 0;
}

/**
 * The review the fired rules ask for when no handoff rule fired, or
 * undefined when no review rule fired (the reply is released). Without a
 * draft to check, the review rules hand the conversation off instead: a
 * person was to see this answer, and there is none to show.
 */
export function reviewDecision(
  message: MessageView,
  fired: FiredRule[],
  language: string,
  missing: string[],
): ReviewDecision | (Omit<ReviewDecision, 'kind'> & { kind: 'handoff' }) | undefined {
  const reviews = fired.filter((f) => f.effect === 'review');
  if (!reviews.length) return undefined;
  const boosts = fired.filter((f) => f.effect === 'priority');
  const rules = [...reviews, ...boosts];
  const proposed = message.proposal?.requiredSkills ?? [];
  const skills = [...new Set([...rules.flatMap((f) => f.skills), ...proposed])];
  const urgent = message.score?.signals.includes('urgency') ?? false;
  return {
    kind: reviewableDraft(message) ? 'review' : 'handoff',
    triggers: reviews.map(asTrigger),
    priorityReasons: boosts.map(asTrigger),
    priority: Math.max(
      urgent ? Priority.URGENT : Priority.NORMAL,
      ...rules.map((f) => f.priority),
      message.proposal?.urgency ?? 0,
    ) as Priority,
    requiredSkills: skills.length
      ? skills.filter((s) => s !== 'general' || skills.length === 1)
      : ['general'],
    team: rules.find((f) => f.team)?.team ?? '',
    language,
    missing,
  };
}
