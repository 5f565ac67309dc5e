import { readFileSync } from 'node:fs';
import { ReplyKind, type ConversationEvent } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { DEFAULT_POLICY_FILE } from './decide';
import { parsePolicy } from './policy';
import { whatIf } from './whatif';

const shipped = readFileSync(DEFAULT_POLICY_FILE, 'utf8');
const withMinConfidence = (n: number, version: string) =>
  parsePolicy(
    shipped
      .replace('minConfidence: 0.9', `minConfidence: ${n}`)
      .replace(/^version: .*$/m, `version: ${version}`),
  );

let clock = 0;
const at = () => new Date(Date.UTC(2026, 10, 20, 9, 0, clock++)).toISOString();

/** A recorded conversation: each turn a message, the AI's proposal, its score and the recorded decision. */
function conversation(
  id: string,
  turns: { text: string; confidence: number; handedOff: boolean }[],
) {
  const events: ConversationEvent[] = [];
  for (const [i, t] of turns.entries()) {
    const m = `${id}-m${i}`;
    events.push(
      conversationEvent(
        id,
        `${m}-r`,
        'customerMessageReceived',
        {
          messageId: m,
          channel: 'web',
          externalConversationId: id,
          customerId: 'c',
          text: t.text,
          locale: 'en',
        },
        at(),
      ),
      conversationEvent(
        id,
        `${m}-p`,
        'aiReplyProposed',
        {
          messageId: m,
          replyId: `${m}-reply`,
          text: 'an answer',
          confidence: t.confidence,
          intent: 'how_to',
          intentProbability: 0.9,
          kind: ReplyKind.ANSWER,
        },
        at(),
      ),
      conversationEvent(
        id,
        `${m}-s`,
        'messageScored',
        { messageId: m, valence: 0, label: 'neutral' },
        at(),
      ),
      t.handedOff
        ? conversationEvent(
            id,
            `${m}-h`,
            'handoffRequested',
            {
              handoffId: `${m}-handoff`,
              messageId: m,
              triggers: [{ rule: 'low_confidence', value: t.confidence, threshold: 0.9 }],
            },
            at(),
          )
        : conversationEvent(
            id,
            `${m}-a`,
            'aiReplyReleased',
            {
              messageId: m,
              replyId: `${m}-reply`,
              text: 'an answer',
              confidence: t.confidence,
            },
            at(),
          ),
    );
  }
  return events;
}

describe('what-if replay', () => {
  const day = [
    ...conversation('c1', [
      { text: 'How do I export a report?', confidence: 0.7, handedOff: true },
    ]),
    ...conversation('c2', [
      { text: 'How do I add a card?', confidence: 0.95, handedOff: false },
      { text: 'And freeze it?', confidence: 0.6, handedOff: true },
    ]),
    ...conversation('c3', [{ text: 'Where are invoices?', confidence: 0.97, handedOff: false }]),
  ];

  it('given the recorded policy, changes nothing', async () => {
    const report = await whatIf(day, withMinConfidence(0.9, 'same-1'));
    expect(report.decisions).toBe(4);
    expect(report.changed).toEqual([]);
    expect(report.recorded.handoffs).toBe(report.candidate.handoffs);
    expect(report.candidate.rules).toEqual({ low_confidence: 2 });
  });

  it('given a lower threshold, reports the handoffs it saves and the conversations that stay with the AI', async () => {
    const report = await whatIf(day, withMinConfidence(0.65, 'lenient-1'));
    expect(report.candidateVersion).toBe('lenient-1');
    expect(report.recorded).toMatchObject({
      handoffs: 2,
      handoffRate: 0.5,
      conversationsHandedOff: 2,
    });
    expect(report.candidate).toMatchObject({ handoffs: 1, conversationsHandedOff: 1 });
    expect(report.changed).toEqual([
      expect.objectContaining({ messageId: 'c1-m0', recorded: 'handoff', candidate: 'release' }),
    ]);
    expect(report.flipped).toEqual({ toHuman: [], toAi: ['c1'] });
  });

  it('given a stricter threshold, the AI falls silent after the first handoff of a conversation', async () => {
    const report = await whatIf(day, withMinConfidence(0.96, 'strict-1'));
    expect(report.changed.map((c) => [c.messageId, c.recorded, c.candidate])).toEqual([
      ['c2-m0', 'release', 'handoff'],
    ]);
    expect(report.flipped.toHuman).toEqual([]);
    expect(report.candidate.handoffs).toBe(2);
  });

  it('counts only the conversations that started in the window', async () => {
    const report = await whatIf(day, withMinConfidence(0.9, 'same-1'), {
      from: day.find((e) => e.conversationId === 'c2')!.occurredAt,
    });
    expect(report.conversations).toBe(2);
    expect(report.decisions).toBe(3);
  });
});
