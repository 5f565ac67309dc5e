import { createHmac, timingSafeEqual } from 'node:crypto';
import { deterministicId } from '@support/bus';
import { Resolution } from '@support/contracts';
import type { ConversationState } from '@support/conversation';

/** The conversation id for a channel's conversation: stable, so every replica maps it alike with no lookup. */
export function conversationIdFor(channel: string, externalConversationId: string): string {
  return deterministicId('conversation', channel, externalConversationId);
}

/** The message id for an idempotency key: a repeat of the key is the same message. */
export function messageIdFor(channel: string, idempotencyKey: string): string {
  return deterministicId('message', channel, idempotencyKey);
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
