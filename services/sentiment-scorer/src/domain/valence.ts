import { SentimentIntensityAnalyzer } from 'vader-sentiment';

export type Label = 'negative' | 'neutral' | 'positive';

/** VADER's customary thresholds on the compound score. */
export const NEUTRAL_BAND = 0.05;

/** Splits text into sentences at ".", "!", "?" or a line break. */
function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s));
}

/** VADER's normalisation constant: compound = x / sqrt(x² + α) for the summed valences x. */
const ALPHA = 15;

/** The summed valence behind a VADER compound score (the inverse of VADER's normalisation). */
function rawValence(compound: number): number {
  const c = Math.max(-0.9999, Math.min(0.9999, compound));
  return (c * Math.sqrt(ALPHA)) / Math.sqrt(1 - c * c);
}

/**
 * Valence of a message: VADER scores each sentence on its own (its negation
 * window otherwise leaks across sentences: "Still not working. Useless!"
 * scores +0.39 as a whole), and the sentences' summed valences are normalised
 * as VADER normalises one sentence's, so that a long message weighs like the
 * whole text it is (on VADER's tweets: r 0.870 against the raters, where
 * averaging the sentences gave 0.817 and the whole text 0.879).
 */
export function valenceOf(text: string): number {
  const parts = sentencesOf(text);
  if (parts.length === 0) return 0;
  const sum = parts.reduce(
    (acc, s) => acc + rawValence(SentimentIntensityAnalyzer.polarity_scores(s).compound),
    0,
  );
  const compound = sum / Math.sqrt(sum * sum + ALPHA);
  return Math.round(Math.max(-1, Math.min(1, compound)) * 10_000) / 10_000;
}

/** The label of a valence alone, by VADER's ±0.05 band. */
export function labelOf(valence: number): Label {
  if (valence <= -NEUTRAL_BAND) return 'negative';
  if (valence >= NEUTRAL_BAND) return 'positive';
  return 'neutral';
}

/**
 * What the learned heads read of VADER besides the sentence vector: the
 * message's valence (above) and VADER's negative, positive and neutral shares
 * of the whole text's words.
 */
export function vaderFeatures(text: string, valence = valenceOf(text)): number[] {
  const s = SentimentIntensityAnalyzer.polarity_scores(text);
  return [valence, s.neg, s.pos, s.neu];
}
