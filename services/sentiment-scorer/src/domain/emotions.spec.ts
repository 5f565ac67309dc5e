import { EMOTION_MODEL } from './emotion-model';
import { assertTrainedOn, emotionFeatures, parseEmotionModel, readEmotions } from './emotions';
import { ANGRY, CALM, testModel } from './test-model';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('the emotion heads', () => {
  const model = testModel();

  it('given a frustrated vector, when read, then frustration and anger are high and the label negative', () => {
    const e = readEmotions(model, emotionFeatures(ANGRY, [-0.6, 0.4, 0, 0.6]));
    expect(e.frustration).toBeCloseTo(sigmoid(2), 4);
    expect(e.ekman.anger).toBeCloseTo(sigmoid(2), 4);
    expect(e.ekman.neutral).toBeCloseTo(sigmoid(-2), 4);
    expect(e.ekmanLabels).toEqual(['anger']);
    expect(e.label).toBe('negative');
    const { negative, neutral, positive } = e.sentiment;
    expect(negative + neutral + positive).toBeCloseTo(1, 3);
    expect(negative).toBeGreaterThan(neutral);
  });

  it('given a calm vector, when read, then frustration is low and the label neutral', () => {
    const e = readEmotions(model, emotionFeatures(CALM, [0, 0, 0, 1]));
    expect(e.frustration).toBeCloseTo(sigmoid(-2), 4);
    expect(e.ekmanLabels).toEqual(['neutral']);
    expect(e.label).toBe('neutral');
  });

  it('given no class above its threshold, then the Ekman label is neutral', () => {
    const e = readEmotions(model, emotionFeatures([0, 0], [0, 0, 0, 1]));
    expect(e.ekmanLabels).toEqual(['neutral']);
  });

  it('decides the label after the dev offsets, not on the raw probabilities', () => {
    const shifted = testModel();
    shifted.sentiment.offsets = [0, 0, 3.5];
    const x = emotionFeatures(CALM, [0, 0, 0, 1]);
    expect(readEmotions(model, x).label).toBe('neutral');
    expect(readEmotions(shifted, x).label).toBe('positive');
    // The probabilities stay the model's own.
    expect(readEmotions(shifted, x).sentiment).toEqual(readEmotions(model, x).sentiment);
  });

  it('refuses features of the wrong width, naming the sizes', () => {
    expect(() => readEmotions(model, emotionFeatures([1, 0, 0], [0, 0, 0, 1]))).toThrow(
      /6 values expected \(a 2-value sentence vector and 4 VADER features\), got 7/,
    );
    expect(() => emotionFeatures(ANGRY, [0, 0])).toThrow(/4 VADER features expected/);
  });
});

describe('parseEmotionModel', () => {
  type Json = {
    frustration: { weights: number[] };
    ekman: { classes: string[] };
    sentiment: { bias: unknown[] };
  };
  const json = () => JSON.parse(JSON.stringify(testModel())) as Json;

  it('names the first bad field of a weights file', () => {
    const short = json();
    short.frustration.weights.pop();
    expect(() => parseEmotionModel(short)).toThrow(/emotion model: frustration\.weights/);
    const reordered = json();
    reordered.ekman.classes.reverse();
    expect(() => parseEmotionModel(reordered)).toThrow(
      /emotion model: ekman\.classes: must be \[anger, disgust/,
    );
    const notANumber = json();
    notANumber.sentiment.bias[1] = 'x';
    expect(() => parseEmotionModel(notANumber)).toThrow(/emotion model: sentiment\.bias\.1/);
    expect(() => parseEmotionModel({})).toThrow(/encoder\.dimensions must be a positive integer/);
  });

  it('refuses vectors of an encoder the model was not trained on, saying what to do', () => {
    expect(() => assertTrainedOn(testModel(), 'test-encoder@1')).not.toThrow();
    expect(() => assertTrainedOn(testModel(), 'bge-small-en-v15-q@1.10.0-beta18')).toThrow(
      /trained on the sentence encoder test-encoder@1, not bge-small.*npm run train:emotions/,
    );
  });

  it('reads the shipped model: the MiniLM encoder, trained on the GoEmotions train split', () => {
    expect(EMOTION_MODEL.encoder).toEqual({
      name: 'all-minilm-l6-v2-q@1.19.0-beta29',
      dimensions: 384,
    });
    expect(EMOTION_MODEL.frustration.emotions).toEqual([
      'anger',
      'annoyance',
      'disappointment',
      'disapproval',
    ]);
    expect(String(EMOTION_MODEL.training.data)).toMatch(/GoEmotions train split/);
  });
});
