/**
 * The end of a conversation: when it may be resolved by the customer's
 * confirmation or by the quiet window, what a resolution appends (the
 * resolution, the request to rate it and the message that asks), and whether
 * a rating fits the conversation. Pure: no I/O.
 */
import { deterministicId } from '@support/bus';
import {
  create,
  OutboundKind,
  OutboundMessageSchema,
  type ConversationEvent,
  type CsatRating,
  type FieldIssue,
  type OutboundMessage,
} from '@support/contracts';
import { conversationEvent, isResolved, type ConversationState } from '@support/conversation';
import { notice } from '@support/notices';
import { resolutionEvent, resolutionFor } from './ids.js';

/** `resolved_by` of the customer's own confirmation and of the quiet window. */
export const RESOLVED_BY_CUSTOMER = 'customer';
export const RESOLVED_BY_QUIET_WINDOW = 'quiet_window';

/** Why the customer may not resolve the conversation as answered by the AI. */
export type ConfirmRefusal =
  | { reason: 'not_found'; message: string }
  | {
      reason: 'already_resolved' | 'awaiting_person' | 'with_person' | 'no_ai_reply';
      message: string;
    };

/**
 * Whether the customer may say "this answered my question", resolving the
 * conversation as the AI's: the AI answered them and nobody human has or
 * awaits the conversation (a person's conversation is the person's to close).
 * Undefined when they may.
 */
export function confirmRefusal(state: ConversationState): ConfirmRefusal | undefined {
  if (state.status === 'new') return { reason: 'not_found', message: 'no such conversation' };
  if (isResolved(state))
    return { reason: 'already_resolved', message: 'the conversation is resolved already' };
  if (state.status === 'awaiting_human')
    return {
      reason: 'awaiting_person',
      message: 'the conversation waits for a person, who will close it',
    };
  if (state.status === 'with_human')
    return { reason: 'with_person', message: 'a person has the conversation and will close it' };
  if (!state.transcript.some((line) => line.speaker === 'ai'))
    return { reason: 'no_ai_reply', message: 'the AI has not answered yet' };
  return undefined;
}

/**
 * When the quiet window of the conversation started: the time of the AI's
 * reply, if that reply is the last thing said, the AI has the conversation
 * (nobody human has or awaits it) and it is not resolved. Undefined when the
 * conversation is not waiting on a quiet customer.
 */
export function quietSince(state: ConversationState): string | undefined {
  if (state.status !== 'ai_handling') return undefined;
  const last = state.transcript.at(-1);
  return last?.speaker === 'ai' && last.at ? last.at : undefined;
}

/** When the quiet window of the conversation ends (ms since the epoch), if it is in one. */
export function quietDueAt(state: ConversationState, windowMs: number): number | undefined {
  const since = quietSince(state);
  if (since === undefined) return undefined;
  const at = Date.parse(since);
  return Number.isNaN(at) ? undefined : at + windowMs;
}

/** The quiet window has passed: the AI's answer is assumed to have resolved the conversation. */
export function isQuietDue(state: ConversationState, windowMs: number, nowMs: number): boolean {
  const due = quietDueAt(state, windowMs);
  return due !== undefined && due <= nowMs;
}

/** The CSAT request of a resolution: one per resolution event, however often it is appended. */
export const csatRequestIdFor = (resolutionEventId: string) =>
  deterministicId('csat-request', resolutionEventId);
const csatRequestedEventId = (requestId: string) => deterministicId('csat-requested', requestId);
/** The id of the outbound message that asks for the rating. */
export const csatMessageIdFor = (requestId: string) =>
  deterministicId('csat-request-message', requestId);

/** A resolution and what follows it: the log events to append and the message to the customer. */
export interface Closing {
  /** ConversationResolved first, then CsatRequested. */
  events: [ConversationEvent, ConversationEvent];
  outbound: OutboundMessage;
  requestId: string;
}

/**
 * What resolving appends: the resolution, the request to rate the
 * conversation (its id derived from the resolution's, so that appending the
 * same resolution again asks once), and the request itself in the
 * conversation's language.
 */
export function closingFor(state: ConversationState, resolved: ConversationEvent): Closing {
  const requestId = csatRequestIdFor(resolved.eventId);
  const at = resolved.occurredAt;
  const requested = conversationEvent(
    state.conversationId,
    csatRequestedEventId(requestId),
    'csatRequested',
    { requestId, channel: state.channel },
    at,
  );
  const outbound = create(OutboundMessageSchema, {
    messageId: csatMessageIdFor(requestId),
    conversationId: state.conversationId,
    channel: state.channel,
    externalConversationId: state.externalConversationId,
    customerId: state.customerId,
    kind: OutboundKind.CSAT_REQUEST,
    text: notice('csatRequest', state.locale || state.handoff?.language || 'en'),
    citations: [],
    inReplyTo: '',
    sentAt: at,
    author: 'system',
    csatRequestId: requestId,
  });
  return { events: [resolved, requested], outbound, requestId };
}

/**
 * Resolves the conversation as it stands (the AI's or a person's, see
 * resolutionFor), with an id that follows from the state: the same
 * resolution of the same state, by whichever path, is one event.
 */
export function resolveNow(
  state: ConversationState,
  opts: { resolvedBy: string; note?: string; assumed?: boolean; at?: string },
): Closing {
  const resolved = resolutionEvent(state, {
    resolution: resolutionFor(state),
    resolvedBy: opts.resolvedBy,
    note: opts.note ?? '',
    assumed: opts.assumed ?? false,
    at: opts.at,
  });
  return closingFor(state, resolved);
}

/** The customer's confirmation: the AI resolved it (undefined result: see confirmRefusal). */
export function confirmByCustomer(state: ConversationState, at?: string): Closing {
  return resolveNow(state, { resolvedBy: RESOLVED_BY_CUSTOMER, at });
}

/** The quiet window passed: the AI's resolution is assumed. */
export function resolveByQuietWindow(state: ConversationState, at?: string): Closing {
  return resolveNow(state, { resolvedBy: RESOLVED_BY_QUIET_WINDOW, assumed: true, at });
}

/** A rating that does not fit the conversation: the field, the rule, and 404 or 409. */
export interface RatingRejection extends FieldIssue {
  status: 404 | 409;
}

export type RatingDecision =
  { kind: 'append'; event: ConversationEvent } | { kind: 'reject'; rejection: RatingRejection };

/**
 * The CsatRated a rating appends, or why it does not fit: the conversation
 * must have been asked to rate (a CsatRequested); a rating naming a request
 * must name one of this conversation's, and one naming none answers the
 * latest. A later rating of the same request replaces the earlier (evolve).
 * The rating's own values are checked by the contract (validateCsatRating).
 */
export function decideRating(
  state: ConversationState,
  rating: Pick<CsatRating, 'requestId' | 'score' | 'comment'>,
  eventId: string,
  at?: string,
): RatingDecision {
  if (state.status === 'new') {
    return {
      kind: 'reject',
      rejection: {
        field: 'conversationId',
        rule: 'exists',
        message: 'no such conversation',
        status: 404,
      },
    };
  }
  const requests = state.csatRequests ?? [];
  if (requests.length === 0) {
    return {
      kind: 'reject',
      rejection: {
        field: 'csat',
        rule: 'requested',
        message: 'the conversation was not asked for a rating (it has not been resolved)',
        status: 409,
      },
    };
  }
  const requestId = rating.requestId || requests.at(-1)!.requestId;
  if (!requests.some((r) => r.requestId === requestId)) {
    return {
      kind: 'reject',
      rejection: {
        field: 'requestId',
        rule: 'known_request',
        message: 'is not a CSAT request of this conversation',
        status: 409,
      },
    };
  }
  return {
    kind: 'append',
    event: conversationEvent(
      state.conversationId,
      eventId,
      'csatRated',
      { requestId, score: rating.score, comment: rating.comment.trim() },
      at,
    ),
  };
}
