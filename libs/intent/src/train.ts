// Training: features, softmax regression, temperature and out-of-scope
// threshold fitted on held-out examples, then (optionally) a refit on all.
// Deterministic: the same examples and options always give the same model.
import {
  balancedThreshold,
  minRecallThreshold,
  expectedCalibrationError,
  fitTemperature,
  negativeLogLikelihood,
  rejectRateThreshold,
  thresholdMetrics,
  type ThresholdCase,
  type ThresholdMetrics,
} from './calibration.js';
import { IntentClassifier, type Example } from './classifier.js';
import { l2Normalize, type SentenceEncoder } from '@support/encoder';
import { NgramFeaturizer, type NgramOptions } from './features.js';
import { stratifiedSplit } from './rng.js';
import {
  buildFeatureMatrix,
  logitsInto,
  softmaxInPlace,
  trainSoftmax,
  type SoftmaxModel,
} from './softmax.js';

/** Relative weights of the feature blocks (each block is L2-normalised first); 0 disables one. */
export interface FeatureWeights {
  /** The sentence embedding (used only when an encoder is given). */
  sentence?: number;
  /** Word n-grams (TF-IDF). */
  words?: number;
  /** Character n-grams within word boundaries (TF-IDF). */
  chars?: number;
}

/** How the threshold on the calibrated top in-scope probability is chosen. */
export type OutOfScopeThreshold =
  /**
   * Maximise held-out in-scope accuracy + recallWeight × out-of-scope recall
   * (default weight 0.3: a point of in-scope accuracy is worth about three of
   * out-of-scope recall).
   */
  | { rule: 'balanced'; recallWeight?: number }
  /** The lowest threshold that catches this share of the held-out out-of-scope examples. */
  | { rule: 'min-recall'; recall: number }
  /** Flag this share of the held-out in-scope examples (needs no out-of-scope examples). */
  | { rule: 'reject-rate'; rate: number }
  | { rule: 'fixed'; value: number };

export interface TrainOptions {
  /** Sentence encoder; without one the model uses n-grams only. */
  encoder?: SentenceEncoder;
  /**
   * Precomputed embeddings from `encoder` (which must then be given too), aligned
   * with `examples` and `heldOut`; lets a caller cache them.
   */
  embeddings?: { examples: readonly Float32Array[]; heldOut?: readonly Float32Array[] };
  /** Label of the explicit out-of-scope class, in training and held-out data. Default 'out_of_scope'. */
  outOfScopeLabel?: string;
  /** Held-out examples for calibration; default: a seeded stratified split of the examples. */
  heldOut?: Example[];
  /** Share split off for calibration when `heldOut` is not given. Default 0.15. */
  heldOutFraction?: number;
  /**
   * Retrain on training + held-out examples once the temperature and threshold
   * are fitted. Default: true when the held-out set was split off, false when given.
   */
  refit?: boolean;
  /** Fit the temperature and threshold at all (default true); false trains once on everything. */
  calibrate?: boolean;
  seed?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Decoupled L2 weight decay (AdamW λ). */
  l2?: number;
  features?: FeatureWeights;
  wordNgrams?: [number, number];
  charNgrams?: [number, number];
  minDocumentFrequency?: number;
  maxWordFeatures?: number;
  maxCharFeatures?: number;
  /** Count out-of-vocabulary n-grams in the n-gram blocks' norms (default true). */
  unknownInNorm?: boolean;
  /**
   * A text none of whose words occurs in the training vocabulary (gibberish,
   * keyboard mashing, an untrained language, an empty message) is out of scope
   * with score 1, whatever the sentence encoder makes of it. Needs the word
   * block with single words. Default true.
   */
  unknownTextIsOutOfScope?: boolean;
  /**
   * Default: 'balanced' when the held-out set has out-of-scope examples, else a
   * 2% in-scope reject rate.
   */
  outOfScopeThreshold?: OutOfScopeThreshold;
}

export const DEFAULT_OUT_OF_SCOPE_LABEL = 'out_of_scope';

/**
 * Defaults, chosen on the CLINC150 validation split and a held-out part of the
 * Banking77 training split (never on their test splits; see bench/eval-intents.mjs).
 */
export const DEFAULT_TRAIN_OPTIONS = {
  heldOutFraction: 0.15,
  seed: 1,
  epochs: 12,
  batchSize: 32,
  learningRate: 0.01,
  l2: 0.001,
  features: { sentence: 1, words: 0.6, chars: 0.6 },
  wordNgrams: [1, 2] as [number, number],
  charNgrams: [3, 4] as [number, number],
  minDocumentFrequency: 2,
  maxWordFeatures: 20000,
  maxCharFeatures: 40000,
  unknownInNorm: true,
  unknownTextIsOutOfScope: true,
  outOfScopeRecallWeight: 0.3,
  defaultRejectRate: 0.02,
} as const;

export interface TrainingReport {
  /** Examples the final model was trained on. */
  examples: number;
  labels: number;
  encoder: string | null;
  /** Columns per feature block. */
  features: { sentence: number; words: number; chars: number };
  heldOut: { source: 'given' | 'split' | 'none'; examples: number; refit: boolean };
  settings: {
    seed: number;
    epochs: number;
    batchSize: number;
    learningRate: number;
    l2: number;
    weights: { sentence: number; words: number; chars: number };
    wordNgrams: [number, number];
    charNgrams: [number, number];
    minDocumentFrequency: number;
    maxWordFeatures: number;
    maxCharFeatures: number;
    unknownInNorm: boolean;
    unknownTextIsOutOfScope: boolean;
  };
  /** Mean training cross-entropy per epoch of the final model. */
  epochLoss: number[];
  temperature: number;
  /** On the held-out examples with a trained label, before and after temperature scaling. */
  calibration: {
    nllBefore: number;
    nllAfter: number;
    eceBefore: number;
    eceAfter: number;
  } | null;
  /** Top-1 accuracy on in-scope held-out examples, threshold ignored. */
  heldOutAccuracy: number | null;
  outOfScope: {
    label: string;
    /** Whether the label is a trained class. */
    trainedClass: boolean;
    rule: string;
    threshold: number;
    /** Held-out figures at the threshold (of the model before any refit). */
    inScopeAccuracy: number | null;
    recall: number | null;
    precision: number | null;
  };
  timings: { embeddingMs: number; trainingMs: number };
}

const finiteOrNull = (x: number | undefined): number | null =>
  x !== undefined && Number.isFinite(x) ? x : null;

interface Resolved {
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  l2: number;
  weights: { sentence: number; words: number; chars: number };
  ngram: NgramOptions;
  unknownTextIsOutOfScope: boolean;
}

function resolve(options: TrainOptions): Resolved {
  const d = DEFAULT_TRAIN_OPTIONS;
  const weights = {
    sentence: options.features?.sentence ?? d.features.sentence,
    words: options.features?.words ?? d.features.words,
    chars: options.features?.chars ?? d.features.chars,
  };
  for (const [k, v] of Object.entries(weights)) {
    if (!(v >= 0)) throw new RangeError(`feature weight ${k} must be ≥ 0`);
  }
  const t = options.outOfScopeThreshold;
  if (t?.rule === 'fixed' && !(t.value >= 0 && t.value <= 1)) {
    throw new RangeError('a fixed out-of-scope threshold must be in [0, 1]');
  }
  if (t?.rule === 'min-recall' && !(t.recall >= 0 && t.recall <= 1)) {
    throw new RangeError('the out-of-scope recall to reach must be in [0, 1]');
  }
  if (t?.rule === 'reject-rate' && !(t.rate >= 0 && t.rate < 1)) {
    throw new RangeError('the in-scope reject rate must be in [0, 1)');
  }
  const range = (r: [number, number] | undefined, def: readonly [number, number]) => {
    const [a, b] = r ?? def;
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 1 && b >= a)) {
      throw new RangeError(`bad n-gram range [${a}, ${b}]`);
    }
    return [a, b] as [number, number];
  };
  return {
    seed: options.seed ?? d.seed,
    epochs: options.epochs ?? d.epochs,
    batchSize: options.batchSize ?? d.batchSize,
    learningRate: options.learningRate ?? d.learningRate,
    l2: options.l2 ?? d.l2,
    weights,
    unknownTextIsOutOfScope: options.unknownTextIsOutOfScope ?? d.unknownTextIsOutOfScope,
    ngram: {
      wordWeight: weights.words,
      charWeight: weights.chars,
      wordNgramRange: range(options.wordNgrams, d.wordNgrams),
      charNgramRange: range(options.charNgrams, d.charNgrams),
      minDocumentFrequency: options.minDocumentFrequency ?? d.minDocumentFrequency,
      maxWordFeatures: options.maxWordFeatures ?? d.maxWordFeatures,
      maxCharFeatures: options.maxCharFeatures ?? d.maxCharFeatures,
      unknownInNorm: options.unknownInNorm ?? d.unknownInNorm,
    },
  };
}

interface Fitted {
  featurizer: NgramFeaturizer;
  softmax: SoftmaxModel;
  epochLoss: number[];
}

function fit(
  texts: readonly string[],
  embeddings: readonly Float32Array[] | null,
  denseDim: number,
  y: Int32Array,
  classes: number,
  o: Resolved,
): Fitted {
  const featurizer = NgramFeaturizer.fit(texts, o.ngram);
  const x = buildFeatureMatrix(
    embeddings,
    denseDim,
    o.weights.sentence,
    texts.map((t) => featurizer.transform(t)),
    featurizer.dimension,
  );
  if (x.denseDim + x.sparseDim === 0) throw new Error('no features: enable a feature block');
  const { model, epochLoss } = trainSoftmax(x, y, classes, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    l2: o.l2,
    seed: o.seed,
  });
  return { featurizer, softmax: model, epochLoss };
}

function logitsOf(
  fitted: Fitted,
  texts: readonly string[],
  embeddings: readonly Float32Array[] | null,
  denseDim: number,
  sentenceWeight: number,
): { logits: Float64Array; knownWords: Int32Array } {
  const sparse = texts.map((t) => fitted.featurizer.transform(t));
  const x = buildFeatureMatrix(
    embeddings,
    denseDim,
    sentenceWeight,
    sparse,
    fitted.featurizer.dimension,
  );
  const K = fitted.softmax.classes;
  const out = new Float64Array(texts.length * K);
  const z = new Float64Array(K);
  for (let i = 0; i < texts.length; i++) {
    logitsInto(fitted.softmax, x, i, z);
    out.set(z, i * K);
  }
  return { logits: out, knownWords: Int32Array.from(sparse, (r) => r.knownWords) };
}

interface Calibrated {
  temperature: number;
  threshold: number;
  rule: string;
  calibration: TrainingReport['calibration'];
  heldOutAccuracy: number | null;
  metrics: ThresholdMetrics | null;
}

/**
 * Fits the temperature on the held-out examples of trained labels, measures the
 * calibration error before and after, and chooses the out-of-scope threshold on
 * the calibrated probabilities of all held-out examples.
 */
function calibrateOnHeldOut(
  logits: Float64Array,
  knownWords: Int32Array,
  held: readonly Example[],
  labels: readonly string[],
  oosLabel: string,
  o: Resolved,
  options: TrainOptions,
): Calibrated {
  const K = labels.length;
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const oosIndex = labelIndex.get(oosLabel) ?? -1;
  const row = (i: number, z: Float64Array, T: number) => {
    z.set(logits.subarray(i * K, (i + 1) * K));
    softmaxInPlace(z, T);
    return z;
  };
  const argmax = (z: Float64Array) => {
    let top = 0;
    for (let k = 1; k < K; k++) if (z[k] > z[top]) top = k;
    return top;
  };

  // Temperature and calibration error: on held-out examples of trained labels.
  const known = held.flatMap((e, i) => (labelIndex.has(e.label) ? [i] : []));
  const knownLogits = new Float64Array(known.length * K);
  known.forEach((i, r) => knownLogits.set(logits.subarray(i * K, (i + 1) * K), r * K));
  const knownY = Int32Array.from(known, (i) => labelIndex.get(held[i].label)!);
  const temperature = fitTemperature(knownLogits, knownY, K);
  const ece = (T: number) => {
    const z = new Float64Array(K);
    const conf: number[] = [];
    const right: boolean[] = [];
    known.forEach((i, r) => {
      const top = argmax(row(i, z, T));
      conf.push(z[top]);
      right.push(top === knownY[r]);
    });
    return expectedCalibrationError(conf, right);
  };
  const calibration =
    known.length > 0
      ? {
          nllBefore: negativeLogLikelihood(knownLogits, knownY, K, 1),
          nllAfter: negativeLogLikelihood(knownLogits, knownY, K, temperature),
          eceBefore: ece(1),
          eceAfter: ece(temperature),
        }
      : null;

  // The out-of-scope threshold, on calibrated probabilities.
  const z = new Float64Array(K);
  let inScope = 0;
  let inScopeTop = 0;
  const cases: ThresholdCase[] = held.map((e, i) => {
    row(i, z, temperature);
    const top = argmax(z);
    let topIn = -1;
    for (let k = 0; k < K; k++) {
      if (k !== oosIndex && (topIn < 0 || z[k] > z[topIn])) topIn = k;
    }
    const goldOutOfScope = e.label === oosLabel;
    const topCorrect = labels[top] === e.label;
    if (!goldOutOfScope) {
      inScope++;
      if (topCorrect) inScopeTop++;
    }
    return {
      topInScope: z[topIn],
      // A text with no known word is flagged whatever its probabilities.
      topIsOutOfScope: top === oosIndex || (o.unknownTextIsOutOfScope && knownWords[i] === 0),
      goldOutOfScope,
      topCorrect,
    };
  });
  const hasOos = cases.some((c) => c.goldOutOfScope);
  const chosen: OutOfScopeThreshold =
    options.outOfScopeThreshold ??
    (hasOos
      ? { rule: 'balanced' }
      : { rule: 'reject-rate', rate: DEFAULT_TRAIN_OPTIONS.defaultRejectRate });
  let threshold: number;
  let rule: string;
  if (chosen.rule === 'balanced') {
    const w = chosen.recallWeight ?? DEFAULT_TRAIN_OPTIONS.outOfScopeRecallWeight;
    threshold = balancedThreshold(cases, w);
    rule = hasOos
      ? `balanced: max in-scope accuracy + ${w} × out-of-scope recall on held-out`
      : 'balanced, but no out-of-scope held-out examples: no threshold';
  } else if (chosen.rule === 'min-recall') {
    threshold = minRecallThreshold(cases, chosen.recall);
    rule = `min-recall: the lowest threshold catching ${(chosen.recall * 100).toFixed(0)}% of out-of-scope held-out`;
  } else if (chosen.rule === 'reject-rate') {
    threshold = rejectRateThreshold(cases, chosen.rate);
    rule = `reject-rate: flags ${(chosen.rate * 100).toFixed(1)}% of in-scope held-out`;
  } else {
    threshold = chosen.value;
    rule = 'fixed';
  }
  return {
    temperature,
    threshold,
    rule,
    calibration,
    heldOutAccuracy: inScope ? inScopeTop / inScope : null,
    metrics: thresholdMetrics(cases, threshold),
  };
}

const elapsed = (start: number) => Math.round(performance.now() - start);

/** Trains, calibrates and returns a classifier. Deterministic for given examples and options. */
export async function trainClassifier(
  examples: Example[],
  options: TrainOptions = {},
): Promise<IntentClassifier> {
  const o = resolve(options);
  const oosLabel = options.outOfScopeLabel ?? DEFAULT_OUT_OF_SCOPE_LABEL;
  for (const e of [...examples, ...(options.heldOut ?? [])]) {
    if (typeof e?.text !== 'string' || typeof e.label !== 'string' || e.label === '') {
      throw new TypeError('every example needs a string text and a non-empty label');
    }
  }
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2 || labels.every((l) => l === oosLabel)) {
    throw new Error('training needs at least two labels, one of them in scope');
  }
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const K = labels.length;
  const oosIndex = labelIndex.get(oosLabel) ?? -1;

  const encoder = o.weights.sentence > 0 ? options.encoder : undefined;
  const denseDim = encoder ? encoder.dimensions : 0;
  if (options.embeddings && !options.encoder) {
    throw new Error('precomputed embeddings need the encoder that made them');
  }

  // Which examples train the calibration model, and which calibrate it.
  const calibrate = options.calibrate ?? true;
  let trainIdx = examples.map((_, i) => i);
  let held: Example[] = [];
  let heldEmbeddingsGiven: readonly Float32Array[] | undefined;
  let source: 'given' | 'split' | 'none' = 'none';
  let splitIdx: number[] = [];
  if (calibrate && options.heldOut && options.heldOut.length > 0) {
    held = options.heldOut;
    heldEmbeddingsGiven = options.embeddings?.heldOut;
    source = 'given';
  } else if (calibrate) {
    const split = stratifiedSplit(
      examples.map((e) => e.label),
      options.heldOutFraction ?? DEFAULT_TRAIN_OPTIONS.heldOutFraction,
      o.seed,
    );
    if (split.heldOut.length > 0) {
      trainIdx = split.train;
      splitIdx = split.heldOut;
      held = splitIdx.map((i) => examples[i]);
      source = 'split';
    }
  }
  for (const e of held) {
    if (!labelIndex.has(e.label) && e.label !== oosLabel) {
      throw new Error(`held-out label "${e.label}" has no training examples`);
    }
  }
  const refit = source !== 'none' && (options.refit ?? source === 'split');

  // Embeddings, once for everything.
  const embedStart = performance.now();
  let exampleEmb: readonly Float32Array[] | null = null;
  let heldEmb: readonly Float32Array[] | null = null;
  if (encoder) {
    if (options.embeddings) {
      exampleEmb = options.embeddings.examples;
      if (exampleEmb.length !== examples.length)
        throw new Error('one embedding per example needed');
      if (source === 'given') {
        if (!heldEmbeddingsGiven || heldEmbeddingsGiven.length !== held.length) {
          throw new Error('one embedding per held-out example needed');
        }
        heldEmb = heldEmbeddingsGiven;
      }
    } else {
      const all = await encoder.embed([
        ...examples.map((e) => e.text),
        ...(source === 'given' ? held.map((e) => e.text) : []),
      ]);
      exampleEmb = all.slice(0, examples.length);
      if (source === 'given') heldEmb = all.slice(examples.length);
    }
    const check = (v: Float32Array) => {
      if (v.length !== denseDim) throw new Error(`embedding of ${v.length} ≠ ${denseDim} dims`);
      return l2Normalize(v);
    };
    exampleEmb = exampleEmb.map(check);
    heldEmb = heldEmb ? heldEmb.map(check) : null;
    if (source === 'split') heldEmb = splitIdx.map((i) => exampleEmb![i]);
  }
  const embeddingMs = elapsed(embedStart);

  const trainStart = performance.now();
  const pick = <T>(list: readonly T[] | null, idx: number[]) =>
    list ? idx.map((i) => list[i]) : null;
  const yOf = (list: readonly Example[]) => Int32Array.from(list, (e) => labelIndex.get(e.label)!);
  const trainExamples = trainIdx.map((i) => examples[i]);
  let fitted = fit(
    trainExamples.map((e) => e.text),
    pick(exampleEmb, trainIdx),
    denseDim,
    yOf(trainExamples),
    K,
    o,
  );

  let cal: Calibrated = {
    temperature: 1,
    threshold: 0,
    rule: 'none (no held-out examples)',
    calibration: null,
    heldOutAccuracy: null,
    metrics: null,
  };
  if (held.length > 0) {
    const { logits, knownWords } = logitsOf(
      fitted,
      held.map((e) => e.text),
      heldEmb,
      denseDim,
      o.weights.sentence,
    );
    cal = calibrateOnHeldOut(logits, knownWords, held, labels, oosLabel, o, options);
  } else if (options.outOfScopeThreshold?.rule === 'fixed') {
    cal = { ...cal, threshold: options.outOfScopeThreshold.value, rule: 'fixed' };
  }
  const { temperature, threshold } = cal;

  // Retrain on everything, keeping the fitted temperature and threshold.
  let finalCount = trainExamples.length;
  if (refit) {
    const keep = held.flatMap((e, i) => (labelIndex.has(e.label) ? [i] : []));
    const all = [...trainExamples, ...keep.map((i) => held[i])];
    const allEmb = exampleEmb
      ? [...trainIdx.map((i) => exampleEmb[i]), ...keep.map((i) => heldEmb![i])]
      : null;
    fitted = fit(
      all.map((e) => e.text),
      allEmb,
      denseDim,
      yOf(all),
      K,
      o,
    );
    finalCount = all.length;
  }
  const trainingMs = elapsed(trainStart);

  const report: TrainingReport = {
    examples: finalCount,
    labels: K,
    encoder: encoder ? encoder.name : null,
    features: {
      sentence: denseDim,
      words: fitted.featurizer.wordFeatures,
      chars: fitted.featurizer.charFeatures,
    },
    heldOut: { source, examples: held.length, refit },
    settings: {
      seed: o.seed,
      epochs: o.epochs,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      l2: o.l2,
      weights: { ...o.weights },
      wordNgrams: [...o.ngram.wordNgramRange],
      charNgrams: [...o.ngram.charNgramRange],
      minDocumentFrequency: o.ngram.minDocumentFrequency,
      maxWordFeatures: o.ngram.maxWordFeatures,
      maxCharFeatures: o.ngram.maxCharFeatures,
      unknownInNorm: o.ngram.unknownInNorm,
      unknownTextIsOutOfScope: o.unknownTextIsOutOfScope,
    },
    epochLoss: fitted.epochLoss,
    temperature,
    calibration: cal.calibration,
    heldOutAccuracy: cal.heldOutAccuracy,
    outOfScope: {
      label: oosLabel,
      trainedClass: oosIndex >= 0,
      rule: cal.rule,
      threshold,
      inScopeAccuracy: finiteOrNull(cal.metrics?.inScopeAccuracy),
      recall: finiteOrNull(cal.metrics?.outOfScopeRecall),
      precision: finiteOrNull(cal.metrics?.outOfScopePrecision),
    },
    timings: { embeddingMs, trainingMs },
  };
  return IntentClassifier.create(
    {
      labels,
      outOfScopeLabel: oosLabel,
      encoderInfo: encoder ? { name: encoder.name, dimensions: encoder.dimensions } : null,
      sentenceWeight: o.weights.sentence,
      featurizer: fitted.featurizer,
      softmax: fitted.softmax,
      temperature,
      threshold,
      unknownTextIsOutOfScope: o.unknownTextIsOutOfScope,
      report,
    },
    encoder,
  );
}
