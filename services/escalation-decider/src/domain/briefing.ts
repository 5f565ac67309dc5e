import type { ConversationState } from '@support/conversation';

export interface BriefingInit {
  summary: string;
  transcript: { speaker: number; text: string; at: string }[];
  intent: string;
  aiAttempts: string[];
  articlesTried: string[];
  customerId: string;
  accountId: string;
  channel: string;
  pageUrl: string;
  sentimentTrajectory: number[];
  collectedDetails: { name: string; value: string; messageId: string }[];
  missingDetails: string[];
  topic: string;
}

const SPEAKER = { customer: 1, ai: 2, agent: 3, system: 4 } as const;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** What the agent reads instead of the transcript: built from the conversation's state alone. */
export function buildBriefing(state: ConversationState, triggerMessageId: string): BriefingInit {
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
  const parts = [
    first ? `Customer opened with: "${clip(first.text, 200)}"` : '',
    trigger && trigger !== first ? `Latest: "${clip(trigger.text, 200)}"` : '',
    `${customerMessages.length} customer message(s), ${attempts.length} AI answer(s) sent.`,
    details.length ? `Collected: ${details.map((d) => `${d.name} ${d.value}`).join(', ')}.` : '',
  ].filter(Boolean);
  return {
    summary: parts.join(' '),
    transcript: state.transcript.map((t) => ({
      speaker: SPEAKER[t.speaker],
      text: t.text,
      at: t.at,
    })),
    intent: intents.at(-1) ?? 'unknown',
    aiAttempts: attempts,
    articlesTried: articles,
    customerId: state.customerId,
    accountId: state.accountId,
    channel: state.channel,
    pageUrl: state.pageUrl,
    sentimentTrajectory: customerMessages.filter((m) => m.score).map((m) => m.score!.valence),
    collectedDetails: details.map((d) => ({ ...d, value: clip(d.value, 600) })),
    missingDetails: latest?.missingDetails ?? [],
    topic: latest?.topic ?? '',
  };
}
