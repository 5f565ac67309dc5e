import {
  ReplyKind,
  Resolution,
  type Citation,
  type CollectedDetail,
  type ConversationEvent,
} from '@support/contracts';
import type {
  CitationView,
  ConversationState,
  DetailView,
  HandoffView,
  HumanStretch,
  MessageView,
  CsatView,
  ReplyKindView,
  TranscriptLine,
} from './state.js';
import { initialState, isResolved, isWithPerson } from './state.js';
import { reviewCompleted, reviewRequested } from './review.js';

function citations(list: Citation[]): CitationView[] {
  return list.map((c) => ({
    articleId: c.articleId,
    title: c.title,
    snippet: c.snippet,
    score: c.score,
  }));
}

const KINDS: Record<ReplyKind, ReplyKindView> = {
  [ReplyKind.UNSPECIFIED]: 'unspecified',
  [ReplyKind.ANSWER]: 'answer',
  [ReplyKind.INTAKE]: 'intake',
  [ReplyKind.NO_ANSWER]: 'no_answer',
  [ReplyKind.SMALLTALK]: 'smalltalk',
};

/** Known details with new ones merged in: one entry per name, the latest value wins, in first-seen order. */
export function mergeDetails<D extends { name: string }>(known: D[], found: D[]): D[] {
  if (found.length === 0) return known;
  const byName = new Map(known.map((d) => [d.name, d]));
  for (const d of found) byName.set(d.name, d);
  return [...byName.values()];
}

const detailView = (d: CollectedDetail): DetailView => ({
  name: d.name,
  value: d.value,
  messageId: d.messageId,
});

/**
 * How many of the latest applied event ids a state keeps. A repeated record at
 * the same log offset never reaches evolve (the log consumer skips offsets it
 * has applied); what the ids catch is the same event at another offset: a
 * service's own event, folded at once and then delivered by the log a few
 * events later, or an event published again after a crash. Both arrive soon
 * after the first, so a bounded window suffices, and each event costs the same
 * however long the conversation has run.
 */
export const RECENT_EVENT_IDS = 256;

/**
 * The fold does not depend on the order in which a service applies events of
 * different writers (a service folds the events it appends at once, before
 * the log delivers them): the last activity is the latest time, and transcript
 * lines go in time order (after any line of the same time). The window of
 * applied ids is in the order applied.
 */
function remember(ids: string[], id: string): string[] {
  return ids.length < RECENT_EVENT_IDS
    ? [...ids, id]
    : [...ids.slice(ids.length - RECENT_EVENT_IDS + 1), id];
}

function inTimeOrder(lines: TranscriptLine[], line: TranscriptLine): TranscriptLine[] {
  let i = lines.length;
  while (i > 0 && line.at && lines[i - 1].at > line.at) i--;
  return [...lines.slice(0, i), line, ...lines.slice(i)];
}

function updateMessage(
  state: ConversationState,
  messageId: string,
  change: (m: MessageView) => MessageView,
): MessageView[] {
  return state.messages.map((m) => (m.messageId === messageId ? change(m) : m));
}

/** The state with its current handoff changed, if `handoffId` is the current one. */
function withHandoff(
  state: ConversationState,
  base: ConversationState,
  handoffId: string,
  change: (h: HandoffView) => Partial<ConversationState> & { handoff: HandoffView },
): ConversationState {
  if (!state.handoff || state.handoff.handoffId !== handoffId) return base;
  return { ...base, ...change(state.handoff) };
}

/** Closes the open human stretch (if any) at `at`. */
function endStretch(
  stretches: HumanStretch[] | undefined,
  at: string,
  ended: HumanStretch['ended'],
  note = '',
): HumanStretch[] | undefined {
  const last = stretches?.at(-1);
  if (!stretches || !last || last.to) return stretches;
  return [...stretches.slice(0, -1), { ...last, to: at, ended, note }];
}

/**
 * The pure fold of the conversation log: (state, event) -> state. An event
 * already applied (same event id) or for another conversation returns the
 * state unchanged.
 */
export function evolve(state: ConversationState, event: ConversationEvent): ConversationState {
  if (event.conversationId !== state.conversationId) return state;
  if (state.appliedEventIds.includes(event.eventId)) return state;
  const at = event.occurredAt;
  const base: ConversationState = {
    ...state,
    appliedEventIds: remember(state.appliedEventIds, event.eventId),
    lastActivityAt: at > state.lastActivityAt ? at : state.lastActivityAt,
  };
  const { payload } = event;
  switch (payload.case) {
    case 'customerMessageReceived': {
      const m = payload.value;
      const reopening = isResolved(state);
      let status = state.status;
      if (state.status === 'new') status = 'ai_handling';
      else if (reopening) status = 'reopened';
      return {
        ...base,
        status,
        channel: state.channel || m.channel,
        externalConversationId: state.externalConversationId || m.externalConversationId,
        customerId: state.customerId || m.customerId,
        accountId: m.accountId || state.accountId,
        locale: m.locale || state.locale,
        pageUrl: m.pageUrl || state.pageUrl,
        startedAt: state.startedAt || at,
        reopenCount: state.reopenCount + (reopening ? 1 : 0),
        messages: [...state.messages, { messageId: m.messageId, text: m.text, at }],
        transcript: inTimeOrder(state.transcript, { speaker: 'customer', text: m.text, at }),
      };
    }
    case 'aiReplyProposed': {
      const p = payload.value;
      return {
        ...base,
        details: mergeDetails(state.details ?? [], p.collectedDetails.map(detailView)),
        messages: updateMessage(state, p.messageId, (msg) => ({
          ...msg,
          proposal: {
            replyId: p.replyId,
            text: p.text,
            confidence: p.confidence,
            intent: p.intent,
            intentProbability: p.intentProbability,
            topic: p.topic,
            outOfScope: p.outOfScope,
            urgency: p.urgency,
            requiredSkills: [...p.requiredSkills],
            kind: KINDS[p.kind] ?? 'unspecified',
            missingDetails: [...p.missingDetails],
            generator: p.generator,
            flags: [...p.flags],
            citations: citations(p.citations),
            articlesTried: [...p.articlesTried],
            at,
          },
        })),
      };
    }
    case 'messageScored': {
      const s = payload.value;
      return {
        ...base,
        messages: updateMessage(state, s.messageId, (msg) => ({
          ...msg,
          score: {
            valence: s.valence,
            label: s.label,
            signals: [...s.signals],
            ...(s.trajectory
              ? {
                  trajectory: {
                    smoothed: s.trajectory.smoothed,
                    start: s.trajectory.start,
                    change: s.trajectory.change,
                    turnedAtMessageId: s.trajectory.turnedAtMessageId,
                    shift: s.trajectory.shift,
                    messages: s.trajectory.messages,
                    ...(s.trajectory.frustration !== undefined
                      ? { frustration: s.trajectory.frustration }
                      : {}),
                  },
                }
              : {}),
            ...(s.repeatsMessageId
              ? { repeats: { messageId: s.repeatsMessageId, similarity: s.repeatSimilarity } }
              : {}),
            ...(s.frustration !== undefined ? { frustration: s.frustration } : {}),
            at,
          },
        })),
      };
    }
    case 'aiReplyReleased': {
      const r = payload.value;
      return {
        ...base,
        status:
          state.status === 'reopened' || state.status === 'new' ? 'ai_handling' : state.status,
        messages: updateMessage(state, r.messageId, (msg) => ({
          ...msg,
          decision: { kind: 'released', at },
        })),
        transcript: inTimeOrder(state.transcript, { speaker: 'ai', text: r.text, at }),
      };
    }
    case 'handoffRequested': {
      const h = payload.value;
      return {
        ...base,
        status: 'awaiting_human',
        handoffCount: state.handoffCount + 1,
        messages: updateMessage(state, h.messageId, (msg) => ({
          ...msg,
          decision: { kind: 'handoff', at },
        })),
        handoff: {
          handoffId: h.handoffId,
          messageId: h.messageId,
          requestedAt: at,
          triggers: h.triggers.map((t) => ({
            rule: t.rule,
            detail: t.detail,
            value: t.value,
            threshold: t.threshold,
          })),
          priority: h.priority,
          requiredSkills: [...h.requiredSkills],
          language: h.language,
          ...(h.team ? { team: h.team } : {}),
          summary: h.briefing?.summary ?? '',
          summaryGenerator: h.briefing?.summaryGenerator || 'extractive',
        },
      };
    }
    case 'briefingSummarized': {
      const b = payload.value;
      if (!state.handoff || state.handoff.handoffId !== b.handoffId) return base;
      return {
        ...base,
        handoff: { ...state.handoff, summary: b.summary, summaryGenerator: b.generator },
      };
    }
    case 'handoffQueued': {
      const q = payload.value;
      if (!state.handoff || state.handoff.handoffId !== q.handoffId) return base;
      return { ...base, handoff: { ...state.handoff, queue: q.queue, queuedAt: at } };
    }
    case 'followUpCreated': {
      const f = payload.value;
      if (!state.handoff || state.handoff.handoffId !== f.handoffId) return base;
      return {
        ...base,
        handoff: {
          ...state.handoff,
          followUp: {
            dueAt: f.dueAt,
            contact: state.handoff.followUp?.contact || f.contact,
            createdAt: at,
          },
        },
      };
    }
    case 'followUpContactAdded': {
      const f = payload.value;
      const h = state.handoff;
      if (!h || h.handoffId !== f.handoffId) return base;
      return {
        ...base,
        handoff: {
          ...h,
          followUp: {
            dueAt: h.followUp?.dueAt ?? '',
            createdAt: h.followUp?.createdAt ?? at,
            contact: f.contact,
          },
        },
      };
    }
    case 'agentAssigned': {
      const a = payload.value;
      if (!state.handoff || state.handoff.handoffId !== a.handoffId) return base;
      const agent = { agentId: a.agentId, agentName: a.agentName, team: a.team, assignedAt: at };
      // Handed back or resolved meanwhile: the conversation stays where it is (the router lets the agent go).
      if (!isWithPerson(state) || state.handoff.handedBackAt)
        return { ...base, handoff: { ...state.handoff, agent } };
      // An assignment published again replaces the open stretch rather than adding one.
      const stretches = state.humanStretches ?? [];
      const last = stretches.at(-1);
      const open = last && !last.to && last.handoffId === a.handoffId ? last : undefined;
      return {
        ...base,
        status: 'with_human',
        handoff: { ...state.handoff, agent },
        humanStretches: [
          ...(open ? stretches.slice(0, -1) : stretches),
          {
            handoffId: a.handoffId,
            agentId: a.agentId,
            agentName: a.agentName,
            from: open?.from ?? at,
            to: '',
            ended: '',
            note: '',
          },
        ],
        transcript: inTimeOrder(state.transcript, {
          speaker: 'system',
          text: `${a.agentName} (${a.team}) joined`,
          at,
        }),
      };
    }
    case 'agentAccepted': {
      const a = payload.value;
      return withHandoff(state, base, a.handoffId, (h) => ({
        handoff:
          h.agent?.agentId === a.agentId && !h.agent.acceptedAt
            ? { ...h, agent: { ...h.agent, acceptedAt: at } }
            : h,
      }));
    }
    case 'agentDeclined':
    case 'acceptTimedOut': {
      const d = payload.value;
      const reason = payload.case === 'agentDeclined' ? 'declined' : 'timeout';
      const note = payload.case === 'agentDeclined' ? payload.value.reason : '';
      if (!state.handoff || state.handoff.handoffId !== d.handoffId) return base;
      const h = state.handoff;
      // Only the agent who holds it can let it go, and only while the conversation is with a person.
      // Once they accepted, it is theirs: a late timeout or decline changes nothing.
      if (h.agent?.agentId !== d.agentId || state.status !== 'with_human' || h.agent.acceptedAt)
        return base;
      const { agent: _gone, ...rest } = h;
      // The stretch had not really started: nobody took it.
      const stretches = state.humanStretches ?? [];
      const last = stretches.at(-1);
      return {
        ...base,
        status: 'awaiting_human',
        handoff: {
          ...rest,
          passedBy: [...(h.passedBy ?? []), { agentId: d.agentId, reason, note, at }],
        },
        humanStretches: last && !last.to ? stretches.slice(0, -1) : stretches,
        transcript: inTimeOrder(state.transcript, {
          speaker: 'system',
          text:
            reason === 'declined'
              ? `${h.agent.agentName} declined${note ? `: ${note}` : ''}`
              : `${h.agent.agentName} did not accept in time`,
          at,
        }),
      };
    }
    case 'agentReplied': {
      const r = payload.value;
      return {
        ...base,
        transcript: inTimeOrder(state.transcript, {
          speaker: 'agent',
          text: r.text,
          at,
          author: r.agentName,
        }),
      };
    }
    case 'handedBack': {
      const b = payload.value;
      if (!state.handoff || state.handoff.handoffId !== b.handoffId || isResolved(state))
        return base;
      return {
        ...base,
        status: 'ai_handling',
        handoff: { ...state.handoff, handedBackAt: at },
        humanStretches: endStretch(state.humanStretches, at, 'handed_back', b.note),
        transcript: inTimeOrder(state.transcript, {
          speaker: 'system',
          text: `${b.agentName || 'The agent'} handed the conversation back to the AI${b.note ? `: ${b.note}` : ''}`,
          at,
        }),
      };
    }
    case 'falseEscalationMarked': {
      const f = payload.value;
      return withHandoff(state, base, f.handoffId, (h) => ({
        handoff: { ...h, falseEscalation: { agentId: f.agentId, note: f.note, at } },
      }));
    }
    case 'articleProposed': {
      const p = payload.value;
      return withHandoff(state, base, p.handoffId, (h) => ({
        handoff: {
          ...h,
          articleDrafts: [
            ...(h.articleDrafts ?? []),
            { draftId: p.draftId, title: p.title, agentId: p.agentId, at },
          ],
        },
      }));
    }
    case 'conversationResolved': {
      const r = payload.value;
      return {
        ...base,
        status: r.resolution === Resolution.HUMAN ? 'resolved_by_human' : 'resolved_by_ai',
        resolutionCount: state.resolutionCount + 1,
        humanStretches: endStretch(state.humanStretches, at, 'resolved'),
        lastResolution: {
          resolution: r.resolution === Resolution.HUMAN ? 'human' : 'ai',
          resolvedBy: r.resolvedBy,
          assumed: r.assumed,
          at,
        },
      };
    }
    case 'csatRequested': {
      const c = payload.value;
      const requests = state.csatRequests ?? [];
      if (requests.some((r) => r.requestId === c.requestId)) return base;
      return {
        ...base,
        csatRequests: [
          ...requests,
          { requestId: c.requestId, channel: c.channel, requestedAt: at },
        ],
      };
    }
    case 'csatRated': {
      const c = payload.value;
      const rating: CsatView = {
        requestId: c.requestId,
        score: c.score,
        comment: c.comment,
        ratedAt: at,
      };
      // A later rating replaces an earlier one (of the request, and of the conversation).
      const later = (known?: CsatView) => !known || rating.ratedAt >= known.ratedAt;
      return {
        ...base,
        csat: later(state.csat) ? rating : state.csat,
        ...(state.csatRequests
          ? {
              csatRequests: state.csatRequests.map((r) =>
                r.requestId === c.requestId && later(r.rating) ? { ...r, rating } : r,
              ),
            }
          : {}),
      };
    }
    case 'reviewRequested':
      return reviewRequested(state, base, payload.value, at);
    case 'reviewCompleted':
      return reviewCompleted(state, base, payload.value, at);
    default:
      return base;
  }
}

/** Folds a list of events from the initial state. */
export function fold(
  conversationId: string,
  events: ConversationEvent[],
  from?: ConversationState,
): ConversationState {
  return events.reduce(evolve, from ?? initialState(conversationId));
}
