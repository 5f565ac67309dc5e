import type { ConversationEvent } from '@support/contracts';
import { evolve } from './evolve.js';
import { initialState, type ConversationLifecycle, type ConversationState } from './state.js';

/** What every projection's state carries: the conversation it is of. */
export interface OfConversation {
  conversationId: string;
}

/**
 * What one service folds of the conversation log: its own small state and its own `evolve`,
 * from the shared event contracts. A service keeps only what it decides on, so its snapshots
 * are small, each event costs little to fold and to checkpoint, and the events it does not
 * read cost a comparison.
 *
 * `evolve` must return the same object when an event changes nothing the service keeps (an
 * event it ignores, or one it has applied already): the log consumer reacts only to events
 * that changed the projection, and a repeated event must not be reacted to twice.
 */
export interface Projection<S extends OfConversation> {
  /**
   * Names the projection's snapshots beside the service's (`<service>.<name>`); empty for the
   * whole conversation. A projection whose shape changes takes a new name, so snapshots of the
   * old shape are never read as the new one: the new namespace has no partition marks, and the
   * log consumer folds its partitions from the log before it goes on.
   */
  name: string;
  initial(conversationId: string): S;
  evolve(state: S, event: ConversationEvent): S;
}

/** The whole conversation (`ConversationState`), for the services whose product is the whole view. */
export const conversationProjection: Projection<ConversationState> = {
  name: '',
  initial: initialState,
  evolve,
};

function withoutText(state: ConversationState): ConversationLifecycle {
  const { messages, transcript, ...lifecycle } = state;
  void messages;
  void transcript;
  return lifecycle;
}

/**
 * The conversation's lifecycle (status, handoff, people, resolutions, ratings) without what was
 * said: for a service that follows the handoff and not the words (the router). The whole `evolve`
 * folds it, with no messages and no transcript to carry: none of what it keeps depends on them.
 */
export const lifecycleProjection: Projection<ConversationLifecycle> = {
  name: 'lifecycle-v1',
  initial: (conversationId) => withoutText(initialState(conversationId)),
  evolve: (state, event) => {
    const whole: ConversationState = { ...state, messages: [], transcript: [] };
    const next = evolve(whole, event);
    return next === whole ? state : withoutText(next);
  },
};
