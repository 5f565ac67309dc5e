import {
  currentStretch,
  type ConversationLifecycle,
  type HumanStretch,
  type TranscriptLine,
} from '@support/conversation';
import type { ResponderState } from './projection.js';

/** One earlier turn of the conversation as the responder reads it, or a note on what a person did. */
export interface ContextLine {
  /** customer, the AI (its released replies), a person from the team, or a note about a human stretch. */
  speaker: 'customer' | 'ai' | 'agent' | 'note';
  text: string;
  at: string;
  /** The agent's name, on an agent's line. */
  author?: string;
}

/** A person who holds the conversation now (the responder drafts replies for them). */
export interface Holder {
  name: string;
  team: string;
  since: string;
}

/**
 * What the responder knows of the conversation before the message it answers:
 * the turns in time order with a note for each of the latest stretches a person held it, the
 * customer's own earlier words (never an agent's or the AI's), whether it
 * asked for details before, and who holds the conversation now.
 */
export interface ConversationContext {
  lines: ContextLine[];
  customerTexts: string[];
  askedBefore: boolean;
  holder?: Holder;
}

export interface ContextOptions {
  /** The most turns kept (the latest); notes on the latest human stretches are kept beside them. */
  maxTurns?: number;
  /** The longest text of one turn, in characters. */
  maxChars?: number;
}

/** The latest stretches a person held that the context notes (the open one among them). */
export const RECENT_STRETCHES = 5;

export const EMPTY_CONTEXT: ConversationContext = {
  lines: [],
  customerTexts: [],
  askedBefore: false,
};

const clip = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
};

/** "2026-11-21T10:02:33.120Z" -> "2026-11-21 10:02 UTC"; anything else as it is. */
export function formatTime(at: string): string {
  const t = Date.parse(at);
  if (!at || Number.isNaN(t)) return at;
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The agent's team, when the conversation's handoff names it (stretches keep only the name). */
function teamOf(state: ConversationLifecycle, stretch: HumanStretch): string {
  const h = state.handoff;
  return h?.handoffId === stretch.handoffId && h.agent?.agentId === stretch.agentId
    ? h.agent.team
    : '';
}

const person = (name: string, team: string) =>
  name && team ? `${name}, ${team}` : name || team || 'an agent';

/** The note on one stretch a person held, e.g. "A person (Ada, Billing) handled the conversation from … to …; their note: …". */
export function stretchNote(stretch: HumanStretch, team: string): string {
  const who = `A person (${person(stretch.agentName, team)})`;
  if (!stretch.to) return `${who} has had the conversation since ${formatTime(stretch.from)}.`;
  const span = `from ${formatTime(stretch.from)} to ${formatTime(stretch.to)}`;
  const how =
    stretch.ended === 'resolved'
      ? ' and resolved it'
      : stretch.ended === 'handed_back'
        ? ' and handed it back to the AI'
        : '';
  const note = stretch.note.trim() ? `; their note: ${clip(stretch.note, 600)}` : '';
  const text = `${who} handled the conversation ${span}${how}${note}`;
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

/**
 * The conversation before message `messageId` as the responder reads it: the
 * transcript's customer, AI and agent lines in time order (system lines such
 * as "Ada joined" are left out; a note per human stretch, placed where the
 * stretch ended, says who held it and what they noted; the latest RECENT_STRETCHES), the latest
 * `maxTurns` turns, each clipped. The message itself is not part of it.
 */
export function conversationContext(
  state: ResponderState | undefined,
  messageId: string,
  options: ContextOptions = {},
): ConversationContext {
  if (!state) return EMPTY_CONTEXT;
  const maxTurns = options.maxTurns ?? 20;
  const maxChars = options.maxChars ?? 500;
  const message = state.messages.find((m) => m.messageId === messageId);
  const earlier = state.messages.filter((m) => m.messageId !== messageId);

  // The message's own transcript line: the customer's, with its time and text (the latest such).
  let own = -1;
  if (message) {
    for (let i = state.transcript.length - 1; i >= 0 && own < 0; i--) {
      const t = state.transcript[i];
      if (t.speaker === 'customer' && t.at === message.at && t.text === message.text) own = i;
    }
  }
  const turns: ContextLine[] = state.transcript
    .filter(
      (t, i): t is TranscriptLine & { speaker: 'customer' | 'ai' | 'agent' } =>
        i !== own && t.speaker !== 'system',
    )
    .map((t) => ({
      speaker: t.speaker,
      text: clip(t.text, maxChars),
      at: t.at,
      ...(t.speaker === 'agent' ? { author: t.author || 'Agent' } : {}),
    }));
  const kept = turns.slice(Math.max(0, turns.length - maxTurns));

  // A note per stretch: an ended one where it ended (after the turns of that time), the open one last.
  const lines = [...kept];
  const open = currentStretch(state);
  for (const s of (state.humanStretches ?? []).slice(-RECENT_STRETCHES)) {
    const note: ContextLine = { speaker: 'note', text: stretchNote(s, teamOf(state, s)), at: s.to };
    let i = lines.length;
    while (s.to && i > 0 && lines[i - 1].at > s.to) i--;
    lines.splice(i, 0, note);
  }

  return {
    lines,
    customerTexts: earlier.map((m) => m.text),
    askedBefore: earlier.some((m) => m.proposal?.kind === 'intake'),
    ...(open
      ? {
          holder: {
            name: open.agentName || 'the agent',
            team: teamOf(state, open),
            since: open.from,
          },
        }
      : {}),
  };
}

/** Keeps a turn's text from closing or opening the prompt's tags. */
const inert = (text: string) => text.replace(/</g, '‹').replace(/>/g, '›');

/**
 * The context as the chat model reads it, one line each, oldest first:
 * "Customer: …", "Assistant (you): …", "Ada (support agent): …",
 * "Note: A person (Ada, Billing) handled the conversation from … to …; their note: …".
 * Empty when there is nothing before the message.
 */
export function formatContext(context: ConversationContext): string {
  return context.lines
    .map((l) => {
      const text = inert(l.text);
      switch (l.speaker) {
        case 'customer':
          return `Customer: ${text}`;
        case 'ai':
          return `Assistant (you): ${text}`;
        case 'agent':
          return `${inert(l.author ?? 'Agent')} (support agent): ${text}`;
        case 'note':
          return `Note: ${text}`;
      }
    })
    .join('\n');
}
