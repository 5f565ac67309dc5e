import type { ConversationLifecycle } from '@support/conversation';
import {
  GENERAL_SKILL,
  rankAgents,
  type AgentProfile,
  type HandoffNeeds,
  type Loads,
} from './routing.js';
import { stepAt, type RoutingPolicy, type RoutingStep } from './routing-policy.js';

/** Everything the router needs to assign a handoff and tell the customer, also when it waited in the queue. */
export interface HandoffTarget extends HandoffNeeds {
  handoffId: string;
  conversationId: string;
  /** The customer message that triggered the handoff. */
  messageId: string;
  priority: number;
  requestedAt: string;
  channel: string;
  externalConversationId: string;
  customerId: string;
  correlationId: string;
  /** An e-mail address the customer gave, for a follow-up (empty when none; absent in older queue items). */
  contact?: string;
  /**
   * A review of the AI's draft waiting for its reviewer: the customer was told an answer is being
   * checked, so nobody is announced as joining (absent in older queue items: a handoff).
   */
  review?: boolean;
}

/** The conversation's current handoff as a routing target, or undefined when it has none. */
export function handoffTarget(
  state: ConversationLifecycle,
  correlationId: string,
): HandoffTarget | undefined {
  const h = state.handoff;
  if (!h) return undefined;
  return {
    handoffId: h.handoffId,
    conversationId: state.conversationId,
    messageId: h.messageId,
    requiredSkills: [...h.requiredSkills],
    language: h.language || state.locale,
    priority: h.priority,
    requestedAt: h.requestedAt,
    channel: state.channel,
    externalConversationId: state.externalConversationId,
    customerId: state.customerId,
    correlationId,
    contact: state.details.find((d) => d.name === 'account_email')?.value ?? '',
    passedBy: (h.passedBy ?? []).map((p) => p.agentId),
    team: h.team ?? '',
    review: h.review?.outcome === 'pending',
  };
}

/**
 * Which attempt at routing the handoff this is: 0 at first, one more for
 * every agent who passed on it. Routing and the ids of what it publishes are
 * per attempt, so that a re-route is not mistaken for a redelivery.
 */
export function attemptOf(target: { passedBy?: readonly string[] }): number {
  return target.passedBy?.length ?? 0;
}

/** The queue a waiting handoff is reported in: its first required skill. */
export function queueName(requiredSkills: readonly string[]): string {
  return requiredSkills.map((s) => s.trim().toLowerCase()).find(Boolean) ?? GENERAL_SKILL;
}

const PRIORITY_SLOTS = 10;
const PRIORITY_WEIGHT = 1e13; // above any epoch millisecond count for centuries, below 2^53 / PRIORITY_SLOTS

/**
 * Sorted-set score of a waiting handoff: lower is served first. Higher
 * priority (support.v1.Priority, URGENT = 4) first, then the earlier request.
 */
export function queueScore(priority: number, requestedAtMs: number): number {
  const p = Math.min(Math.max(Math.trunc(priority) || 0, 0), PRIORITY_SLOTS - 1);
  const t = Number.isFinite(requestedAtMs) && requestedAtMs > 0 ? Math.trunc(requestedAtMs) : 0;
  return (PRIORITY_SLOTS - 1 - p) * PRIORITY_WEIGHT + t;
}

/**
 * The first waiting handoff (in queue order) that some agent with free
 * capacity can take, with the agents ranked for it (never one who passed on
 * it); undefined when none can.
 */
export function pickFromQueue(
  queue: readonly HandoffTarget[],
  roster: readonly AgentProfile[],
  loads: Loads,
  policy: RoutingPolicy,
  now: number,
): { target: HandoffTarget; candidates: AgentProfile[]; step: RoutingStep } | undefined {
  for (const target of queue) {
    // The longer a handoff has waited, the more its requirement is relaxed.
    const step = stepAt(policy, now - Date.parse(target.requestedAt));
    const candidates = rankAgents(roster, target, loads, step);
    if (candidates.length) return { target, candidates, step };
  }
  return undefined;
}
