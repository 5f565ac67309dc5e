import { create, ConversationEventSchema, Resolution } from '@support/contracts';
import { conversationEvent, fold, type ConversationState } from '@support/conversation';
import {
  cleanQuestion,
  decide,
  expiryFrom,
  lessonFromResolution,
  publishedText,
  similarity,
  withSource,
  storedOrEmbedded,
} from './suggestion';

const C = 'c-1';
let n = 0;
const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 10, 0, s)).toISOString();
function ev<K extends Parameters<typeof conversationEvent>[2]>(
  kind: K,
  value: Parameters<typeof conversationEvent<K>>[3],
) {
  const e = conversationEvent(C, `e-${n}`, kind, value);
  return create(ConversationEventSchema, { ...e, occurredAt: at(n++) });
}

function handedOff(then: () => ReturnType<typeof ev>[]): ConversationState {
  const base = [
    ev('customerMessageReceived', {
      messageId: 'm1',
      text: 'Hi, can I pay suppliers in USD? thanks',
    }),
    ev('aiReplyProposed', { messageId: 'm1', replyId: 'r1', topic: 'payments', intent: 'how_to' }),
    ev('handoffRequested', { handoffId: 'h1', messageId: 'm1' }),
    ev('agentAssigned', { handoffId: 'h1', agentId: 'ag-ada', agentName: 'Ada', team: 'Billing' }),
  ];
  return fold(C, [...base, ...then()]);
}

describe('learning from a resolution', () => {
  it('given a person answered and resolved, when the lesson is drawn, then the question is the title and their words the body', () => {
    const state = handedOff(() => [
      ev('agentReplied', {
        handoffId: 'h1',
        agentId: 'ag-ada',
        agentName: 'Ada',
        text: 'Yes, open Payments and pick USD.',
      }),
      ev('conversationResolved', {
        resolution: Resolution.HUMAN,
        resolvedBy: 'ag-ada',
        note: 'USD is on all plans.',
      }),
    ]);
    const lesson = lessonFromResolution(state, {
      resolvedBy: 'ag-ada',
      note: 'USD is on all plans.',
    });
    expect(lesson).toEqual({
      kind: 'suggestion',
      draft: {
        title: 'Can I pay suppliers in USD?',
        body: 'Yes, open Payments and pick USD.\n\nResolution note: USD is on all plans.',
        tags: ['payments', 'how_to'],
        topic: 'payments',
        locale: 'en',
        source: {
          conversationId: C,
          handoffId: 'h1',
          agentId: 'ag-ada',
          question: 'Can I pay suppliers in USD?',
        },
      },
    });
  });

  it('given the AI resolved it, or nobody wrote anything, when the lesson is drawn, then there is none', () => {
    const byAi = handedOff(() => [
      ev('conversationResolved', { resolution: Resolution.AI, resolvedBy: 'customer' }),
    ]);
    expect(lessonFromResolution(byAi, { resolvedBy: 'customer', note: '' }).kind).toBe('nothing');
    const silent = handedOff(() => [
      ev('conversationResolved', { resolution: Resolution.HUMAN, resolvedBy: 'ag-ada' }),
    ]);
    expect(lessonFromResolution(silent, { resolvedBy: 'ag-ada', note: '' })).toEqual({
      kind: 'nothing',
      reason: 'the person wrote nothing',
    });
  });

  it('cleans greetings, closing thanks and length from a question', () => {
    expect(cleanQuestion('  hello there,   how do I   export data? Thank you!')).toBe(
      'How do I export data?',
    );
    expect(cleanQuestion('Hey! where are my invoices? cheers')).toBe('Where are my invoices?');
    expect(cleanQuestion(`why ${'very '.repeat(60)}slow`).length).toBeLessThanOrEqual(201);
  });
});

describe('near-duplicates', () => {
  const thresholds = { merge: 0.7, match: 0.72 };

  it('given a close pending suggestion, when deciding, then the resolution merges into the closest one', () => {
    expect(
      decide(
        [
          { suggestionId: 's1', similarity: 0.71 },
          { suggestionId: 's2', similarity: 0.9 },
        ],
        [{ articleId: 'a1', similarity: 0.95 }],
        thresholds,
      ),
    ).toEqual({ kind: 'merge', suggestionId: 's2', similarity: 0.9 });
  });

  it('given no close suggestion but a close published article, then it is matched; else created', () => {
    expect(
      decide(
        [{ suggestionId: 's1', similarity: 0.5 }],
        [{ articleId: 'a1', similarity: 0.8 }],
        thresholds,
      ),
    ).toEqual({
      kind: 'matched',
      articleId: 'a1',
      similarity: 0.8,
    });
    expect(decide([], [{ articleId: 'a1', similarity: 0.6 }], thresholds)).toEqual({
      kind: 'create',
    });
  });

  it('weighs shared words with meaning: paraphrases score above questions that only sound alike', () => {
    const paraphrase = similarity(
      0.84,
      'How do I set up recurring supplier payments?',
      'Can I schedule recurring payments to a supplier?',
    );
    const lookalike = similarity(
      0.84,
      'How do I set up recurring supplier payments?',
      'How do I pay a supplier with credits?',
    );
    expect(paraphrase.score).toBeGreaterThan(lookalike.score);
    expect(paraphrase.words).toBeGreaterThan(0.5);
  });
});

describe('sources, expiry and the published text', () => {
  it('keeps a source once per conversation and handoff', () => {
    const s = { conversationId: C, handoffId: 'h1', agentId: 'a', question: 'q' };
    expect(withSource(withSource([], s), { ...s, question: 'other' })).toEqual([s]);
    expect(withSource([s], { ...s, handoffId: 'h2' })).toHaveLength(2);
  });

  it('expires the configured number of days later', () => {
    expect(expiryFrom(new Date('2026-11-01T00:00:00Z'), 14)).toBe('2026-11-15T00:00:00.000Z');
  });

  it("publishes the reviewer's edits, else the suggestion's own text", () => {
    const s = { title: 'T', body: 'B', tags: ['x'] };
    expect(publishedText(s, {})).toEqual(s);
    expect(publishedText(s, { title: ' New ', body: '', tags: ['y', 'y', ' '] })).toEqual({
      title: 'New',
      body: 'B',
      tags: ['y'],
    });
  });
});

describe('vectors of published matches', () => {
  const embedded = () => {
    const calls: string[][] = [];
    const embed = async (texts: string[]) => {
      calls.push(texts);
      return texts.map((t) => [t.length]);
    };
    return { calls, embed };
  };

  it('takes the stored vectors and embeds only the passages without one, in one call, in order', async () => {
    const stored = new Map([
      ['a', [1]],
      ['c', [3]],
    ]);
    const { calls, embed } = embedded();
    const vectors = await storedOrEmbedded(['a', 'bb', 'c', 'dddd'], (id) => stored.get(id), embed);
    expect(vectors).toEqual([[1], [2], [3], [4]]);
    expect(calls).toEqual([['bb', 'dddd']]);
  });

  it('embeds nothing when every passage has its vector', async () => {
    const { calls, embed } = embedded();
    expect(await storedOrEmbedded(['a'], () => [9], embed)).toEqual([[9]]);
    expect(calls).toEqual([]);
  });
});
