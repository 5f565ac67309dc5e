export {
  DEFAULT_OUT_OF_SCOPE_LABEL,
  DEFAULT_TRAIN_OPTIONS,
  IntentClassifier,
  trainClassifier,
  type Example,
  type FeatureWeights,
  type OutOfScopeThreshold,
  type Prediction,
  type RankedLabel,
  type SerializedIntentModel,
  type TrainOptions,
  type TrainingReport,
} from './classifier.js';
export {
  cosineSimilarity,
  l2Normalize,
  universalSentenceEncoder,
  type SentenceEncoder,
} from './encoder.js';
export { expectedCalibrationError } from './calibration.js';
export { normalizeText } from './text.js';
export { stratifiedSplit } from './rng.js';
