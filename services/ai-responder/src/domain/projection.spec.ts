import type { ConversationEvent } from '@support/contracts';
import { evolve, initialState, type ConversationState } from '@support/conversation';
import { conversationContext, RECENT_STRETCHES } from './conversation-context';
import { lessonFromResolution } from './kb/suggestion';
import {
  LEARNING_MESSAGES,
  learningProjection,
  RECENT_MESSAGES,
  responderProjection,
  type ResponderState,
} from './projection';
import { C, generatedLog } from './test-support';

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

describe("the learning loop's projection (what a person's resolution teaches)", () => {
  it('given 300 generated conversations, then every resolution teaches what it teaches from the whole conversation', () => {
    let lessons = 0;
    for (let seed = 1; seed <= 300; seed++) {
      let whole = initialState(C);
      let learning = learningProjection.initial(C);
      for (const event of generatedLog(seed, 1 + (seed % LEARNING_MESSAGES))) {
        whole = evolve(whole, event);
        learning = learningProjection.evolve(learning, event);
        if (event.payload.case !== 'conversationResolved') continue;
        const expected = lessonFromResolution(whole, event.payload.value);
        expect(lessonFromResolution(learning, event.payload.value)).toEqual(expected);
        if (expected.kind === 'suggestion') lessons++;
      }
    }
    expect(lessons).toBeGreaterThan(50);
  });

  it('given a conversation growing to 800 messages, then its snapshot stops growing at the window', () => {
    const sizeAfter = (messages: number) =>
      JSON.stringify(
        generatedLog(9, messages).reduce(learningProjection.evolve, learningProjection.initial(C)),
      ).length;
    const whole = JSON.stringify(generatedLog(9, 800).reduce(evolve, initialState(C))).length;
    // (about one agent line in five messages: the window of agent lines is full after some 300)
    expect(sizeAfter(800)).toBeLessThan(sizeAfter(400) * 1.1);
    expect(sizeAfter(800)).toBeLessThan(whole / 4);
  });

  it('given events delivered again, then the state is the same object (nothing to react to)', () => {
    const log = generatedLog(4, 12);
    const state = log.reduce(learningProjection.evolve, learningProjection.initial(C));
    for (const event of log.slice(-6)) expect(learningProjection.evolve(state, event)).toBe(state);
  });
});
