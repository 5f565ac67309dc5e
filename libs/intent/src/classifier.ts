// The intent classifier at prediction time: features (sentence embedding +
// TF-IDF n-grams) → softmax regression → temperature → out-of-scope decision;
// and its exact serialisation. Training is in train.ts.
import { base64ToFloat32, float32ToBase64 } from './codec.js';
import { l2Normalize, type SentenceEncoder } from '@support/encoder';
import { NgramFeaturizer, type SerializedNgramFeaturizer } from './features.js';
import {
  buildFeatureMatrix,
  logitsInto,
  softmaxInPlace,
  type FeatureMatrix,
  type SoftmaxModel,
} from './softmax.js';
import type { TrainingReport } from './train.js';

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

/** Everything a classifier is made of (internal). */
export interface ModelParts {
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
