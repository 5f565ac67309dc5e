import type { Account, BriefingSchema, MessageInitShape } from '@support/contracts';
import { Priority } from '@support/contracts';
import type { ConversationState } from '@support/conversation';
import { pagePath, type DecisionContext } from './context.js';
import type { Decision, TriggerFired } from './decide.js';
import type { Policy } from './policy.js';
import { handoffTopic } from './topic.js';

export type BriefingInit = MessageInitShape<typeof BriefingSchema>;

type Handoff = Extract<Decision, { kind: 'handoff' }>;

const SPEAKER = { customer: 1, ai: 2, agent: 3, system: 4 } as const;
const PRIORITY_NAME: Record<number, string> = {
  [Priority.LOW]: 'low',
  [Priority.NORMAL]: 'normal',
  [Priority.HIGH]: 'high',
  [Priority.URGENT]: 'urgent',
};

const cut = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;
/** On one line, at most `max` characters. */
const clip = (text: string, max: number) => cut(text.replace(/\s+/g, ' ').trim(), max);

const money = (amount: number, currency: string) =>
  `${currency ? `${currency} ` : ''}${amount.toLocaleString('en-US', { maximumFractionDigits: 2 })}`;

/** One line on the account: who they are and what needs care. */
export function accountLine(account: Account | undefined, lookup: string): string {
  if (!account) {
    if (lookup === 'unknown') return 'Account: not found in the CRM.';
    if (lookup === 'unavailable') return 'Account: the CRM could not be reached; check it by hand.';
    return '';
  }
  const parts = [
    account.name || account.accountId,
    account.tier && `${account.tier} tier`,
    account.plan,
    account.vip ? 'VIP' : '',
    account.atRisk ? 'AT RISK' : '',
    account.monthlyValue ? `${money(account.monthlyValue, account.currency)}/month` : '',
    account.sla
      ? `SLA ${account.sla}${account.slaFirstResponseMinutes ? ` (${account.slaFirstResponseMinutes} min first response)` : ''}`
      : '',
    account.owner ? `owner ${account.owner}` : '',
  ].filter(Boolean);
  const disputed = account.openInvoices.filter((i) => i.status.toLowerCase() === 'disputed');
  const overdue = account.openInvoices.filter((i) => i.status.toLowerCase() === 'overdue');
  const notes = [
    disputed.length
      ? `disputed ${disputed.map((i) => `${i.invoiceId} ${money(i.amount, i.currency)}`).join(', ')}`
      : '',
    overdue.length ? `${overdue.length} overdue invoice(s)` : '',
    ...account.openIncidents.map(
      (i) => `open incident ${i.incidentId}${i.severity ? ` (${i.severity})` : ''}: ${i.title}`,
    ),
  ].filter(Boolean);
  return `Account: ${parts.join(', ')}.${notes.length ? ` ${notes.join('; ')}.` : ''}`;
}

const minute = (at: string) => at.slice(0, 16).replace('T', ' ');

/** The stretches a person held the conversation before this handoff: who, when, how it ended, their note. */
export function earlierStretchesLine(state: ConversationState): string {
  const ended = (state.humanStretches ?? []).filter((s) => s.to);
  if (!ended.length) return '';
  const each = ended.map((s) => {
    const how = s.ended === 'resolved' ? 'resolved' : 'handed back to the AI';
    const note = s.note.trim() ? `: "${clip(s.note, 200)}"` : '';
    return `${s.agentName || s.agentId} from ${minute(s.from)} to ${minute(s.to)}, ${how}${note}`;
  });
  return `Earlier with a person: ${each.join('; ')}.`;
}

/** Summary lines that quote the customer begin with these labels (a model sees them only as data). */
export const CUSTOMER_QUOTE_LINE = /^(Asked|Latest): /;

/** A rule's detail without the comparisons the policy appends in parentheses. */
const reasons = (ts: TriggerFired[]) =>
  ts
    .map((t) => {
      const cut = t.detail.endsWith(')') ? t.detail.lastIndexOf(' (') : -1;
      return cut > 0 ? t.detail.slice(0, cut) : t.detail;
    })
    .join('; ');

/**
 * What the agent reads instead of the transcript: why the conversation is
 * theirs, who the customer is, what they want, what the AI tried and what
 * is known, each on one line, then the full record below it.
 */
export function buildBriefing(
  state: ConversationState,
  triggerMessageId: string,
  decision: Handoff,
  context: DecisionContext,
  policy: Policy,
): BriefingInit {
  const customerMessages = state.messages;
  const trigger =
    customerMessages.find((m) => m.messageId === triggerMessageId) ?? customerMessages.at(-1);
  const first = customerMessages[0];
  const intents = customerMessages
    .map((m) => m.proposal?.intent)
    .filter((i): i is string => !!i && i !== 'unknown');
  const attempts = state.transcript.filter((t) => t.speaker === 'ai').map((t) => clip(t.text, 300));
  const articles = [...new Set(customerMessages.flatMap((m) => m.proposal?.articlesTried ?? []))];
  const latest = [...customerMessages].reverse().find((m) => m.proposal)?.proposal;
  const details = state.details ?? [];
  const missingDetails = latest?.missingDetails ?? [];
  const trajectory = [...customerMessages].reverse().find((m) => m.score?.trajectory)
    ?.score?.trajectory;
  // What the handoff is about: the trigger's subject, else the conversation's (a request for a person names none).
  const subject = trigger
    ? handoffTopic(state, trigger, policy.threshold('minIntentConfidence', 0.5))
    : undefined;
  const intent = subject?.intent ?? intents.at(-1) ?? 'unknown';
  const topic = subject?.topic ?? latest?.topic ?? '';
  const pageUrl = context.pageUrl || state.pageUrl;
  const path = pagePath(pageUrl);
  const area = policy.pageArea(path);
  const turnedAt = trajectory?.turnedAtMessageId
    ? customerMessages.findIndex((m) => m.messageId === trajectory.turnedAtMessageId) + 1
    : 0;

  const lines = [
    `Why: ${reasons(decision.triggers)}${decision.priorityReasons.length ? `; priority raised: ${reasons(decision.priorityReasons)}` : ''}.`,
    accountLine(context.account, context.accountLookup),
    first ? `Asked: "${clip(first.text, 200)}"` : '',
    trigger && trigger !== first ? `Latest: "${clip(trigger.text, 200)}"` : '',
    `About: ${intent.replace(/_/g, ' ')}${topic ? `, ${topic}` : ''}${path ? `; on page ${path}${area ? ` (${area})` : ''}` : ''}.`,
    earlierStretchesLine(state),
    attempts.length
      ? `AI tried ${attempts.length} answer(s)${articles.length ? ` from ${articles.join(', ')}` : ''}.`
      : 'The AI sent no answer.',
    details.length
      ? `Known: ${details.map((d) => `${d.name} ${clip(d.value, 60)}`).join(', ')}.`
      : '',
    missingDetails.length ? `Still needed: ${missingDetails.join(', ')}.` : '',
    trajectory && trajectory.messages > 1
      ? `Mood: ${trajectory.start.toFixed(2)} -> ${trajectory.smoothed.toFixed(2)}${trajectory.shift ? ', turned negative' : ''}${turnedAt ? ` at message ${turnedAt}` : ''}.`
      : '',
    `Priority ${PRIORITY_NAME[decision.priority] ?? 'normal'};${decision.team ? ` for team ${decision.team};` : ''} needs ${decision.requiredSkills.join(', ')}; language ${decision.language}.`,
  ].filter(Boolean);

  return {
    summary: lines.join('\n'),
    summaryGenerator: 'extractive',
    transcript: state.transcript.map((t) => ({
      speaker: SPEAKER[t.speaker],
      text: t.text,
      at: t.at,
    })),
    intent,
    aiAttempts: attempts,
    articlesTried: articles,
    customerId: state.customerId,
    accountId: state.accountId,
    channel: state.channel,
    pageUrl,
    page: { url: pageUrl, path, area },
    sentimentTrajectory: customerMessages.filter((m) => m.score).map((m) => m.score!.valence),
    trajectory: trajectory ? { ...trajectory } : undefined,
    collectedDetails: details.map((d) => ({ ...d, value: cut(d.value, 600) })),
    missingDetails,
    topic,
    account: context.account,
    accountLookup: context.accountLookup,
    triggers: decision.triggers,
    priorityReasons: decision.priorityReasons,
    priority: decision.priority,
    language: decision.language,
    requiredSkills: decision.requiredSkills,
    policyVersion: policy.version,
  };
}
