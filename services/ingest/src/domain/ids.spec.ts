import { Resolution } from '@support/contracts';
import { initialState } from '@support/conversation';
import {
  conversationIdFor,
  messageIdFor,
  resolutionFor,
  streamToken,
  verifyStreamToken,
} from './ids';

describe('ingest ids', () => {
  it('maps a channel conversation to one stable conversation id', () => {
    expect(conversationIdFor('web', 'abc')).toBe(conversationIdFor('web', 'abc'));
    expect(conversationIdFor('web', 'abc')).not.toBe(conversationIdFor('email', 'abc'));
    expect(conversationIdFor('web', 'a\u0000bc')).not.toBe(conversationIdFor('web\u0000a', 'bc'));
  });

  it('gives a repeated idempotency key the same message id', () => {
    expect(messageIdFor('web', 'k1')).toBe(messageIdFor('web', 'k1'));
    expect(messageIdFor('web', 'k1')).not.toBe(messageIdFor('web', 'k2'));
  });

  it('verifies stream tokens for their conversation only', () => {
    const token = streamToken('s'.repeat(32), 'c1');
    expect(verifyStreamToken('s'.repeat(32), 'c1', token)).toBe(true);
    expect(verifyStreamToken('s'.repeat(32), 'c2', token)).toBe(false);
    expect(verifyStreamToken('t'.repeat(32), 'c1', token)).toBe(false);
  });

  it('credits a resolution to a human once a person took part, else to the AI', () => {
    const s = initialState('c');
    expect(resolutionFor({ ...s, status: 'ai_handling' })).toBe(Resolution.AI);
    expect(resolutionFor({ ...s, status: 'with_human', handoff: {} as never })).toBe(
      Resolution.HUMAN,
    );
    expect(resolutionFor({ ...s, status: 'awaiting_human', handoff: {} as never })).toBe(
      Resolution.HUMAN,
    );
    expect(resolutionFor({ ...s, status: 'ai_handling', handoff: {} as never })).toBe(
      Resolution.AI,
    );
  });
});
