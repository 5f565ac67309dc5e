import { parseEmotionModel } from './emotions.js';
import weights from './emotion-model.json';

/**
 * The shipped emotion heads, learned from the GoEmotions train split by
 * `npm run train:emotions` (bench/train-emotions.mjs); the file records the
 * sentence encoder and the training settings.
 */
export const EMOTION_MODEL = parseEmotionModel(weights);
