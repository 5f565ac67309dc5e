import type { ConversationEvent } from '@support/contracts';
import { evolve, initialState, type ConversationState } from '@support/conversation';
import type { AccountLookup, DecisionContext } from './context.js';
import { decide } from './decide.js';
import type { HumanRequestDetector } from './human-request.js';
import type { Policy } from './policy.js';

type Recorded = 'release' | 'handoff' | 'review';
type Outcome = Recorded | 'silent';

/** One message where the recorded decider decided, and what the candidate policy would have done. */
export interface DecisionPoint {
  conversationId: string;
  messageId: string;
  at: string;
  recorded: Recorded;
  recordedRules: string[];
  /** `silent`: the candidate had handed the conversation off earlier, so the AI would not speak. */
  candidate: Outcome;
  candidateRules: string[];
}

export interface WhatIfReport {
  candidateVersion: string;
  window: { from: string; to: string };
  conversations: number;
  decisions: number;
  recorded: OutcomeCounts;
  candidate: OutcomeCounts;
  /** Messages whose decision would change, either way. */
  changed: DecisionPoint[];
  /** Conversations that would reach a person under one policy and not the other. */
  flipped: { toHuman: string[]; toAi: string[] };
}

/** How often a policy released, reviewed and handed off, over the same decision points. */
export interface OutcomeCounts {
  handoffs: number;
  handoffRate: number;
  conversationsHandedOff: number;
  /** Replies held for a person's review (the third outcome), their rate and conversations. */
  reviews: number;
  reviewRate: number;
  conversationsReviewed: number;
  /** Rules that fired, handoff and review rules alike. */
  rules: Record<string, number>;
}

/** The context the recorded decision used (older records carry none: decided without an account). */
function recordedContext(event: ConversationEvent, state: ConversationState): DecisionContext {
  const p = event.payload;
  const recorded =
    p.case === 'aiReplyReleased' || p.case === 'reviewRequested'
      ? {
          account: p.value.context?.account,
          lookup: p.value.context?.accountLookup,
          url: p.value.context?.page?.url,
        }
      : p.case === 'handoffRequested'
        ? {
            account: p.value.briefing?.account,
            lookup: p.value.briefing?.accountLookup,
            url: p.value.briefing?.pageUrl,
          }
        : {};
  return {
    account: recorded.account,
    accountLookup: (recorded.lookup || (state.accountId ? 'unavailable' : 'none')) as AccountLookup,
    pageUrl: recorded.url ?? state.pageUrl,
  };
}

const count = (names: string[], into: Record<string, number>) => {
  for (const n of names) into[n] = (into[n] ?? 0) + 1;
};

/** The recorded decision an event is, with the rules it names; undefined for other events. */
function recordedDecision(
  event: ConversationEvent,
): { messageId: string; recorded: Recorded; rules: string[] } | undefined {
  const p = event.payload;
  if (p.case === 'aiReplyReleased')
    return { messageId: p.value.messageId, recorded: 'release', rules: [] };
  if (p.case === 'handoffRequested' || p.case === 'reviewRequested')
    return {
      messageId: p.value.messageId,
      recorded: p.case === 'handoffRequested' ? 'handoff' : 'review',
      rules: p.value.triggers.map((t) => t.rule),
    };
  return undefined;
}

/** Walks the log, letting the candidate decide wherever the recorded decider decided. */
async function replay(
  events: Iterable<ConversationEvent>,
  candidate: Policy,
  inWindow: (state: ConversationState) => boolean,
  detectHumanRequest?: HumanRequestDetector,
): Promise<{ points: DecisionPoint[]; states: Map<string, ConversationState> }> {
  const states = new Map<string, ConversationState>();
  /** Conversations a person holds under the candidate: the AI is silent there. */
  const candidateHolding = new Set<string>();
  const points: DecisionPoint[] = [];
  for (const event of events) {
    const id = event.conversationId;
    const state = states.get(id) ?? initialState(id);
    const rec = recordedDecision(event);
    if (rec && inWindow(state)) {
      let candidateOutcome: Outcome = 'silent';
      let candidateRules: string[] = [];
      if (!candidateHolding.has(id)) {
        const context = { ...recordedContext(event, state), detectHumanRequest };
        const d = await decide(state, rec.messageId, candidate, true, context);
        // A candidate review is taken to end with the reviewer's approval: the AI carries on.
        candidateOutcome = d.kind === 'handoff' || d.kind === 'review' ? d.kind : 'release';
        if (d.kind === 'handoff' || d.kind === 'review')
          candidateRules = d.triggers.map((t) => t.rule);
        if (d.kind === 'handoff') candidateHolding.add(id);
      }
      points.push({
        conversationId: id,
        messageId: rec.messageId,
        at: event.occurredAt,
        recorded: rec.recorded,
        recordedRules: rec.rules,
        candidate: candidateOutcome,
        candidateRules,
      });
    }
    // A person handed the conversation back: the AI answers again, under either policy.
    if (event.payload.case === 'handedBack') candidateHolding.delete(id);
    states.set(id, evolve(state, event));
  }
  return { points, states };
}

const rate = (n: number, of: number) => (of ? Math.round((n / of) * 1000) / 1000 : 0);

/** Handoffs, reviews and rules fired under one side, over every decision point. */
function countOutcomes(points: DecisionPoint[], side: 'recorded' | 'candidate'): OutcomeCounts {
  const rules: Record<string, number> = {};
  for (const pt of points) count(side === 'recorded' ? pt.recordedRules : pt.candidateRules, rules);
  const of = (outcome: Outcome) => points.filter((pt) => pt[side] === outcome);
  const conversations = (list: DecisionPoint[]) => new Set(list.map((pt) => pt.conversationId));
  const handoffs = of('handoff');
  const reviews = of('review');
  return {
    handoffs: handoffs.length,
    handoffRate: rate(handoffs.length, points.length),
    conversationsHandedOff: conversations(handoffs).size,
    reviews: reviews.length,
    reviewRate: rate(reviews.length, points.length),
    conversationsReviewed: conversations(reviews).size,
    rules,
  };
}

/**
 * Replays recorded conversations under a candidate policy, with no side
 * effects: at every message where the decider decided (released, reviewed or
 * handed off), the candidate decides on the same state (what had arrived by
 * then), and the two are compared: a policy change can move a message between
 * release, review and handoff. Once the candidate hands a conversation off,
 * its later AI turns count as silent, as they would be, until a person hands
 * it back (handedBack); a candidate review is taken to be approved. The
 * account and page are those the recorded decision saw (the page map is the
 * candidate's). `events` are the log's events in log order (per
 * conversation); only conversations that started within [from, to) count.
 * Requests for a person are found by `detectHumanRequest` (the live decider's
 * detector; default: the lexicon layers).
 */
export async function whatIf(
  events: Iterable<ConversationEvent>,
  candidate: Policy,
  window: { from?: string; to?: string } = {},
  detectHumanRequest?: HumanRequestDetector,
): Promise<WhatIfReport> {
  const inWindow = (state: ConversationState) =>
    (!window.from || state.startedAt >= window.from) && (!window.to || state.startedAt < window.to);
  const { points, states } = await replay(events, candidate, inWindow, detectHumanRequest);
  const conversations = [...states.values()].filter((s) => s.messages.length > 0 && inWindow(s));
  const recorded = countOutcomes(points, 'recorded');
  const candidateCounts = countOutcomes(points, 'candidate');
  const handedOff = (side: 'recorded' | 'candidate') =>
    new Set(points.filter((pt) => pt[side] === 'handoff').map((pt) => pt.conversationId));
  const recordedHandedOff = handedOff('recorded');
  const candidateHandedOff = handedOff('candidate');
  const starts = conversations.map((s) => s.startedAt).sort();
  return {
    candidateVersion: candidate.version,
    window: { from: window.from ?? starts[0] ?? '', to: window.to ?? starts.at(-1) ?? '' },
    conversations: conversations.length,
    decisions: points.length,
    recorded,
    candidate: candidateCounts,
    changed: points.filter(
      (pt) =>
        pt.recorded !== pt.candidate && !(pt.candidate === 'silent' && pt.recorded === 'handoff'),
    ),
    flipped: {
      toHuman: [...candidateHandedOff].filter((id) => !recordedHandedOff.has(id)),
      toAi: [...recordedHandedOff].filter((id) => !candidateHandedOff.has(id)),
    },
  };
}
