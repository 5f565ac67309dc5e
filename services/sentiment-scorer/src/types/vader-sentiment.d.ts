/** The vader-sentiment package (a JavaScript port of VADER) ships no types. */
declare module 'vader-sentiment' {
  export interface PolarityScores {
    neg: number;
    neu: number;
    pos: number;
    /** Normalised sum of the valences, -1 (most negative) .. +1 (most positive). */
    compound: number;
  }
  export const SentimentIntensityAnalyzer: {
    polarity_scores(text: string): PolarityScores;
  };
}
