import { parseEmotionModel, type EmotionModel } from './emotions';

/**
 * A hand-made emotion model over 2-value "sentence vectors" for unit tests:
 * the first dimension means frustrated and negative, the second calm and
 * neutral; VADER's positive share makes it positive. Features: [v0, v1,
 * valence, negative, positive, neutral].
 */
export function testModel(): EmotionModel {
  const zero = () => [0, 0, 0, 0, 0, 0];
  const ekman = Array.from({ length: 7 }, zero);
  ekman[0] = [4, 0, 0, 0, 0, 0]; // anger
  ekman[4] = [0, 4, 0, 0, 0, 0]; // neutral
  return parseEmotionModel({
    format: 1,
    encoder: { name: 'test-encoder@1', dimensions: 2 },
    features: { embedding: 2, vader: ['valence', 'negative', 'positive', 'neutral'] },
    training: {},
    frustration: {
      emotions: ['anger', 'annoyance', 'disappointment', 'disapproval'],
      weights: [4, 0, 0, 0, 0, 0],
      bias: -2,
      threshold: 0.5,
    },
    ekman: {
      classes: ['anger', 'disgust', 'fear', 'joy', 'neutral', 'sadness', 'surprise'],
      weights: ekman,
      bias: [-2, -3, -3, -3, -2, -3, -3],
      thresholds: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    },
    sentiment: {
      classes: ['negative', 'neutral', 'positive'],
      weights: [
        [3, 0, 0, 0, 0, 0],
        [0, 3, 0, 0, 0, 0],
        [0, 0, 0, 0, 6, 0],
      ],
      bias: [0, 0, 0],
      offsets: [0, 0, 0],
    },
    dev: {},
  });
}

/** Sentence vectors of the test model: frustrated, calm. */
export const ANGRY = [1, 0];
export const CALM = [0, 1];
