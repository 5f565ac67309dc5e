import { SentimentIntensityAnalyzer } from 'vader-sentiment';
import { signalsOf, type Signal } from './signals.js';

export type Label = 'negative' | 'neutral' | 'positive';

export interface MessageScore {
  /** -1 (very negative) .. +1 (very positive). */
  valence: number;
  label: Label;
  signals: Signal[];
}

/** VADER's customary thresholds on the compound score. */
export const NEUTRAL_BAND = 0.05;

/** Splits text into sentences at ".", "!", "?" or a line break. */
function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s));
}

/**
 * Valence of a message: the VADER compound score of each sentence, averaged,
 * as VADER's authors advise for text longer than a sentence (VADER's negation
 * window otherwise leaks across sentences: "Still not working. Useless!"
 * would score positive as a whole).
 */
export function valenceOf(text: string): number {
  const parts = sentencesOf(text);
  if (parts.length === 0) return 0;
  const sum = parts.reduce(
    (acc, s) => acc + SentimentIntensityAnalyzer.polarity_scores(s).compound,
    0,
  );
  const mean = sum / parts.length;
  return Math.round(Math.max(-1, Math.min(1, mean)) * 10_000) / 10_000;
}

export function labelOf(valence: number): Label {
  if (valence <= -NEUTRAL_BAND) return 'negative';
  if (valence >= NEUTRAL_BAND) return 'positive';
  return 'neutral';
}

/** Scores one customer message: valence, label and support signals. */
export function scoreMessage(text: string): MessageScore {
  const valence = valenceOf(text);
  return { valence, label: labelOf(valence), signals: signalsOf(text) };
}
