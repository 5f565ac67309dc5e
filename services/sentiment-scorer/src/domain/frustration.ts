import type { Signal } from './signals.js';

/**
 * How much each support signal adds to a message's frustration: the events
 * that frustrate customers of a support desk and that no emotion corpus
 * teaches, because they are about what happened, not about how it is worded.
 * Chosen by hand, so that one signal alone stays below the decider's
 * single-message threshold (0.8) and needs the learned score, or a second
 * signal, to pass it; the customer's own words of frustration weigh most.
 * Emotion words ("annoyed", "disappointed") are left to the learned score,
 * which knows them from the corpus; a churn threat is the retention rules'
 * business, not a sign of frustration by itself.
 */
export const SIGNAL_WEIGHTS: Readonly<Partial<Record<Signal, number>>> = {
  // The customer says it: "I am so frustrated", "this is ridiculous", "third time I ask", "fed up".
  frustration: 0.6,
  shouting: 0.5,
  // A fix or an answer the customer tried and the problem is still there.
  still_failing: 0.5,
  // The customer asks again what they asked before.
  repetition: 0.4,
  money_lost: 0.4,
  // Profanity: the learned score already hears most of it.
  profanity: 0.3,
  // Urgent is not yet frustrated, but the stakes make a failure weigh more.
  urgency: 0.2,
};

/**
 * A message's frustration, 0..1: the learned probability and the signals
 * combined as independent evidence (noisy-OR):
 * 1 − (1 − learned) × Π (1 − weight of each signal present).
 * Without signals it is the learned probability; every signal moves it
 * towards 1 by its weight's share of the distance left.
 */
export function frustrationScore(learned: number, signals: readonly Signal[]): number {
  if (!(learned >= 0 && learned <= 1))
    throw new RangeError(`learned frustration ${learned} is not in 0..1`);
  let calm = 1 - learned;
  for (const signal of new Set(signals)) calm *= 1 - (SIGNAL_WEIGHTS[signal] ?? 0);
  return Math.round((1 - calm) * 10_000) / 10_000;
}
