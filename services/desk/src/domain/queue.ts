import type { ConversationState, TranscriptLine } from '@support/conversation';
import { isWithPerson } from '@support/conversation';

/** Where a handoff stands for the agent looking at the desk. */
export type Lane = 'offered' | 'mine' | 'waiting' | 'colleague';

export interface QueueItem {
  conversationId: string;
  handoffId: string;
  lane: Lane;
  priority: number;
  requestedAt: string;
  summary: string;
  rules: string[];
  requiredSkills: string[];
  language: string;
  customerId: string;
  accountId: string;
  channel: string;
  agent?: { agentId: string; agentName: string; team: string; acceptedAt?: string };
  /** Until when the assigned agent can accept (empty: no deadline). */
  acceptBy: string;
  last?: TranscriptLine;
}

/** What the router last said about an assignment (from handoff.assignments). */
export interface AssignmentInfo {
  agentId: string;
  status: 'assigned' | 'accepted' | 'released' | 'unspecified';
  acceptBy: string;
}

/** A person has or awaits the conversation (and has not handed it back): it belongs on the desk. */
export function isOpenHandoff(state: ConversationState): boolean {
  return isWithPerson(state) && !state.handoff?.handedBackAt;
}

export function laneOf(state: ConversationState, agentId: string): Lane {
  const agent = state.handoff?.agent;
  if (!agent) return 'waiting';
  if (agent.agentId !== agentId) return 'colleague';
  return agent.acceptedAt ? 'mine' : 'offered';
}

/** The desk's line for a conversation a person has or awaits; undefined for any other. */
export function queueItem(
  state: ConversationState,
  agentId: string,
  assignment?: AssignmentInfo,
): QueueItem | undefined {
  const h = state.handoff;
  if (!h || !isOpenHandoff(state)) return undefined;
  const acceptBy =
    assignment && assignment.agentId === h.agent?.agentId && assignment.status === 'assigned'
      ? assignment.acceptBy
      : '';
  return {
    conversationId: state.conversationId,
    handoffId: h.handoffId,
    lane: laneOf(state, agentId),
    priority: h.priority,
    requestedAt: h.requestedAt,
    summary: h.summary,
    rules: h.triggers.map((t) => t.rule),
    requiredSkills: h.requiredSkills,
    language: h.language,
    customerId: state.customerId,
    accountId: state.accountId,
    channel: state.channel,
    ...(h.agent
      ? {
          agent: {
            agentId: h.agent.agentId,
            agentName: h.agent.agentName,
            team: h.agent.team,
            ...(h.agent.acceptedAt ? { acceptedAt: h.agent.acceptedAt } : {}),
          },
        }
      : {}),
    acceptBy,
    last: state.transcript.at(-1),
  };
}

const LANE_ORDER: Record<Lane, number> = { offered: 0, mine: 1, waiting: 2, colleague: 3 };

/** Offered to me first, then mine, the waiting queue, and colleagues'; higher priority, then older, first. */
export function sortQueue(items: QueueItem[]): QueueItem[] {
  return [...items].sort(
    (a, b) =>
      LANE_ORDER[a.lane] - LANE_ORDER[b.lane] ||
      b.priority - a.priority ||
      a.requestedAt.localeCompare(b.requestedAt),
  );
}

export interface DraftView {
  messageId: string;
  replyId: string;
  text: string;
  confidence: number;
  generator: string;
  citations: { articleId: string; title: string }[];
}

/**
 * The AI's suggestion for the agent's next reply: its proposal for the
 * customer's latest message, unless a person has answered since.
 */
export function draftFor(state: ConversationState): DraftView | undefined {
  const last = state.messages.at(-1);
  if (!last?.proposal || !last.proposal.text.trim()) return undefined;
  if (last.proposal.kind === 'no_answer') return undefined;
  const answered = state.transcript.some((l) => l.speaker === 'agent' && l.at >= last.at);
  if (answered) return undefined;
  return {
    messageId: last.messageId,
    replyId: last.proposal.replyId,
    text: last.proposal.text,
    confidence: last.proposal.confidence,
    generator: last.proposal.generator,
    citations: last.proposal.citations.map((c) => ({ articleId: c.articleId, title: c.title })),
  };
}

/**
 * A knowledge-base draft from a resolved conversation: the customer's
 * question as the title, what the agent wrote as the body. The agent edits
 * it before proposing.
 */
export function articleDraftFrom(state: ConversationState): { title: string; body: string } {
  const h = state.handoff;
  const question =
    state.messages.find((m) => m.messageId === h?.messageId)?.text ?? state.messages[0]?.text ?? '';
  const firstLine = question.split(/(?<=[.?!])\s/)[0] ?? question;
  const title = firstLine.length > 120 ? `${firstLine.slice(0, 117)}…` : firstLine;
  const since = h?.agent?.assignedAt ?? h?.requestedAt ?? '';
  const body = state.transcript
    .filter((l) => l.speaker === 'agent' && l.at >= since)
    .map((l) => l.text)
    .join('\n\n');
  return { title, body };
}
