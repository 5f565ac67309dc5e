import { ReplyKind, type ConversationEvent } from '@support/contracts';
import { conversationEvent, fold, type PayloadInitOf } from '@support/conversation';
import { decide, factsOf, loadDefaultPolicy } from './decide';
import { frustrationTrend } from './frustration';
import { whatIf } from './whatif';

const policy = loadDefaultPolicy();
const C = 'conv-f';
const t = (minute: number) => new Date(Date.UTC(2026, 10, 21, 10, minute)).toISOString();
let n = 0;
const ev = <K extends Parameters<typeof conversationEvent>[2]>(
  kind: K,
  value: PayloadInitOf<K>,
  minute: number,
) => conversationEvent(C, `e-${kind}-${n++}`, kind, value, t(minute));

interface Turn {
  id: string;
  minute: number;
  valence?: number;
  signals?: string[];
  /** The scorer's frustration score; undefined: a score from before it existed. */
  frustration?: number;
  /** The scorer's smoothed frustration through this message. */
  smoothed?: number;
  released?: boolean;
}

/** A customer message, a confident AI answer, its score and, when `released`, the release. */
function turn(x: Turn): ConversationEvent[] {
  const valence = x.valence ?? -0.3;
  const events = [
    ev('customerMessageReceived', { messageId: x.id, text: `message ${x.id}` }, x.minute),
    ev(
      'aiReplyProposed',
      {
        messageId: x.id,
        replyId: `r-${x.id}`,
        text: 'Open Settings, then Billing.',
        confidence: 0.95,
        intent: 'billing',
        intentProbability: 0.9,
        kind: ReplyKind.ANSWER,
      },
      x.minute,
    ),
    ev(
      'messageScored',
      {
        messageId: x.id,
        valence,
        label: valence < 0 ? 'negative' : 'neutral',
        signals: x.signals ?? [],
        ...(x.frustration === undefined ? {} : { frustration: x.frustration }),
        trajectory: {
          smoothed: valence,
          start: valence,
          messages: 1,
          ...(x.smoothed === undefined ? {} : { frustration: x.smoothed }),
        },
      },
      x.minute,
    ),
  ];
  if (x.released)
    events.push(
      ev(
        'aiReplyReleased',
        { messageId: x.id, replyId: `r-${x.id}`, text: 'Open Settings.' },
        x.minute,
      ),
    );
  return events;
}

const rulesOf = async (events: ConversationEvent[], messageId: string) => {
  const d = await decide(fold(C, events), messageId, policy, false);
  return d.kind === 'handoff' ? d.triggers.map((tr) => tr.rule) : d.kind;
};

describe('the frustration rule of the shipped policy', () => {
  it('given one message frustrated enough on its own, when decided, then it hands off with high priority', async () => {
    const events = turn({ id: 'm1', minute: 1, frustration: 0.86, smoothed: 0.43 });
    expect(await rulesOf(events, 'm1')).toEqual(['frustration']);
    const fired = await policy.evaluate(
      factsOf(fold(C, events), fold(C, events).messages[0], policy),
    );
    expect(fired.map((f) => [f.rule, f.value, f.threshold])).toEqual([['frustration', 0.86, 0.8]]);
  });

  it('given a merely negative message (very negative valence, wording signal, low frustration score), when decided, then the AI answers', async () => {
    const events = turn({
      id: 'm1',
      minute: 1,
      valence: -0.9,
      signals: ['frustration'],
      frustration: 0.62,
      smoothed: 0.31,
    });
    expect(await rulesOf(events, 'm1')).toBe('release');
  });

  it('given frustration that lasts over turns, when the smoothed score reaches its threshold, then the third message hands off', async () => {
    // Given three messages at 0.7, none enough alone, smoothed from a calm start: 0.35, 0.525
    const events = [
      ...turn({ id: 'm1', minute: 1, frustration: 0.7, smoothed: 0.35, released: true }),
      ...turn({ id: 'm2', minute: 2, frustration: 0.7, smoothed: 0.45, released: true }),
      ...turn({ id: 'm3', minute: 3, frustration: 0.7, smoothed: 0.575 }),
    ];
    expect(await rulesOf(events.slice(0, 3), 'm1')).toBe('release');
    const state = fold(C, events);
    expect(factsOf(state, state.messages[2], policy)).toMatchObject({
      hasFrustration: true,
      frustration: 0.7,
      frustrationTrend: 0.575,
    });
    expect(await rulesOf(events, 'm3')).toEqual(['frustration']);
  });

  it('given a score from before the frustration score, when decided, then the former rule (valence and a signal) still applies', async () => {
    const old = turn({ id: 'm1', minute: 1, valence: -0.7, signals: ['shouting'] });
    expect(await rulesOf(old, 'm1')).toEqual(['frustration']);
    const state = fold(C, old);
    expect(factsOf(state, state.messages[0], policy)).toMatchObject({
      hasFrustration: false,
      frustration: 0,
      frustrationTrend: 0,
    });
    const calm = turn({ id: 'm1', minute: 1, valence: -0.3, signals: ['shouting'] });
    expect(await rulesOf(calm, 'm1')).toBe('release');
  });

  it('given old events without the field, when replayed under the shipped policy, then the what-if keeps their decisions', async () => {
    const recorded = [
      ...turn({ id: 'm1', minute: 1, valence: 0.2, released: true }),
      ...turn({ id: 'm2', minute: 2, valence: -0.8, signals: ['frustration'] }),
      ev('handoffRequested', { handoffId: 'ho-1', messageId: 'm2' }, 2),
    ];
    const report = await whatIf(recorded, policy, {});
    expect(report.decisions).toBe(2);
    expect(report.changed).toEqual([]);
    expect(report.candidate.rules).toEqual({ frustration: 1 });
  });
});

describe('frustrationTrend', () => {
  it('is the scorer smoothed score, or half the message score when the trajectory lacks it', () => {
    const withTrajectory = fold(C, turn({ id: 'm1', minute: 1, frustration: 0.6, smoothed: 0.3 }));
    expect(frustrationTrend(withTrajectory, withTrajectory.messages[0])).toBe(0.3);
    const without = fold(C, turn({ id: 'm1', minute: 1, frustration: 0.6 }));
    expect(frustrationTrend(without, without.messages[0])).toBe(0.3);
  });

  it('after a handback, runs from a calm start over the messages since', () => {
    const events = [
      ...turn({ id: 'm1', minute: 1, frustration: 0.9, smoothed: 0.45 }),
      ev('handoffRequested', { handoffId: 'ho-1', messageId: 'm1' }, 2),
      ev('agentAssigned', { handoffId: 'ho-1', agentId: 'ag', agentName: 'Ada', team: 'T' }, 3),
      ev('handedBack', { handoffId: 'ho-1', agentId: 'ag', agentName: 'Ada', note: '' }, 4),
      ...turn({ id: 'm2', minute: 5, frustration: 0.4, smoothed: 0.4, released: true }),
      ...turn({ id: 'm3', minute: 6, frustration: 0.6, smoothed: 0.5 }),
    ];
    const state = fold(C, events);
    // The scorer's 0.5 counts the 0.9 from before the handback; since it: 0.2, then 0.4.
    expect(frustrationTrend(state, state.messages[2])).toBe(0.4);
    expect(frustrationTrend(state, state.messages[1])).toBe(0.2);
  });
});
