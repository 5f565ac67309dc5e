import type { ConversationEvent } from '@support/contracts';
import type { Projection } from '@support/conversation';
import type { ScoredMessage } from './trajectory.js';

/**
 * What the scorer keeps of a conversation: its customer messages, each with the valence and
 * frustration it was scored with; nothing of replies, decisions or handoffs. Scoring a message
 * reads every earlier one (the trajectory runs from the first, a repeat may be of any).
 */
export interface ScorerState {
  conversationId: string;
  messages: ScoredMessage[];
}

export function initialScorerState(conversationId: string): ScorerState {
  return { conversationId, messages: [] };
}

/**
 * The scorer's fold of the log. The same message received again, and a score that is already
 * there (the scorer's own, folded at once and then read from the log), leave the state as it is.
 */
export function evolveScorer(state: ScorerState, event: ConversationEvent): ScorerState {
  if (event.conversationId !== state.conversationId) return state;
  const { payload } = event;
  if (payload.case === 'customerMessageReceived') {
    const { messageId, text } = payload.value;
    if (state.messages.some((m) => m.messageId === messageId)) return state;
    return { ...state, messages: [...state.messages, { messageId, text }] };
  }
  if (payload.case === 'messageScored') {
    const { messageId, valence, frustration } = payload.value;
    const i = state.messages.findIndex((m) => m.messageId === messageId);
    const held = state.messages[i];
    if (!held || (held.valence === valence && held.frustration === frustration)) return state;
    const messages = [...state.messages];
    messages[i] = { ...held, valence, ...(frustration !== undefined ? { frustration } : {}) };
    return { ...state, messages };
  }
  return state;
}

/** Named for its shape: a change of shape takes a new name (see Projection.name). */
export const scorerProjection: Projection<ScorerState> = {
  name: 'scores-v1',
  initial: initialScorerState,
  evolve: evolveScorer,
};
