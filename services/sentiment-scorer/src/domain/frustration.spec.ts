import { frustrationScore, SIGNAL_WEIGHTS } from './frustration';
import type { Signal } from './signals';

describe('frustrationScore', () => {
  it('given no signals, then it is the learned probability', () => {
    expect(frustrationScore(0.37, [])).toBe(0.37);
    expect(frustrationScore(0.37, ['sentiment_shift'])).toBe(0.37);
  });

  it('given signals, then each moves the score towards 1 by its weight (noisy-OR)', () => {
    expect(frustrationScore(0.5, ['still_failing'])).toBe(0.75);
    expect(frustrationScore(0.5, ['still_failing', 'money_lost'])).toBe(0.85);
    expect(frustrationScore(0, ['shouting', 'still_failing'])).toBe(0.75);
    expect(frustrationScore(0.5, ['still_failing', 'still_failing'])).toBe(0.75);
  });

  it('given a calm learned score, then no single signal reaches the decider threshold (0.8) alone', () => {
    for (const signal of Object.keys(SIGNAL_WEIGHTS) as Signal[])
      expect(frustrationScore(0.05, [signal])).toBeLessThan(0.8);
  });

  it('refuses a learned score outside 0..1', () => {
    expect(() => frustrationScore(1.2, [])).toThrow(RangeError);
    expect(() => frustrationScore(NaN, [])).toThrow(/not in 0..1/);
  });
});
