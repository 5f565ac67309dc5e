import { ReplyKind, Resolution, type ConversationEvent } from '@support/contracts';
import { conversationEvent, type PayloadInitOf } from '@support/conversation';

/** For the projections' tests: the conversation the generated logs are of. */
export const C = 'conv-1';

/** A small deterministic random source, so that a failing log can be generated again. */
export function random(seed: number): () => number {
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
export function generatedLog(seed: number, messages: number): ConversationEvent[] {
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
        ev('conversationResolved', {
          resolvedBy: agent.agentId,
          resolution: Resolution.HUMAN,
          note: rnd() < 0.5 ? `resolved ${i}` : '',
        });
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
      topic: rnd() < 0.7 ? ['billing', 'account', 'export'][i % 3] : '',
      intent: `intent-${i % 4}`,
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
