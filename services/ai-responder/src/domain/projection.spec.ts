import { ReplyKind, type ConversationEvent } from '@support/contracts';
import {
  conversationEvent,
  evolve,
  initialState,
  type ConversationState,
  type PayloadInitOf,
} from '@support/conversation';
import { conversationContext, RECENT_STRETCHES } from './conversation-context';
import { RECENT_MESSAGES, responderProjection, type ResponderState } from './projection';

const C = 'conv-1';

/** A small deterministic random source, so that a failing log can be generated again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A generated conversation of `messages` customer messages: answered, asked for details,
 * handed to a person who writes and hands back or resolves, reopened; a few events delivered twice.
 */
function generatedLog(seed: number, messages: number): ConversationEvent[] {
  const rnd = random(seed);
  const log: ConversationEvent[] = [];
  let minute = 0;
  let n = 0;
  const ev = <K extends Parameters<typeof conversationEvent>[2]>(
    kind: K,
    value: PayloadInitOf<K>,
  ) =>
    log.push(
      conversationEvent(
        C,
        `e-${seed}-${n++}`,
        kind,
        value,
        new Date(Date.UTC(2026, 10, 1, 9, minute++)).toISOString(),
      ),
    );
  let withPerson = false;
  let handoffs = 0;
  for (let i = 0; i < messages; i++) {
    const messageId = `m${i}`;
    ev('customerMessageReceived', {
      messageId,
      text: `Message ${i} of run ${seed}: ${rnd() < 0.5 ? 'my invoice' : 'the export'}`,
      channel: 'web',
      locale: 'en',
      pageUrl: `/page-${i % 3}`,
    });
    const handoffId = `ho-${handoffs}`;
    const agent = {
      handoffId,
      agentId: `ag-${handoffs % 2}`,
      agentName: handoffs % 2 ? 'Bo' : 'Ada',
    };
    if (withPerson) {
      ev('aiReplyProposed', {
        messageId,
        replyId: `r-${i}`,
        text: 'draft',
        kind: ReplyKind.ANSWER,
      });
      const r = rnd();
      if (r < 0.4) ev('agentReplied', { ...agent, messageId: `om-${i}`, text: `Agent line ${i}` });
      else if (r < 0.6) {
        ev('handedBack', { ...agent, note: `note ${i}` });
        withPerson = false;
        handoffs++;
      } else if (r < 0.7) {
        ev('conversationResolved', { resolvedBy: agent.agentId, note: '' });
        withPerson = false;
        handoffs++;
      }
      continue;
    }
    const kind = rnd() < 0.2 ? ReplyKind.INTAKE : ReplyKind.ANSWER;
    ev('aiReplyProposed', {
      messageId,
      replyId: `r-${i}`,
      text: `Reply ${i}`,
      kind,
      collectedDetails: rnd() < 0.2 ? [{ name: 'invoice', value: `INV-${i}`, messageId }] : [],
    });
    ev('messageScored', { messageId, valence: rnd() - 0.5, label: 'neutral', signals: [] });
    if (rnd() < 0.75) ev('aiReplyReleased', { messageId, replyId: `r-${i}`, text: `Reply ${i}` });
    else {
      ev('handoffRequested', { handoffId, messageId });
      ev('agentAssigned', { ...agent, team: 'Billing' });
      withPerson = true;
    }
    // (the log delivers a few events twice)
    if (rnd() < 0.1) log.push(log[log.length - 1 - Math.floor(rnd() * 3)]);
  }
  return log;
}

/** Folds the log both ways; calls `check` after each customer message with both states. */
function foldBoth(
  log: ConversationEvent[],
  check: (messageId: string, whole: ConversationState, slim: ResponderState) => void,
): { whole: ConversationState; slim: ResponderState } {
  let whole = initialState(C);
  let slim = responderProjection.initial(C);
  for (const event of log) {
    whole = evolve(whole, event);
    slim = responderProjection.evolve(slim, event);
    if (event.payload.case === 'customerMessageReceived')
      check(event.payload.value.messageId, whole, slim);
  }
  return { whole, slim };
}

describe("the responder's projection (the conversation's lifecycle and its latest words)", () => {
  it('given 200 generated conversations within the window, then after every message it reads the same context as from the whole conversation', () => {
    let checked = 0;
    for (let seed = 1; seed <= 200; seed++) {
      foldBoth(generatedLog(seed, 1 + (seed % (RECENT_MESSAGES - 1))), (messageId, whole, slim) => {
        expect(conversationContext(slim, messageId)).toEqual(conversationContext(whole, messageId));
        expect({ ...slim, messages: [], transcript: [] }).toEqual({
          ...whole,
          messages: [],
          transcript: [],
          ...(whole.humanStretches
            ? { humanStretches: whole.humanStretches.slice(-RECENT_STRETCHES) }
            : {}),
        });
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(2_000);
  });

  it('given long conversations, then the prompt reads the same turns and notes, and the customer’s latest messages', () => {
    for (let seed = 1; seed <= 20; seed++) {
      foldBoth(generatedLog(seed, 120), (messageId, whole, slim) => {
        const wholeContext = conversationContext(whole, messageId);
        const slimContext = conversationContext(slim, messageId);
        expect(slimContext.lines).toEqual(wholeContext.lines);
        expect(slimContext.holder).toEqual(wholeContext.holder);
        expect(slimContext.customerTexts).toEqual(
          wholeContext.customerTexts.slice(-(RECENT_MESSAGES - 1)),
        );
      });
    }
  });

  it('given a conversation growing to 400 messages, then its snapshot stops growing at the window', () => {
    const sizeAfter = (messages: number) => {
      const { slim } = foldBoth(generatedLog(7, messages), () => undefined);
      return JSON.stringify(slim).length;
    };
    const whole = JSON.stringify(generatedLog(7, 400).reduce(evolve, initialState(C))).length;
    expect(sizeAfter(400)).toBeLessThan(sizeAfter(200) * 1.1);
    expect(sizeAfter(400)).toBeLessThan(whole / 4);
  });

  it('given events delivered again, then the state is the same object (nothing to react to)', () => {
    const log = generatedLog(3, 12);
    const state = log.reduce(responderProjection.evolve, responderProjection.initial(C));
    for (const event of log.slice(-6)) expect(responderProjection.evolve(state, event)).toBe(state);
  });
});
