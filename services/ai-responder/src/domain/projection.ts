import type { ConversationEvent } from '@support/contracts';
import {
  evolve,
  initialState,
  type ConversationLifecycle,
  type ConversationState,
  type MessageView,
  type ProposalView,
  type Projection,
  type TranscriptLine,
} from '@support/conversation';
import { RECENT_STRETCHES } from './conversation-context.js';

/** A customer message as the responder remembers it: its words, and whether its reply asked for details. */
export interface RecentMessage {
  messageId: string;
  text: string;
  at: string;
  proposal?: Pick<ProposalView, 'kind'>;
}

/**
 * What the responder keeps of a conversation: its lifecycle (who holds it, the human stretches,
 * the details collected, the page and language) and a window of the latest messages, transcript
 * lines and human stretches. The log keeps the rest; the prompt reads at most the latest 20 turns.
 * The whole `ConversationState` fits this shape, so the preview API and the tests can pass one.
 */
export interface ResponderState extends ConversationLifecycle {
  messages: RecentMessage[];
  transcript: TranscriptLine[];
}

/** The window: the latest customer messages and transcript lines kept. */
export const RECENT_MESSAGES = 30;
export const RECENT_LINES = 60;

function slim(state: ConversationState): ResponderState {
  return {
    ...state,
    messages: state.messages.slice(-RECENT_MESSAGES).map((m) => ({
      messageId: m.messageId,
      text: m.text,
      at: m.at,
      ...(m.proposal ? { proposal: { kind: m.proposal.kind } } : {}),
    })),
    transcript: state.transcript.slice(-RECENT_LINES),
    ...(state.humanStretches
      ? { humanStretches: state.humanStretches.slice(-RECENT_STRETCHES) }
      : {}),
  };
}

/**
 * The responder's fold of the log: the whole `evolve` over the window, which is then cut back
 * to its size and stripped of what the responder never reads (the proposals' text, citations and
 * evidence, the scores, the decisions). An event already applied leaves the state as it is.
 */
export const responderProjection: Projection<ResponderState> = {
  name: 'responder-v1',
  initial: (conversationId) => slim(initialState(conversationId)),
  evolve: (state: ResponderState, event: ConversationEvent) => {
    // (a RecentMessage is a MessageView with nothing but its proposal's kind)
    const whole: ConversationState = { ...state, messages: state.messages as MessageView[] };
    const next = evolve(whole, event);
    return next === whole ? state : slim(next);
  },
};
