import {
  AssignmentStatus,
  Priority,
  type AgentAssignment,
  type ChurnRisk,
  type HandoffRequest,
  type KnowledgeGap,
} from '@support/contracts';

/**
 * Webhook bodies in Slack's incoming-webhook format: `text` (the notification and the fallback)
 * and `blocks` (a section with the message, sections and a context line with the details), in
 * Slack's mrkdwn. Pure, so that every record type reads the same wherever it is posted.
 */

export interface SlackText {
  type: 'mrkdwn';
  text: string;
}
export type SlackBlock =
  { type: 'section'; text: SlackText } | { type: 'context'; elements: SlackText[] };
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** Slack reads &, < and > as markup (links, mentions): text from customers and the CRM is escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts text to at most `max` characters at a word, with an ellipsis. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}

const section = (text: string): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (...parts: string[]): SlackBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: parts.filter(Boolean).join(' · ') }],
});
const message = (text: string, ...blocks: SlackBlock[]): SlackMessage => ({ text, blocks });

const PRIORITY_WORDS: Record<Priority, string> = {
  [Priority.UNSPECIFIED]: 'normal',
  [Priority.LOW]: 'low',
  [Priority.NORMAL]: 'normal',
  [Priority.HIGH]: 'high',
  [Priority.URGENT]: 'urgent',
};

/** 4000 EUR → "4,000 EUR/month"; empty when the value is not known. */
export function monthlyValue(value: number, currency: string): string {
  if (!value) return '';
  const amount = value.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return `${amount}${currency ? ` ${currency}` : ''}/month`;
}

/** "Maria Rossi <maria@example.com>" → "Maria Rossi": the name is enough in a headline. */
export const ownerName = (owner: string): string => owner.replace(/<[^>]*>/g, '').trim() || owner;

const words = (s: string) => s.replace(/_/g, ' ').trim();

/** "Handoff: billing dispute for Acme (enterprise), priority high — <summary>" */
export function slackHandoff(request: HandoffRequest): SlackMessage {
  const b = request.briefing;
  const intent = b && b.intent !== 'unknown' ? words(b.intent) : '';
  const about = [intent, b?.topic ? words(b.topic) : ''].filter(Boolean);
  const subject = [...new Set(about)].join(', ') || 'a conversation';
  const account = b?.account?.accountId ? b.account : undefined;
  const who = account
    ? ` for ${account.name || account.accountId}${account.tier ? ` (${account.tier})` : ''}`
    : '';
  const priority = PRIORITY_WORDS[request.priority] ?? 'normal';
  const summary = b?.summary ? clip(b.summary, 300) : '';
  const headline = `Handoff: ${subject}${who}, priority ${priority}`;
  const text = escapeMrkdwn(`${headline}${summary ? ` — ${summary}` : ''}`);
  const why = request.triggers.map((t) => words(t.rule)).filter(Boolean);
  return message(
    text,
    section(`*${escapeMrkdwn(headline)}*${summary ? `\n${escapeMrkdwn(summary)}` : ''}`),
    context(
      why.length ? `Why: ${escapeMrkdwn(why.join(', '))}` : '',
      request.requiredSkills.length
        ? `Skills: ${escapeMrkdwn(request.requiredSkills.join(', '))}`
        : '',
      request.language ? `Language: ${escapeMrkdwn(request.language)}` : '',
      `Conversation \`${escapeMrkdwn(request.conversationId)}\``,
      `Handoff \`${escapeMrkdwn(request.handoffId)}\``,
    ),
  );
}

const ASSIGNMENT_WORDS: Record<AssignmentStatus, string> = {
  [AssignmentStatus.UNSPECIFIED]: 'assigned to',
  [AssignmentStatus.ASSIGNED]: 'assigned to',
  [AssignmentStatus.ACCEPTED]: 'accepted by',
  [AssignmentStatus.RELEASED]: 'released by',
};

/** "Handoff assigned to Ida (Legal)" */
export function slackAssignment(a: AgentAssignment): SlackMessage {
  const status = ASSIGNMENT_WORDS[a.status] ?? 'assigned to';
  const headline = `Handoff ${status} ${a.agentName || a.agentId}${a.team ? ` (${a.team})` : ''}`;
  return message(
    escapeMrkdwn(headline),
    section(
      `*${escapeMrkdwn(headline)}*${a.reason ? `\n${escapeMrkdwn(clip(a.reason, 300))}` : ''}`,
    ),
    context(
      `Conversation \`${escapeMrkdwn(a.conversationId)}\``,
      `Handoff \`${escapeMrkdwn(a.handoffId)}\``,
    ),
  );
}

/** "Churn risk: Acme (enterprise, 4,000 EUR/month, owner Maria Rossi) — sentiment fell to -0.7" */
export function slackChurnRisk(c: ChurnRisk): SlackMessage {
  const facts = [
    c.tier,
    monthlyValue(c.monthlyValue, c.currency),
    c.owner ? `owner ${ownerName(c.owner)}` : '',
  ].filter(Boolean);
  const headline = `Churn risk: ${c.accountName || c.accountId}${facts.length ? ` (${facts.join(', ')})` : ''}`;
  const why = c.reasons.join('; ');
  const text = escapeMrkdwn(`${headline}${why ? ` — ${why}` : ''}`);
  return message(
    text,
    section(`*${escapeMrkdwn(headline)}*`),
    ...(c.reasons.length ? [section(c.reasons.map((r) => `• ${escapeMrkdwn(r)}`).join('\n'))] : []),
    context(
      `Account \`${escapeMrkdwn(c.accountId)}\``,
      c.conversationId ? `Conversation \`${escapeMrkdwn(c.conversationId)}\`` : '',
      c.owner ? `Owner: ${escapeMrkdwn(c.owner)}` : '',
    ),
  );
}

/** "Knowledge gap: billing — 9 escalations in 24 h (3 before)" */
export function slackKnowledgeGap(g: KnowledgeGap): SlackMessage {
  const headline = `Knowledge gap: ${words(g.topic)} — ${g.escalations} escalation${g.escalations === 1 ? '' : 's'} in ${g.windowHours} h (${g.previousEscalations} before)`;
  return message(
    escapeMrkdwn(headline),
    section(`*${escapeMrkdwn(headline)}*`),
    ...(g.examples.length
      ? [
          section(
            `Customers asked:\n${g.examples.map((e) => `> ${escapeMrkdwn(clip(e, 200))}`).join('\n')}`,
          ),
        ]
      : []),
    context('An article on this topic would let the AI answer these without a person.'),
  );
}
