import type { ConversationState, MessageView, ProposalView } from '@support/conversation';

/**
 * What a handoff is about, from the AI's proposals: the intent, the product
 * area (topic) and the skills a person needs. A message's own proposal says it
 * when it names a subject; a request for a person, small talk or a message
 * decided before its proposal arrived says nothing of the subject, and then
 * the conversation's latest earlier message that did speaks for it, so the
 * handoff is not sent to "general" after three turns about an integration.
 */
export interface HandoffTopic {
  intent: string;
  topic: string;
  /** The skills, most important first; empty when the proposals name none but "general". */
  skills: string[];
  /** The message whose proposal this comes from. */
  messageId: string;
}

/** The skill a person needs for an intent, for proposals that do not carry their skills. */
export const SKILL_BY_INTENT: Record<string, string> = {
  billing: 'billing',
  invoices: 'billing',
  plans: 'billing',
  api: 'technical',
  sso: 'technical',
  webhooks: 'technical',
  integrations: 'technical',
  technical_integration: 'technical',
  bug_report: 'technical',
  account_access: 'account',
  cancellation: 'retention',
  contract_legal: 'legal',
  compliance_privacy: 'privacy',
  security: 'security',
};

/** Product areas (the topic of the articles the AI used) that name a skill of their own. */
const SKILL_BY_TOPIC: Record<string, string> = {
  integrations: 'integrations',
  api: 'api',
  billing: 'billing',
  invoices: 'billing',
  account: 'account',
  security: 'security',
  privacy: 'privacy',
};

/** Intents that say nothing of what the customer needs a person for. */
const NO_SUBJECT = new Set([
  '',
  'unknown',
  'human_request',
  'smalltalk',
  'out_of_scope',
  'feedback',
]);

const GENERAL = 'general';

/**
 * The subject a proposal names, or none (no proposal, out of scope, or an
 * intent without a subject). `trustIntent` false: the classifier was unsure
 * of the intent, so only the product area of the articles the AI answered
 * from says which skills are needed.
 */
export function topicOfProposal(
  messageId: string,
  p: ProposalView | undefined,
  trustIntent = true,
): HandoffTopic | undefined {
  if (!p || p.outOfScope || NO_SUBJECT.has(p.intent)) return undefined;
  const proposed = p.requiredSkills.length ? p.requiredSkills : [SKILL_BY_INTENT[p.intent] ?? ''];
  const named = trustIntent ? proposed.filter((s) => s && s !== GENERAL) : [];
  const byTopic = SKILL_BY_TOPIC[p.topic];
  const skills = named.length ? named : byTopic ? [byTopic] : [];
  return { intent: p.intent, topic: p.topic, skills, messageId };
}

/**
 * What a handoff on `message` is about: its own proposal's subject when it
 * names one; else the latest earlier customer message's whose intent the
 * classifier was sure of (`minIntentProbability`, the policy's
 * minIntentConfidence), or that the AI answered (then by the product area of
 * its answer when the intent was unsure); undefined when the conversation
 * never named one.
 */
export function handoffTopic(
  state: ConversationState,
  message: MessageView,
  minIntentProbability: number,
): HandoffTopic | undefined {
  const own = topicOfProposal(message.messageId, message.proposal);
  if (own) return own;
  const at = state.messages.findIndex((m) => m.messageId === message.messageId);
  const earlier = state.messages.slice(0, at < 0 ? state.messages.length : at).reverse();
  for (const m of earlier) {
    const trusted = (m.proposal?.intentProbability ?? 0) >= minIntentProbability;
    if (!trusted && m.decision?.kind !== 'released') continue;
    const t = topicOfProposal(m.messageId, m.proposal, trusted);
    if (t && (trusted || t.skills.length)) return t;
  }
  return undefined;
}

/** The skills a handoff on `message` needs by its subject: the topic's, else "general". */
export function topicSkills(
  state: ConversationState,
  message: MessageView,
  minIntentProbability: number,
): string[] {
  const skills = handoffTopic(state, message, minIntentProbability)?.skills ?? [];
  return skills.length ? [...skills] : [GENERAL];
}
