import { z } from 'zod';
import type { Label } from './valence.js';

/**
 * The learned emotion heads: linear models over a message's sentence vector
 * and its VADER features, trained on the GoEmotions train split by
 * `npm run train:emotions` (bench/train-emotions.mjs), which writes
 * emotion-model.json beside this file.
 *
 * - frustration: one sigmoid, P(the raters heard anger, annoyance,
 *   disappointment or disapproval);
 * - ekman: a sigmoid per Ekman class (anger, disgust, fear, joy, neutral,
 *   sadness, surprise), each with the threshold that maximised its F1 on dev;
 * - sentiment: a softmax over negative, neutral and positive, with per-class
 *   offsets chosen on dev for balanced recall, that gives the message's label.
 */
export const EKMAN_CLASSES = [
  'anger',
  'disgust',
  'fear',
  'joy',
  'neutral',
  'sadness',
  'surprise',
] as const;
export type EkmanClass = (typeof EKMAN_CLASSES)[number];
export const SENTIMENT_CLASSES = ['negative', 'neutral', 'positive'] as const;
export const VADER_FEATURES = ['valence', 'negative', 'positive', 'neutral'] as const;

const finite = z.number().finite();
const probability = finite.min(0).max(1);
const vectorOf = (n: number) => z.array(finite).length(n);
/** Exactly these names, in this order (what the code reads the weights as). */
const namesOf = (names: readonly string[]) =>
  z
    .array(z.string())
    .refine((given) => given.join() === names.join(), `must be [${names.join(', ')}]`);

function modelSchema(dimensions: number) {
  const width = dimensions + VADER_FEATURES.length;
  const rows = (n: number) => z.array(vectorOf(width)).length(n);
  return z.object({
    format: z.literal(1),
    encoder: z.object({ name: z.string().min(1), dimensions: z.literal(dimensions) }),
    features: z.object({ embedding: z.literal(dimensions), vader: namesOf(VADER_FEATURES) }),
    training: z.record(z.string(), z.unknown()),
    frustration: z.object({
      emotions: z.array(z.string()).min(1),
      weights: vectorOf(width),
      bias: finite,
      threshold: probability,
    }),
    ekman: z.object({
      classes: namesOf(EKMAN_CLASSES),
      weights: rows(EKMAN_CLASSES.length),
      bias: vectorOf(EKMAN_CLASSES.length),
      thresholds: z.array(probability).length(EKMAN_CLASSES.length),
    }),
    sentiment: z.object({
      classes: namesOf(SENTIMENT_CLASSES),
      weights: rows(SENTIMENT_CLASSES.length),
      bias: vectorOf(SENTIMENT_CLASSES.length),
      offsets: vectorOf(SENTIMENT_CLASSES.length),
    }),
    dev: z.record(z.string(), z.unknown()),
  });
}

export type EmotionModel = z.infer<ReturnType<typeof modelSchema>>;

/** A weights file as an emotion model; an error naming the first bad field otherwise. */
export function parseEmotionModel(json: unknown): EmotionModel {
  const dimensions = (json as { encoder?: { dimensions?: unknown } })?.encoder?.dimensions;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1)
    throw new Error('emotion model: encoder.dimensions must be a positive integer');
  const parsed = modelSchema(dimensions).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`emotion model: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Refuses an encoder other than the one the heads were trained on: its
 * vectors would mean nothing to them.
 */
export function assertTrainedOn(model: EmotionModel, encoderName: string): void {
  if (encoderName !== model.encoder.name)
    throw new Error(
      `the emotion model was trained on the sentence encoder ${model.encoder.name}, not ${encoderName}: ` +
        'set ENCODER_MODEL to that model, or retrain with `npm run train:emotions`',
    );
}

/**
 * The heads' input: the sentence vector followed by the VADER features
 * (`vaderFeatures`), the order the model is trained with.
 */
export function emotionFeatures(vector: ArrayLike<number>, vader: readonly number[]): Float64Array {
  if (vader.length !== VADER_FEATURES.length)
    throw new Error(`emotion features: ${VADER_FEATURES.length} VADER features expected`);
  const x = new Float64Array(vector.length + vader.length);
  for (let i = 0; i < vector.length; i++) x[i] = vector[i];
  vader.forEach((v, i) => (x[vector.length + i] = v));
  return x;
}

const dot = (w: readonly number[], x: Float64Array) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += w[i] * x[i];
  return s;
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** What the heads read in one message. */
export interface Emotions {
  /** P(frustrated): anger, annoyance, disappointment or disapproval, 0..1. */
  frustration: number;
  /** P(class) per Ekman class (multi-label: they need not sum to 1). */
  ekman: Record<EkmanClass, number>;
  /** The Ekman classes at or above their thresholds (neutral when none is). */
  ekmanLabels: EkmanClass[];
  /** P(negative), P(neutral), P(positive) (sum 1). */
  sentiment: Record<Label, number>;
  /** The learned label: the class with the highest score after the dev offsets. */
  label: Label;
}

/** What the heads read in a message's features (`emotionFeatures`). */
export function readEmotions(model: EmotionModel, x: Float64Array): Emotions {
  const width = model.encoder.dimensions + VADER_FEATURES.length;
  if (x.length !== width)
    throw new Error(
      `emotion features: ${width} values expected (a ${model.encoder.dimensions}-value sentence vector and ${VADER_FEATURES.length} VADER features), got ${x.length}`,
    );
  const frustration = round(sigmoid(dot(model.frustration.weights, x) + model.frustration.bias));
  const ekman = Object.fromEntries(
    EKMAN_CLASSES.map((c, k) => [
      c,
      round(sigmoid(dot(model.ekman.weights[k], x) + model.ekman.bias[k])),
    ]),
  ) as Record<EkmanClass, number>;
  const above = EKMAN_CLASSES.filter((c, k) => ekman[c] >= model.ekman.thresholds[k]);
  const logits = SENTIMENT_CLASSES.map(
    (_, k) => dot(model.sentiment.weights[k], x) + model.sentiment.bias[k],
  );
  const max = Math.max(...logits);
  const exp = logits.map((z) => Math.exp(z - max));
  const total = exp.reduce((a, b) => a + b, 0);
  const decided = logits.map((z, k) => z + model.sentiment.offsets[k]);
  const label = SENTIMENT_CLASSES[decided.indexOf(Math.max(...decided))];
  return {
    frustration,
    ekman,
    ekmanLabels: above.length ? above : ['neutral'],
    sentiment: {
      negative: round(exp[0] / total),
      neutral: round(exp[1] / total),
      positive: round(exp[2] / total),
    },
    label,
  };
}
