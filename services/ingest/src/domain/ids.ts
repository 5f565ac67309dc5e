import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { deterministicId } from '@support/bus';
import { Resolution, type ConversationEvent, type InboundMessage } from '@support/contracts';
import { conversationEvent, type ConversationState } from '@support/conversation';

/** The conversation id for a channel's conversation: stable, so every replica maps it alike with no lookup. */
export function conversationIdFor(channel: string, externalConversationId: string): string {
  return deterministicId('conversation', channel, externalConversationId);
}

/** The message id for an idempotency key: a repeat of the key is the same message. */
export function messageIdFor(channel: string, idempotencyKey: string): string {
  return deterministicId('message', channel, idempotencyKey);
}

/**
 * What makes a message the same message for its idempotency key: its conversation, customer and
 * text (or rating). A key repeated with the same fingerprint is a retry; with another, a conflict.
 */
export function messageFingerprint(
  m: Pick<InboundMessage, 'channel' | 'externalConversationId' | 'customerId' | 'text' | 'csat'>,
): string {
  const csat = m.csat ? [m.csat.requestId, m.csat.score, m.csat.comment] : null;
  return createHash('sha256')
    .update(JSON.stringify([m.channel, m.externalConversationId, m.customerId, m.text, csat]))
    .digest('base64url');
}

/** The web channel's id of a widget conversation: made by ingest, never chosen by the browser. */
export function widgetExternalConversationId(widgetKeyId: string, random: string): string {
  return `widget:${widgetKeyId}:${random}`;
}

/** The longest idempotency key a widget client may send (its conversation's id is put before it). */
export const WIDGET_IDEMPOTENCY_KEY_MAX = 120;

/**
 * A widget message's idempotency key in the web channel: the browser's key within its own
 * conversation, so that no widget client can collide with another conversation's keys.
 */
export function widgetIdempotencyKey(externalConversationId: string, key: string): string {
  return `${externalConversationId}/${key}`;
}

export function streamToken(secret: string, conversationId: string): string {
  return createHmac('sha256', secret).update(conversationId).digest('base64url');
}

export function verifyStreamToken(secret: string, conversationId: string, token: string): boolean {
  const expected = Buffer.from(streamToken(secret, conversationId));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Who resolved the conversation follows from where it stood: a person had or awaited it, or the AI did. */
export function resolutionFor(state: ConversationState): Resolution {
  return state.status === 'with_human' || state.status === 'awaiting_human'
    ? Resolution.HUMAN
    : Resolution.AI;
}

/**
 * ConversationResolved for the conversation as it stands. Without an event id
 * (the HTTP resolve) the id follows from the state, so a repeated request for
 * the same state is the same event.
 */
export function resolutionEvent(
  state: ConversationState,
  opts: {
    resolution: Resolution;
    resolvedBy: string;
    note: string;
    /** The AI's resolution is assumed (the quiet window), not confirmed. */
    assumed?: boolean;
    eventId?: string;
    at?: string;
  },
): ConversationEvent {
  return conversationEvent(
    state.conversationId,
    opts.eventId ??
      deterministicId(
        'resolved',
        state.conversationId,
        String(state.resolutionCount),
        String(state.messages.length),
      ),
    'conversationResolved',
    {
      resolution: opts.resolution,
      resolvedBy: opts.resolvedBy,
      note: opts.note,
      assumed: opts.assumed ?? false,
    },
    opts.at,
  );
}
