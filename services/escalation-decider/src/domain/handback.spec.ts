import { ReplyKind, type ConversationEvent } from '@support/contracts';
import {
  conversationEvent,
  fold,
  lastHandbackAt,
  type ConversationState,
  type PayloadInitOf,
} from '@support/conversation';
import { NO_CONTEXT } from './context';
import { buildBriefing } from './briefing';
import {
  decide,
  DRAFT_FOR_AGENT,
  factsOf,
  loadDefaultPolicy,
  trajectorySinceHandback,
  unhelpfulTurns,
} from './decide';
import { whatIf } from './whatif';

const policy = loadDefaultPolicy();
const C = 'conv-h';
const t = (minute: number) => new Date(Date.UTC(2026, 10, 21, 10, minute)).toISOString();

let n = 0;
const ev = <K extends Parameters<typeof conversationEvent>[2]>(
  kind: K,
  value: PayloadInitOf<K>,
  minute: number,
) => conversationEvent(C, `e-${kind}-${n++}`, kind, value, t(minute));

interface Turn {
  id: string;
  text: string;
  minute: number;
  confidence?: number;
  valence?: number;
  /** The scorer's trajectory through this message (it runs from the first message). */
  trajectory?: { change: number; smoothed: number; shift: boolean };
  repeats?: string;
  flags?: string[];
  released?: boolean;
}

/** A customer message with the AI's proposal, the sentiment score and, when `released`, the release. */
function turn(x: Turn): ConversationEvent[] {
  const events = [
    ev(
      'customerMessageReceived',
      { messageId: x.id, text: x.text, channel: 'web', locale: 'en' },
      x.minute,
    ),
  ];
  if (x.confidence !== undefined)
    events.push(
      ev(
        'aiReplyProposed',
        {
          messageId: x.id,
          replyId: `r-${x.id}`,
          text: 'Open Settings, then Billing.',
          confidence: x.confidence,
          intent: 'billing',
          intentProbability: 0.9,
          kind: ReplyKind.ANSWER,
          flags: x.flags ?? [],
        },
        x.minute,
      ),
    );
  if (x.valence !== undefined)
    events.push(
      ev(
        'messageScored',
        {
          messageId: x.id,
          valence: x.valence,
          label: x.valence < 0 ? 'negative' : 'neutral',
          signals: [],
          trajectory: x.trajectory
            ? { start: 0.5, messages: 1, turnedAtMessageId: '', ...x.trajectory }
            : undefined,
          repeatsMessageId: x.repeats ?? '',
          repeatSimilarity: x.repeats ? 0.9 : 0,
        },
        x.minute,
      ),
    );
  if (x.released)
    events.push(
      ev(
        'aiReplyReleased',
        { messageId: x.id, replyId: `r-${x.id}`, text: 'Open Settings, then Billing.' },
        x.minute,
      ),
    );
  return events;
}

/** The handoff on message `messageId`, Ada from Billing taking it, and (at `backAt`) handing it back. */
function humanStretch(messageId: string, from: number, backAt?: number): ConversationEvent[] {
  const events = [
    ev('handoffRequested', { handoffId: 'ho-1', messageId }, from),
    ev(
      'agentAssigned',
      { handoffId: 'ho-1', agentId: 'ag-ada', agentName: 'Ada', team: 'Billing' },
      from + 1,
    ),
    ev(
      'agentReplied',
      {
        handoffId: 'ho-1',
        agentId: 'ag-ada',
        agentName: 'Ada',
        messageId: 'om-1',
        text: 'I have refunded the duplicate charge.',
      },
      from + 2,
    ),
  ];
  if (backAt !== undefined)
    events.push(
      ev(
        'handedBack',
        {
          handoffId: 'ho-1',
          agentId: 'ag-ada',
          agentName: 'Ada',
          note: 'Refunded the duplicate charge on INV-1042.',
        },
        backAt,
      ),
    );
  return events;
}

/**
 * A conversation that went badly before the handoff: an answer that did not
 * help twice over, a falling mood, then Ada took it and handed it back at 10:20.
 */
function failedThenHandedBack(): ConversationEvent[] {
  return [
    ...turn({
      id: 'm1',
      text: 'How do I download my invoices?',
      minute: 0,
      confidence: 0.95,
      valence: 0.5,
      released: true,
    }),
    ...turn({
      id: 'm2',
      text: "That didn't help at all.",
      minute: 2,
      confidence: 0.95,
      valence: -0.6,
      trajectory: { change: -0.55, smoothed: -0.05, shift: false },
      released: true,
    }),
    ...turn({
      id: 'm3',
      text: 'Still not working, this is useless.',
      minute: 4,
      confidence: 0.95,
      valence: -0.8,
      trajectory: { change: -0.93, smoothed: -0.43, shift: true },
    }),
    ...humanStretch('m3', 5, 20),
  ];
}

const stateOf = (events: ConversationEvent[]): ConversationState => fold(C, events);

describe('the decider after a person handed the conversation back', () => {
  it('given a conversation handed back after repeated failures and a turned mood, when the next message gets a confident answer, then it is released, not handed off on stale signals', async () => {
    // Given the scorer's trajectory still carries the old fall, and the repeat points before the handback
    const state = stateOf([
      ...failedThenHandedBack(),
      ...turn({
        id: 'm4',
        text: 'How can I download all of my invoices?',
        minute: 22,
        confidence: 0.95,
        valence: 0.1,
        trajectory: { change: -0.6, smoothed: -0.1, shift: true },
        repeats: 'm1',
      }),
    ]);

    // When
    const decision = await decide(state, 'm4', policy, false);

    // Then
    expect(decision).toEqual({ kind: 'release', missing: [] });
    const facts = factsOf(state, state.messages[3], policy);
    expect(facts).toMatchObject({
      unhelpfulTurns: 0,
      repeatOfAnswered: 0,
      trajectoryChange: 0,
      shift: false,
    });
  });

  it('given the same history without a handback, when the rules run, then those signals do fire (the filter is what changes it)', async () => {
    const state = stateOf([
      ...failedThenHandedBack().filter((e) => e.payload.case !== 'handedBack'),
    ]);
    // Status is with_human, so the decider stays quiet; the facts still show what the history holds.
    const facts = factsOf(state, state.messages[2], policy);
    expect(facts.unhelpfulTurns).toBe(2);
    expect(facts.shift).toBe(true);
  });

  it('given a conversation handed back, when the customer asks for a person again, then it is handed off again at once', async () => {
    const state = stateOf([
      ...failedThenHandedBack(),
      ...turn({ id: 'm4', text: 'I want to talk to a human again please', minute: 22 }),
    ]);
    // No proposal came within the short wait for it (topicWaitMs).
    const decision = await decide(state, 'm4', policy, true);
    expect(decision.kind === 'handoff' && decision.triggers.map((x) => x.rule)).toEqual([
      'explicit_human_request',
    ]);
  });

  it('given answers that fail again after the handback, when the customer says so twice, then repeated_failure fires on those turns only', async () => {
    const state = stateOf([
      ...failedThenHandedBack(),
      ...turn({
        id: 'm4',
        text: 'How do I export expenses?',
        minute: 22,
        confidence: 0.95,
        valence: 0,
        released: true,
      }),
      ...turn({
        id: 'm5',
        text: "That didn't help.",
        minute: 23,
        confidence: 0.95,
        valence: 0,
        released: true,
      }),
      ...turn({ id: 'm6', text: 'Still not working.', minute: 24, confidence: 0.95, valence: 0 }),
    ]);
    expect(unhelpfulTurns(state, state.messages[4])).toBe(1);
    expect(unhelpfulTurns(state, state.messages[5])).toBe(2);
    const decision = await decide(state, 'm6', policy, false);
    expect(decision.kind === 'handoff' && decision.triggers.map((x) => x.rule)).toContain(
      'repeated_failure',
    );
  });

  it('given the mood falls after the handback, when the trajectory is judged, then it runs from the first message since', async () => {
    const events = [
      ...failedThenHandedBack(),
      ...turn({ id: 'm4', text: 'ok', minute: 22, confidence: 0.95, valence: 0.6, released: true }),
      ...turn({
        id: 'm5',
        text: 'hmm',
        minute: 23,
        confidence: 0.95,
        valence: -0.7,
        released: true,
      }),
      ...turn({ id: 'm6', text: 'awful', minute: 24, confidence: 0.95, valence: -0.9 }),
    ];
    const state = stateOf(events);
    // 0.6, then 0.5*-0.7 + 0.5*0.6 = -0.05 (change -0.65, not yet below the floor), then -0.475.
    expect(trajectorySinceHandback(state, state.messages[4])).toEqual({
      change: -0.65,
      shift: false,
    });
    expect(trajectorySinceHandback(state, state.messages[5])).toEqual({
      change: -1.075,
      shift: true,
    });
    const decision = await decide(state, 'm6', policy, false);
    expect(decision.kind === 'handoff' && decision.triggers.map((x) => x.rule)).toContain(
      'sentiment_shift',
    );
  });
});

describe('the decider while a person has the conversation', () => {
  it('given Ada holds the conversation, when a customer message gets a draft proposal, then nothing is released or handed off', async () => {
    const state = stateOf([
      ...turn({ id: 'm1', text: 'I was charged twice', minute: 0, confidence: 0.2, valence: -0.3 }),
      ...humanStretch('m1', 1),
      ...turn({
        id: 'm2',
        text: 'Where do I see the refund?',
        minute: 5,
        confidence: 0.99,
        valence: 0.2,
        flags: [DRAFT_FOR_AGENT],
      }),
    ]);
    expect(await decide(state, 'm2', policy, false)).toMatchObject({ kind: 'none' });
    // Not even when the join times out.
    expect(await decide(state, 'm2', policy, true)).toMatchObject({ kind: 'none' });
  });

  it('given Ada holds the conversation, when the customer asks for a person, then the decider does not hand off again', async () => {
    const state = stateOf([
      ...turn({ id: 'm1', text: 'I was charged twice', minute: 0, confidence: 0.2, valence: -0.3 }),
      ...humanStretch('m1', 1),
      ...turn({ id: 'm2', text: 'I want to speak to a manager, a real person', minute: 5 }),
    ]);
    expect(await decide(state, 'm2', policy, true)).toMatchObject({ kind: 'none' });
  });

  it('given a message from the human stretch whose draft arrives after the handback, when decided, then its draft is never released', async () => {
    // Given the message came while Ada had it, and the handback landed before its draft and score
    const events = [
      ...turn({ id: 'm1', text: 'I was charged twice', minute: 0, confidence: 0.2, valence: -0.3 }),
      ...humanStretch('m1', 1),
      ev(
        'customerMessageReceived',
        { messageId: 'm2', text: 'Where do I see the refund?', channel: 'web' },
        5,
      ),
      ev('handedBack', { handoffId: 'ho-1', agentId: 'ag-ada', agentName: 'Ada', note: '' }, 6),
      ev(
        'aiReplyProposed',
        {
          messageId: 'm2',
          replyId: 'r-m2',
          text: 'In Billing.',
          confidence: 0.99,
          kind: ReplyKind.ANSWER,
          flags: [DRAFT_FOR_AGENT],
        },
        7,
      ),
      ev('messageScored', { messageId: 'm2', valence: 0.2, label: 'neutral' }, 7),
    ];
    const state = stateOf(events);
    expect(state.status).toBe('ai_handling');

    // When the proposal, or the join's timeout, asks for a decision
    const onProposal = await decide(state, 'm2', policy, false);
    const onTimeout = await decide(state, 'm2', policy, true);

    // Then there is none
    expect(onProposal).toEqual({ kind: 'none', why: 'the proposal is a draft for the agent' });
    expect(onTimeout.kind).toBe('none');
  });

  it('given a message from the human stretch with no proposal yet, when the join times out after the handback, then it is not decided either', async () => {
    const state = stateOf([
      ...turn({ id: 'm1', text: 'I was charged twice', minute: 0, confidence: 0.2, valence: -0.3 }),
      ...humanStretch('m1', 1),
      ev(
        'customerMessageReceived',
        { messageId: 'm2', text: 'Where do I see the refund?', channel: 'web' },
        5,
      ),
      ev('handedBack', { handoffId: 'ho-1', agentId: 'ag-ada', agentName: 'Ada', note: '' }, 6),
    ]);
    expect(lastHandbackAt(state)).toBe(t(6));
    expect(await decide(state, 'm2', policy, true)).toEqual({
      kind: 'none',
      why: 'the message came while a person had the conversation',
    });
  });
});

describe('the briefing of a second handoff', () => {
  it('given a conversation a person handed back, when it is handed off again, then the briefing says who had it, when and their note', async () => {
    const state = stateOf([
      ...failedThenHandedBack(),
      ...turn({ id: 'm4', text: 'I want to talk to a human again please', minute: 22 }),
    ]);
    // No proposal came within the short wait for it (topicWaitMs).
    const decision = await decide(state, 'm4', policy, true);
    if (decision.kind !== 'handoff') throw new Error('expected a handoff');
    const briefing = buildBriefing(state, 'm4', decision, NO_CONTEXT, policy);
    expect(briefing.summary).toContain(
      'Earlier with a person: Ada from 2026-11-21 10:06 to 2026-11-21 10:20, handed back to the AI: "Refunded the duplicate charge on INV-1042."',
    );
  });
});

describe('what-if after a handback', () => {
  it('given a candidate that hands off earlier, when a person handed the conversation back, then the candidate decides again afterwards', async () => {
    const events = [
      ...turn({
        id: 'm1',
        text: 'How do I download invoices?',
        minute: 0,
        confidence: 0.5,
        valence: 0,
        released: true,
      }),
      ...turn({ id: 'm2', text: 'And refunds?', minute: 2, confidence: 0.2, valence: 0 }),
      ...humanStretch('m2', 3, 10),
      ...turn({
        id: 'm3',
        text: 'How do I export expenses?',
        minute: 12,
        confidence: 0.95,
        valence: 0,
        released: true,
      }),
    ];
    // The recorded handoff on m2 (humanStretch starts with it) and the release of m3.
    const report = await whatIf(events, policy);
    const m1 = report.changed.find((p) => p.messageId === 'm1');
    expect(m1).toMatchObject({ recorded: 'release', candidate: 'handoff' });
    // After the handback the candidate is no longer silent: it releases m3 as recorded.
    expect(report.changed.find((p) => p.messageId === 'm3')).toBeUndefined();
    expect(report.candidate.conversationsHandedOff).toBe(1);
  });
});
