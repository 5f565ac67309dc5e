import type { Evidence } from './answer.js';
import model from './confidence-model.json';

/**
 * The evidence the logistic model weighs. Grounding is not among them: the
 * extractive answerer quotes its source (grounding 1 on every labelled
 * question), so it multiplies the result instead, and a generated answer that
 * its passages support only in part loses confidence in proportion.
 */
export const FEATURES = [
  'retrieval',
  'margin',
  'coverage',
  'classifier',
  'outOfScope',
  'similarity',
  'agreement',
] as const satisfies readonly (keyof Evidence)[];

/** A logistic model over the evidence, fitted on labelled questions (see src/eval/calibrate.ts). */
export interface ConfidenceModel {
  bias: number;
  weights: number[];
  /** The lowest confidence at which fewer than 5% of released answers were wrong when fitted. */
  threshold: number;
}

export const confidenceModel: ConfidenceModel = {
  bias: model.bias,
  weights: model.weights,
  threshold: model.threshold,
};

export function featureVector(e: Evidence): number[] {
  return FEATURES.map((f) => e[f]);
}

/** P(the answer is right | evidence) under the model, times the answer's grounding; 3 places. */
export function confidenceOf(e: Evidence, m: ConfidenceModel = confidenceModel): number {
  const x = featureVector(e);
  let z = m.bias;
  for (let i = 0; i < x.length; i++) z += (m.weights[i] ?? 0) * x[i];
  const p = (1 / (1 + Math.exp(-z))) * e.grounding;
  return Math.round(p * 1000) / 1000;
}
