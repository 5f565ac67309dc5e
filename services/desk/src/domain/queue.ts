import type { ConversationState, TranscriptLine } from '@support/conversation';
import { isPendingReview, isWithPerson } from '@support/conversation';

/** Where a handoff stands for the agent looking at the desk. */
export type Lane = 'review' | 'offered' | 'mine' | 'waiting' | 'colleague';

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
  /** A review of the AI's draft waiting for its reviewer's decision: the draft and its confidence. */
  review?: { text: string; confidence: number };
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

/**
 * Where the conversation stands for this agent: a pending review assigned to
 * them is in their review lane (offered or accepted alike: deciding it is the
 * acceptance); else offered, theirs, waiting or a colleague's.
 */
export function laneOf(state: ConversationState, agentId: string): Lane {
  const agent = state.handoff?.agent;
  if (!agent) return 'waiting';
  if (agent.agentId !== agentId) return 'colleague';
  if (isPendingReview(state)) return 'review';
  return agent.acceptedAt ? 'mine' : 'offered';
}

/** The pending review's draft for the desk (undefined when the handoff is no pending review). */
export function reviewOf(state: ConversationState): ReviewDraftView | undefined {
  const r = state.handoff?.review;
  if (!r || !isPendingReview(state)) return undefined;
  return {
    messageId: r.messageId,
    replyId: r.replyId,
    text: r.text,
    confidence: r.confidence,
    citations: r.citations.map((c) => ({ articleId: c.articleId, title: c.title })),
    rules: state.handoff!.triggers.map((t) => t.rule),
  };
}

export interface ReviewDraftView {
  messageId: string;
  replyId: string;
  text: string;
  confidence: number;
  citations: { articleId: string; title: string }[];
  /** The review rules that held it. */
  rules: string[];
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
    ...(isPendingReview(state) && h.review
      ? { review: { text: h.review.text, confidence: h.review.confidence } }
      : {}),
  };
}

const LANE_ORDER: Record<Lane, number> = {
  review: 0,
  offered: 1,
  mine: 2,
  waiting: 3,
  colleague: 4,
};

/** Reviews waiting for me first, then offered to me, mine, the waiting queue, and colleagues'; higher priority, then older, first. */
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
  if (isPendingReview(state)) return undefined; // the review's draft is shown as the review
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
