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
 * A projection folded by the whole `evolve` over a cut-down conversation, cut down again after
 * each event by `cut` (a window, stripped of what the service never reads). The messages it
 * keeps are MessageViews with fewer fields, which the whole `evolve` carries as they are. An
 * event already applied leaves the state as it is.
 */
function cutFromWhole<
  S extends ConversationLifecycle & {
    messages: Pick<MessageView, 'messageId' | 'text' | 'at'>[];
    transcript: TranscriptLine[];
  },
>(name: string, cut: (state: ConversationState) => S): Projection<S> {
  return {
    name,
    initial: (conversationId) => cut(initialState(conversationId)),
    evolve: (state, event: ConversationEvent) => {
      const whole = { ...state, messages: state.messages as MessageView[] } as ConversationState;
      const next = evolve(whole, event);
      return next === whole ? state : cut(next);
    },
  };
}

/**
 * The responder's fold of the log: its window, stripped of what the responder never reads (the
 * proposals' text, citations and evidence, the scores, the decisions).
 */
export const responderProjection = cutFromWhole('responder-v1', slim);

/** A customer message as the learning loop remembers it: its words, and its reply's topic and intent. */
export interface LearnedMessage {
  messageId: string;
  text: string;
  at: string;
  proposal?: Pick<ProposalView, 'topic' | 'intent'>;
}

/**
 * What the learning loop keeps of a conversation: its lifecycle (the handoff, its stretches, the
 * status, the language), a window of the latest customer messages with their replies' topic and
 * intent, and the agents' latest lines: what a person's resolution teaches is read from these.
 */
export interface LearningState extends ConversationLifecycle {
  messages: LearnedMessage[];
  transcript: TranscriptLine[];
}

/** The learning loop's window: the latest customer messages, agent lines and human stretches. */
export const LEARNING_MESSAGES = 50;
export const LEARNING_AGENT_LINES = 60;
export const LEARNING_STRETCHES = 10;

function forLearning(state: ConversationState): LearningState {
  return {
    ...state,
    messages: state.messages.slice(-LEARNING_MESSAGES).map((m) => ({
      messageId: m.messageId,
      text: m.text,
      at: m.at,
      ...(m.proposal ? { proposal: { topic: m.proposal.topic, intent: m.proposal.intent } } : {}),
    })),
    transcript: state.transcript.filter((l) => l.speaker === 'agent').slice(-LEARNING_AGENT_LINES),
    ...(state.humanStretches
      ? { humanStretches: state.humanStretches.slice(-LEARNING_STRETCHES) }
      : {}),
  };
}

/**
 * The learning loop's fold of the log (its own consumer group): its window, stripped of what a
 * lesson never reads (the customer's and the AI's transcript lines, the proposals but for their
 * topic and intent, the scores, the decisions).
 */
export const learningProjection = cutFromWhole('learning-v1', forLearning);
