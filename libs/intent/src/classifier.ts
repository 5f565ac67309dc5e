// The intent classifier: features (sentence embedding + TF-IDF n-grams), a
// softmax regression, temperature scaling and an out-of-scope decision, all
// fitted deterministically from labelled examples.
import {
  balancedThreshold,
  expectedCalibrationError,
  fitTemperature,
  negativeLogLikelihood,
  rejectRateThreshold,
  thresholdMetrics,
  type ThresholdCase,
} from './calibration.js';
import { base64ToFloat32, float32ToBase64 } from './codec.js';
import { l2Normalize, type SentenceEncoder } from './encoder.js';
import { NgramFeaturizer, type NgramOptions, type SerializedNgramFeaturizer } from './features.js';
import { stratifiedSplit } from './rng.js';
import {
  buildFeatureMatrix,
  logitsInto,
  softmaxInPlace,
  trainSoftmax,
  type FeatureMatrix,
  type SoftmaxModel,
} from './softmax.js';

export interface Example {
  text: string;
  label: string;
}

export interface RankedLabel {
  label: string;
  probability: number;
}

export interface Prediction {
  /** The decided label: the out-of-scope label when `outOfScope`, else the top intent. */
  label: string;
  /**
   * Calibrated probability of the top intent; when `outOfScope`, the
   * out-of-scope score instead.
   */
  probability: number;
  outOfScope: boolean;
  /** 1 − calibrated probability of the top in-scope intent: 0..1, higher = more likely out of scope. */
  outOfScopeScore: number;
  /** The five most probable labels (the out-of-scope class included, if trained), calibrated. */
  ranked: RankedLabel[];
}

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
  /** Maximise held-out in-scope accuracy + recallWeight × out-of-scope recall. */
  | { rule: 'balanced'; recallWeight?: number }
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

/** Defaults, chosen on the CLINC150 and Banking77 training/validation splits (see bench/eval-intents.mjs). */
export const DEFAULT_TRAIN_OPTIONS = {
  heldOutFraction: 0.15,
  seed: 1,
  epochs: 12,
  batchSize: 32,
  learningRate: 0.01,
  l2: 0.001,
  features: { sentence: 1, words: 0.6, chars: 0.6 },
  wordNgrams: [1, 2] as [number, number],
  charNgrams: [3, 5] as [number, number],
  minDocumentFrequency: 2,
  maxWordFeatures: 20000,
  maxCharFeatures: 40000,
  unknownInNorm: true,
  unknownTextIsOutOfScope: true,
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

export interface SerializedIntentModel {
  format: 'support-intent-model';
  version: 1;
  encoder: { name: string; dimensions: number } | null;
  sentenceWeight: number;
  labels: string[];
  outOfScopeLabel: string;
  temperature: number;
  threshold: number;
  unknownTextIsOutOfScope: boolean;
  ngrams: SerializedNgramFeaturizer;
  /** Float32 little-endian, base64: labels × sentence dims, then n-gram columns × labels, then labels biases. */
  weights: string;
  report: TrainingReport;
}

interface ModelParts {
  labels: string[];
  outOfScopeLabel: string;
  encoderInfo: { name: string; dimensions: number } | null;
  sentenceWeight: number;
  featurizer: NgramFeaturizer;
  softmax: SoftmaxModel;
  temperature: number;
  threshold: number;
  unknownTextIsOutOfScope: boolean;
  report: TrainingReport;
}

const RANKED = 5;
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

export class IntentClassifier {
  readonly labels: string[];
  readonly report: TrainingReport;
  readonly outOfScopeLabel: string;
  readonly temperature: number;
  readonly threshold: number;
  private readonly parts: ModelParts;
  private readonly oosIndex: number;

  private constructor(
    parts: ModelParts,
    private readonly encoder: SentenceEncoder | undefined,
  ) {
    this.parts = parts;
    this.labels = parts.labels;
    this.report = parts.report;
    this.outOfScopeLabel = parts.outOfScopeLabel;
    this.temperature = parts.temperature;
    this.threshold = parts.threshold;
    this.oosIndex = parts.labels.indexOf(parts.outOfScopeLabel);
  }

  /** @internal */
  static create(parts: ModelParts, encoder: SentenceEncoder | undefined): IntentClassifier {
    return new IntentClassifier(parts, encoder);
  }

  /** The encoder this model was trained with (name and size), or null for n-grams only. */
  get encoderInfo(): { name: string; dimensions: number } | null {
    return this.parts.encoderInfo;
  }

  async classify(text: string): Promise<Prediction> {
    return (await this.classifyBatch([text]))[0];
  }

  async classifyBatch(texts: string[]): Promise<Prediction[]> {
    if (texts.length === 0) return [];
    if (!this.parts.encoderInfo) return this.classifyEmbedded(texts);
    return this.classifyEmbedded(texts, await this.requireEncoder().embed(texts));
  }

  /**
   * Classifies with embeddings computed beforehand by this model's encoder
   * (e.g. from a cache); they are needed exactly when the model uses an encoder.
   */
  classifyEmbedded(texts: readonly string[], embeddings?: readonly Float32Array[]): Prediction[] {
    const { x, knownWords } = this.features(texts, embeddings);
    const K = this.labels.length;
    const z = new Float64Array(K);
    const out: Prediction[] = [];
    for (let i = 0; i < texts.length; i++) {
      logitsInto(this.parts.softmax, x, i, z);
      softmaxInPlace(z, this.temperature);
      out.push(this.decide(z, this.parts.unknownTextIsOutOfScope && knownWords[i] === 0));
    }
    return out;
  }

  toJSON(): SerializedIntentModel {
    const p = this.parts;
    return {
      format: 'support-intent-model',
      version: 1,
      encoder: p.encoderInfo ? { ...p.encoderInfo } : null,
      sentenceWeight: p.sentenceWeight,
      labels: [...p.labels],
      outOfScopeLabel: p.outOfScopeLabel,
      temperature: p.temperature,
      threshold: p.threshold,
      unknownTextIsOutOfScope: p.unknownTextIsOutOfScope,
      ngrams: p.featurizer.toJSON(),
      weights: float32ToBase64(p.softmax.weights),
      report: structuredClone(p.report),
    };
  }

  /**
   * Restores a model. A model trained with an encoder needs the same encoder
   * (same name and size) for `classify`; a different one is an error.
   */
  static fromJSON(json: SerializedIntentModel, encoder?: SentenceEncoder): IntentClassifier {
    if (json?.format !== 'support-intent-model' || json.version !== 1) {
      throw new Error('not a serialised intent model (format support-intent-model, version 1)');
    }
    const bad = (what: string) => new Error(`serialised intent model: ${what}`);
    const words = json.ngrams?.words;
    const chars = json.ngrams?.chars;
    if (!Array.isArray(json.labels) || !json.labels.every((l) => typeof l === 'string')) {
      throw bad('labels must be strings');
    }
    if (new Set(json.labels).size !== json.labels.length) throw bad('duplicate labels');
    if (!json.labels.some((l) => l !== json.outOfScopeLabel)) throw bad('no in-scope label');
    if (!(json.temperature > 0 && Number.isFinite(json.temperature))) throw bad('bad temperature');
    if (!(json.threshold >= 0 && json.threshold <= 1)) throw bad('bad threshold');
    if (typeof json.unknownTextIsOutOfScope !== 'boolean') throw bad('unknownTextIsOutOfScope');
    if (typeof words?.unknownIdf !== 'number' || typeof chars?.unknownIdf !== 'number') {
      throw bad('n-gram blocks incomplete (saved by an older engine? retrain)');
    }
    if (json.encoder && encoder) {
      if (encoder.name !== json.encoder.name || encoder.dimensions !== json.encoder.dimensions) {
        throw new Error(
          `encoder mismatch: the model was trained with "${json.encoder.name}" ` +
            `(${json.encoder.dimensions} dimensions), not "${encoder.name}" (${encoder.dimensions})`,
        );
      }
    }
    const featurizer = NgramFeaturizer.fromJSON(json.ngrams);
    const denseDim = json.encoder ? json.encoder.dimensions : 0;
    const K = json.labels.length;
    const weights = base64ToFloat32(json.weights, (denseDim + featurizer.dimension + 1) * K);
    return new IntentClassifier(
      {
        labels: [...json.labels],
        outOfScopeLabel: json.outOfScopeLabel,
        encoderInfo: json.encoder ? { ...json.encoder } : null,
        sentenceWeight: json.sentenceWeight,
        featurizer,
        softmax: { classes: K, denseDim, sparseDim: featurizer.dimension, weights },
        temperature: json.temperature,
        threshold: json.threshold,
        unknownTextIsOutOfScope: json.unknownTextIsOutOfScope,
        report: structuredClone(json.report),
      },
      json.encoder ? encoder : undefined,
    );
  }

  private requireEncoder(): SentenceEncoder {
    if (!this.encoder) {
      throw new Error(
        `this model needs the sentence encoder "${this.parts.encoderInfo?.name}": ` +
          'pass it to IntentClassifier.fromJSON, or use classifyEmbedded',
      );
    }
    return this.encoder;
  }

  private features(
    texts: readonly string[],
    embeddings: readonly Float32Array[] | undefined,
  ): { x: FeatureMatrix; knownWords: Int32Array } {
    const info = this.parts.encoderInfo;
    if (info && (!embeddings || embeddings.length !== texts.length)) {
      throw new Error('one embedding per text is needed: the model uses a sentence encoder');
    }
    const dense = info ? embeddings!.map((e) => l2Normalize(e)) : null;
    const sparse = texts.map((t) => this.parts.featurizer.transform(t));
    const x = buildFeatureMatrix(
      dense,
      info ? info.dimensions : 0,
      this.parts.sentenceWeight,
      sparse,
      this.parts.featurizer.dimension,
    );
    return { x, knownWords: Int32Array.from(sparse, (r) => r.knownWords) };
  }

  /** Turns calibrated probabilities into a prediction. */
  private decide(probs: Float64Array, unknownText: boolean): Prediction {
    const K = probs.length;
    let top = 0;
    let topIn = -1;
    for (let k = 0; k < K; k++) {
      if (probs[k] > probs[top]) top = k;
      if (k !== this.oosIndex && (topIn < 0 || probs[k] > probs[topIn])) topIn = k;
    }
    const topInProb = topIn >= 0 ? probs[topIn] : 0;
    const outOfScope = unknownText || top === this.oosIndex || topInProb < this.threshold;
    const outOfScopeScore = unknownText ? 1 : Math.min(1, Math.max(0, 1 - topInProb));
    const order: number[] = [];
    const taken = new Uint8Array(K);
    for (let r = 0; r < Math.min(RANKED, K); r++) {
      let best = -1;
      for (let k = 0; k < K; k++) if (!taken[k] && (best < 0 || probs[k] > probs[best])) best = k;
      taken[best] = 1;
      order.push(best);
    }
    return {
      label: outOfScope ? this.outOfScopeLabel : this.labels[topIn],
      probability: outOfScope ? outOfScopeScore : topInProb,
      outOfScope,
      outOfScopeScore,
      ranked: order.map((k) => ({ label: this.labels[k], probability: probs[k] })),
    };
  }
}

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

  let temperature = 1;
  let threshold = 0;
  let rule = 'none (no held-out examples)';
  let calibration: TrainingReport['calibration'] = null;
  let heldOutAccuracy: number | null = null;
  let metrics = { inScopeAccuracy: NaN, outOfScopeRecall: NaN, outOfScopePrecision: NaN };
  if (held.length > 0) {
    const { logits, knownWords } = logitsOf(
      fitted,
      held.map((e) => e.text),
      heldEmb,
      denseDim,
      o.weights.sentence,
    );
    // Temperature and calibration error: on held-out examples of trained labels.
    const known = held.flatMap((e, i) => (labelIndex.has(e.label) ? [i] : []));
    const knownLogits = new Float64Array(known.length * K);
    known.forEach((i, r) => knownLogits.set(logits.subarray(i * K, (i + 1) * K), r * K));
    const knownY = Int32Array.from(known, (i) => labelIndex.get(held[i].label)!);
    temperature = fitTemperature(knownLogits, knownY, K);
    const confidence = (T: number) => {
      const conf = new Float64Array(known.length);
      const right: boolean[] = [];
      const z = new Float64Array(K);
      known.forEach((i, r) => {
        z.set(logits.subarray(i * K, (i + 1) * K));
        softmaxInPlace(z, T);
        let top = 0;
        for (let k = 1; k < K; k++) if (z[k] > z[top]) top = k;
        conf[r] = z[top];
        right.push(top === knownY[r]);
      });
      return { conf, right };
    };
    if (known.length > 0) {
      const before = confidence(1);
      const after = confidence(temperature);
      calibration = {
        nllBefore: negativeLogLikelihood(knownLogits, knownY, K, 1),
        nllAfter: negativeLogLikelihood(knownLogits, knownY, K, temperature),
        eceBefore: expectedCalibrationError(before.conf, before.right),
        eceAfter: expectedCalibrationError(after.conf, after.right),
      };
    }

    // The out-of-scope threshold, on calibrated probabilities.
    const z = new Float64Array(K);
    let inScope = 0;
    let inScopeTop = 0;
    const cases: ThresholdCase[] = held.map((e, i) => {
      z.set(logits.subarray(i * K, (i + 1) * K));
      softmaxInPlace(z, temperature);
      let top = 0;
      let topIn = -1;
      for (let k = 0; k < K; k++) {
        if (z[k] > z[top]) top = k;
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
    heldOutAccuracy = inScope ? inScopeTop / inScope : null;
    const hasOos = cases.some((c) => c.goldOutOfScope);
    const chosen: OutOfScopeThreshold =
      options.outOfScopeThreshold ??
      (hasOos
        ? { rule: 'balanced' }
        : { rule: 'reject-rate', rate: DEFAULT_TRAIN_OPTIONS.defaultRejectRate });
    if (chosen.rule === 'balanced') {
      const w = chosen.recallWeight ?? 1;
      threshold = balancedThreshold(cases, w);
      rule = hasOos
        ? `balanced: max in-scope accuracy + ${w} × out-of-scope recall on held-out`
        : 'balanced, but no out-of-scope held-out examples: no threshold';
    } else if (chosen.rule === 'reject-rate') {
      threshold = rejectRateThreshold(cases, chosen.rate);
      rule = `reject-rate: flags ${(chosen.rate * 100).toFixed(1)}% of in-scope held-out`;
    } else {
      threshold = chosen.value;
      rule = 'fixed';
    }
    metrics = thresholdMetrics(cases, threshold);
  } else if (options.outOfScopeThreshold?.rule === 'fixed') {
    threshold = options.outOfScopeThreshold.value;
    rule = 'fixed';
  }

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
    calibration,
    heldOutAccuracy,
    outOfScope: {
      label: oosLabel,
      trainedClass: oosIndex >= 0,
      rule,
      threshold,
      inScopeAccuracy: finiteOrNull(metrics.inScopeAccuracy),
      recall: finiteOrNull(metrics.outOfScopeRecall),
      precision: finiteOrNull(metrics.outOfScopePrecision),
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
