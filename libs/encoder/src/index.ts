// @support/encoder: an offline sentence encoder (a small embedding model on
// ONNX Runtime), one batched instance per process.
export { CoalescingBatcher } from './batcher.js';
export {
  DEFAULT_MODEL_ID,
  defaultModelsDir,
  encoderName,
  FETCH_COMMAND,
  findModel,
  locateModelFiles,
  ModelFilesMissingError,
  MODELS,
  modelText,
  type EncoderModel,
} from './models.js';
export {
  OnnxSentenceEncoder,
  type EmbedKind,
  type EncoderOptions,
  type SentenceEncoder,
} from './onnx-encoder.js';
export { pool, type Pooling } from './pooling.js';
export { lazySentenceEncoder, sentenceEncoder, vectorOf, type GivenVector } from './shared.js';
export { TextTokenizer, type TokenBatch } from './tokenize.js';
export { cosineSimilarity, l2Normalize } from './vectors.js';
