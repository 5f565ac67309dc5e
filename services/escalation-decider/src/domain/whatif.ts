import type { ConversationEvent } from '@support/contracts';
import { evolve, initialState, type ConversationState } from '@support/conversation';
import type { AccountLookup, DecisionContext } from './context.js';
import { decide } from './decide.js';
import type { HumanRequestDetector } from './human-request.js';
import type { Policy } from './policy.js';

type Outcome = 'release' | 'handoff' | 'silent';

/** One message where the recorded decider decided, and what the candidate policy would have done. */
export interface DecisionPoint {
  conversationId: string;
  messageId: string;
  at: string;
  recorded: 'release' | 'handoff';
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
  recorded: {
    handoffs: number;
    handoffRate: number;
    conversationsHandedOff: number;
    rules: Record<string, number>;
  };
  candidate: {
    handoffs: number;
    handoffRate: number;
    conversationsHandedOff: number;
    rules: Record<string, number>;
  };
  /** Messages whose decision would change, either way. */
  changed: DecisionPoint[];
  /** Conversations that would reach a person under one policy and not the other. */
  flipped: { toHuman: string[]; toAi: string[] };
}

/** The context the recorded decision used (older records carry none: decided without an account). */
function recordedContext(event: ConversationEvent, state: ConversationState): DecisionContext {
  const p = event.payload;
  const recorded =
    p.case === 'aiReplyReleased'
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

/**
 * Replays recorded conversations under a candidate policy, with no side
 * effects: at every message where the decider decided, the candidate decides
 * on the same state (what had arrived by then), and the two are compared.
 * Once the candidate hands a conversation off, its later AI turns count as
 * silent, as they would be, until a person hands it back (handedBack). The account and page are those the recorded
 * decision saw (the page map is the candidate's). `events` are the log's events in log order (per
 * conversation); only conversations that started within [from, to) count. Requests for a person
 * are found by `detectHumanRequest` (the live decider's detector; default: the lexicon layers).
 */
export async function whatIf(
  events: Iterable<ConversationEvent>,
  candidate: Policy,
  window: { from?: string; to?: string } = {},
  detectHumanRequest?: HumanRequestDetector,
): Promise<WhatIfReport> {
  const states = new Map<string, ConversationState>();
  const candidateHandedOff = new Set<string>();
  /** Conversations a person holds under the candidate: the AI is silent there. */
  const candidateHolding = new Set<string>();
  const recordedHandedOff = new Set<string>();
  const points: DecisionPoint[] = [];
  const inWindow = (state: ConversationState) =>
    (!window.from || state.startedAt >= window.from) && (!window.to || state.startedAt < window.to);

  for (const event of events) {
    const id = event.conversationId;
    const state = states.get(id) ?? initialState(id);
    const p = event.payload;
    if ((p.case === 'aiReplyReleased' || p.case === 'handoffRequested') && inWindow(state)) {
      const messageId = p.value.messageId;
      const recorded = p.case === 'aiReplyReleased' ? 'release' : 'handoff';
      const recordedRules =
        p.case === 'handoffRequested' ? p.value.triggers.map((t) => t.rule) : [];
      if (recorded === 'handoff') recordedHandedOff.add(id);
      let candidateOutcome: Outcome = 'silent';
      let candidateRules: string[] = [];
      if (!candidateHolding.has(id)) {
        const context = { ...recordedContext(event, state), detectHumanRequest };
        const d = await decide(state, messageId, candidate, true, context);
        candidateOutcome = d.kind === 'handoff' ? 'handoff' : 'release';
        if (d.kind === 'handoff') {
          candidateRules = d.triggers.map((t) => t.rule);
          candidateHandedOff.add(id);
          candidateHolding.add(id);
        }
      }
      points.push({
        conversationId: id,
        messageId,
        at: event.occurredAt,
        recorded,
        recordedRules,
        candidate: candidateOutcome,
        candidateRules,
      });
    }
    // A person handed the conversation back: the AI answers again, under either policy.
    if (p.case === 'handedBack') candidateHolding.delete(id);
    states.set(id, evolve(state, event));
  }

  const conversations = [...states.values()].filter((s) => s.messages.length > 0 && inWindow(s));
  const recordedRules: Record<string, number> = {};
  const candidateRules: Record<string, number> = {};
  for (const pt of points) {
    count(pt.recordedRules, recordedRules);
    count(pt.candidateRules, candidateRules);
  }
  const handoffs = (f: (pt: DecisionPoint) => boolean) => points.filter(f).length;
  const rate = (n: number) => (points.length ? Math.round((n / points.length) * 1000) / 1000 : 0);
  const recordedHandoffs = handoffs((pt) => pt.recorded === 'handoff');
  const candidateHandoffs = handoffs((pt) => pt.candidate === 'handoff');
  const starts = conversations.map((s) => s.startedAt).sort();
  return {
    candidateVersion: candidate.version,
    window: { from: window.from ?? starts[0] ?? '', to: window.to ?? starts.at(-1) ?? '' },
    conversations: conversations.length,
    decisions: points.length,
    recorded: {
      handoffs: recordedHandoffs,
      handoffRate: rate(recordedHandoffs),
      conversationsHandedOff: recordedHandedOff.size,
      rules: recordedRules,
    },
    candidate: {
      handoffs: candidateHandoffs,
      handoffRate: rate(candidateHandoffs),
      conversationsHandedOff: candidateHandedOff.size,
      rules: candidateRules,
    },
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
