// @support/intent: an offline intent classifier — sentence-encoder and n-gram
// features, a calibrated softmax regression, out-of-scope detection.
export {
  IntentClassifier,
  type Example,
  type Prediction,
  type RankedLabel,
  type SerializedIntentModel,
} from './classifier.js';
export {
  DEFAULT_OUT_OF_SCOPE_LABEL,
  DEFAULT_TRAIN_OPTIONS,
  trainClassifier,
  type FeatureWeights,
  type OutOfScopeThreshold,
  type TrainOptions,
  type TrainingReport,
} from './train.js';
export { cosineSimilarity, l2Normalize, type SentenceEncoder } from '@support/encoder';
export { expectedCalibrationError, fitTemperature } from './calibration.js';
// The regression alone, for small classifiers over given feature vectors (e.g. a binary one on embeddings).
export {
  buildFeatureMatrix,
  trainSoftmax,
  type FeatureMatrix,
  type SoftmaxModel,
  type SoftmaxOptions,
} from './softmax.js';
export { normalizeText } from './text.js';
export { stratifiedSplit } from './rng.js';
