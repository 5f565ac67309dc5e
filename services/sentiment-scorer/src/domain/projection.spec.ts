import {
  conversationEvent,
  evolve,
  initialState,
  type ConversationState,
} from '@support/conversation';
import type { ConversationEvent } from '@support/contracts';
import { evolveScorer, initialScorerState, type ScorerState } from './projection';

const C = 'conv-1';
const t = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();

const received = (id: string, text: string, n: number) =>
  conversationEvent(
    C,
    `e-${id}`,
    'customerMessageReceived',
    {
      messageId: id,
      channel: 'web',
      externalConversationId: 'ext',
      customerId: 'cust',
      text,
      locale: 'en',
      pageUrl: '',
      idempotencyKey: id,
      accountId: '',
      sentAt: '',
    },
    t(n),
  );
const scored = (id: string, valence: number, n: number, frustration?: number) =>
  conversationEvent(
    C,
    `s-${id}`,
    'messageScored',
    {
      messageId: id,
      valence,
      label: valence < 0 ? 'negative' : 'positive',
      signals: [],
      repeatsMessageId: '',
      repeatSimilarity: 0,
      ...(frustration === undefined ? {} : { frustration }),
    },
    t(n),
  );
const released = (id: string, n: number) =>
  conversationEvent(
    C,
    `r-${id}`,
    'aiReplyReleased',
    { messageId: id, replyId: `rep-${id}`, text: 'Here is how', confidence: 0.9, citations: [] },
    t(n),
  );

/** What the scorer read of the whole conversation before it had a projection of its own. */
const fromWholeState = (s: ConversationState) =>
  s.messages.map((m) => ({
    messageId: m.messageId,
    text: m.text,
    ...(m.score ? { valence: m.score.valence } : {}),
    ...(m.score?.frustration !== undefined ? { frustration: m.score.frustration } : {}),
  }));

/** A small deterministic generator, so that a failure names a seed that repeats it. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/**
 * A log as the services write it: messages, their scores (one per message, its id derived from
 * the message's, and some published again after a crash), replies, records delivered again.
 */
function someLog(seed: number): ConversationEvent[] {
  const next = random(seed);
  const log: ConversationEvent[] = [];
  const ids: string[] = [];
  const scores = new Map<string, ConversationEvent>();
  for (let n = 0; n < 40; n++) {
    const roll = next();
    if (roll < 0.35 || ids.length === 0) {
      const id = `m${ids.length}`;
      ids.push(id);
      log.push(received(id, `text of ${id} ${Math.floor(next() * 5)}`, n));
    } else if (roll < 0.65) {
      const id = ids[Math.floor(next() * ids.length)];
      const frustration = next() < 0.8 ? Math.round(next() * 100) / 100 : undefined;
      const score =
        scores.get(id) ?? scored(id, Math.round((next() * 2 - 1) * 100) / 100, n, frustration);
      scores.set(id, score);
      log.push(score);
    } else if (roll < 0.8) {
      log.push(released(ids[Math.floor(next() * ids.length)], n));
    } else {
      // a record delivered again: an earlier event at a later offset
      log.push(log[Math.floor(next() * log.length)]);
    }
  }
  return log;
}

describe('the scorer projection', () => {
  it('given any log, then it holds the customer messages and their scores as the whole conversation does', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const log = someLog(seed);
      const whole = log.reduce(evolve, initialState(C));
      const own = log.reduce(evolveScorer, initialScorerState(C));
      expect({ seed, messages: own.messages }).toEqual({ seed, messages: fromWholeState(whole) });
    }
  });

  it('given a message it holds, when it is received again, then the state is the same object (nothing to react to)', () => {
    const state = [received('a', 'where is my parcel', 1)].reduce(
      evolveScorer,
      initialScorerState(C),
    );
    expect(evolveScorer(state, received('a', 'where is my parcel', 1))).toBe(state);
  });

  it('given its own score folded at once, when the log delivers it, then the state is the same object', () => {
    const state: ScorerState = [
      received('a', 'this is broken', 1),
      scored('a', -0.6, 2, 0.7),
    ].reduce(evolveScorer, initialScorerState(C));
    expect(evolveScorer(state, scored('a', -0.6, 2, 0.7))).toBe(state);
  });

  it('given events the scorer does not read, then they change nothing', () => {
    const state = [received('a', 'hello', 1)].reduce(evolveScorer, initialScorerState(C));
    expect(evolveScorer(state, released('a', 2))).toBe(state);
    expect(evolveScorer(state, { ...received('b', 'other', 3), conversationId: 'conv-2' })).toBe(
      state,
    );
  });
});
