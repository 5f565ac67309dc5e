// Training the classifier layer: the intent library's softmax regression with
// two classes over the sentence vectors of the corpus. The temperature and
// the threshold are fitted on held-out predictions: the corpus is cut into k
// folds (stratified), and each fold is scored by a model trained on the
// others, so every example is held out once. The shipped model is then
// trained on the whole corpus. Deterministic for the same vectors and options.
import { buildFeatureMatrix, fitTemperature, trainSoftmax } from '@support/intent';

export interface TrainingOptions {
  /** Folds of the held-out scoring (each example is held out once). */
  folds: number;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Decoupled weight decay (AdamW's λ). */
  l2: number;
  /**
   * The detector's goals: the threshold is the one that comes closest to both
   * on the held-out predictions of the layers (see `chooseThreshold`).
   */
  goals: { recall: number; precision: number };
  /**
   * A share of requests among real messages, for the report only: precision
   * if that share of messages were requests and the corpus's near-misses
   * stood for all the others (they are far harder than most messages, so
   * this is a floor).
   */
  reportPrior: number;
}

export const DEFAULT_TRAINING_OPTIONS: TrainingOptions = {
  folds: 5,
  seed: 1,
  epochs: 60,
  batchSize: 32,
  learningRate: 0.01,
  l2: 0.001,
  goals: { recall: 0.97, precision: 0.98 },
  reportPrior: 0.05,
};

export interface HeldOutFigures {
  requests: number;
  notRequests: number;
  recall: number;
  falsePositiveRate: number;
  /** Precision on the held-out predictions as they are (the corpus's share of requests). */
  precision: number;
  /** Precision if `reportPrior` of the messages were requests. */
  precisionAtPrior: number;
  /** The examples on the wrong side of the threshold, for the report. */
  missed: string[];
  falsePositives: string[];
}

/** The model as model.json holds it. */
export interface TrainedModelFile {
  note: string;
  encoder: string;
  dimensions: number;
  corpus: { sha256: string; requests: number; notRequests: number };
  settings: TrainingOptions;
  /** At the threshold: the classifier alone, and the layers together (the lexicon first). */
  heldOut: {
    classifier: HeldOutFigures;
    layered: HeldOutFigures;
    /** The layers' held-out recall and precision at other thresholds. */
    curve: { threshold: number; recall: number; precision: number }[];
  };
  temperature: number;
  threshold: number;
  bias: number;
  weights: number[];
}

export interface TrainingInput {
  /**
   * What the classifier reads of each example (`classifierInput`), whether it
   * is a request, whether the lexicon already recognises it, and whether the
   * classifier is asked about it at all (`classifierAsked`).
   */
  examples: readonly { input: string; request: boolean; lexicon: boolean; asked: boolean }[];
  /** One unit vector per example, from `encoder`. */
  embeddings: readonly Float32Array[];
  encoder: { name: string; dimensions: number };
  corpusSha256: string;
}

interface Logistic {
  weights: Float64Array;
  bias: number;
}

/** Logistic weights (request minus not-request) of a two-class softmax model over `dims` inputs. */
function fitLogistic(
  vectors: readonly Float32Array[],
  labels: readonly boolean[],
  dims: number,
  o: TrainingOptions,
): Logistic {
  const empty = { indices: new Int32Array(0), values: new Float32Array(0) };
  const x = buildFeatureMatrix(
    vectors,
    dims,
    1,
    vectors.map(() => empty),
    0,
  );
  const y = Int32Array.from(labels, (l) => (l ? 1 : 0));
  const { model } = trainSoftmax(x, y, 2, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    l2: o.l2,
    seed: o.seed,
  });
  const w = model.weights;
  const weights = new Float64Array(dims);
  for (let j = 0; j < dims; j++) weights[j] = w[dims + j] - w[j];
  return { weights, bias: w[2 * dims + 1] - w[2 * dims] };
}

const logit = (m: Logistic, v: Float32Array) => {
  let z = m.bias;
  for (let j = 0; j < v.length; j++) z += m.weights[j] * v[j];
  return z;
};

/** FNV-1a of a string with a seed: an order of the examples that does not depend on the files'. */
function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The fold of each example: within each class, round robin in a seeded order. */
export function stratifiedFolds(
  items: readonly { input: string; request: boolean }[],
  folds: number,
  seed: number,
): number[] {
  if (!(Number.isInteger(folds) && folds >= 2)) throw new RangeError('folds must be 2 or more');
  const fold = new Array<number>(items.length).fill(0);
  for (const cls of [true, false]) {
    const members = items.flatMap((e, i) => (e.request === cls ? [i] : []));
    members
      .map((i) => ({ i, h: hash(items[i].input, seed) }))
      .sort((a, b) => a.h - b.h || a.i - b.i)
      .forEach(({ i }, rank) => (fold[i] = rank % folds));
  }
  return fold;
}

/** Recall, false-positive rate and precisions at `threshold`. */
function figuresAt(
  scored: readonly { p: number; request: boolean; input: string }[],
  threshold: number,
  prior: number,
): HeldOutFigures {
  const positives = scored.filter((s) => s.request);
  const negatives = scored.filter((s) => !s.request);
  const tp = positives.filter((s) => s.p >= threshold).length;
  const fp = negatives.filter((s) => s.p >= threshold).length;
  const recall = positives.length ? tp / positives.length : 0;
  const fpr = negatives.length ? fp / negatives.length : 0;
  const atPrior = recall * prior + fpr * (1 - prior);
  return {
    requests: positives.length,
    notRequests: negatives.length,
    recall,
    falsePositiveRate: fpr,
    precision: tp + fp ? tp / (tp + fp) : 1,
    precisionAtPrior: atPrior ? (recall * prior) / atPrior : 1,
    missed: positives.filter((s) => s.p < threshold).map((s) => s.input),
    falsePositives: negatives.filter((s) => s.p >= threshold).map((s) => s.input),
  };
}

/**
 * The threshold that comes closest to both goals on the held-out predictions:
 * the most of min(recall / recall goal, precision / precision goal), so that
 * neither is bought with the other (F1 at the corpus's share of requests,
 * about half, would favour recall far more than traffic where requests are
 * few allows). Placed halfway between the lowest probability it accepts and
 * the next one below (a margin on both sides).
 */
export function chooseThreshold(
  scored: readonly { p: number; request: boolean }[],
  goals: { recall: number; precision: number },
): number {
  const sorted = [...scored].sort((a, b) => b.p - a.p);
  const positives = sorted.filter((s) => s.request).length;
  let best = { attained: -1, index: 0 };
  let tp = 0;
  sorted.forEach((s, i) => {
    if (s.request) tp++;
    // Only where the next probability differs: a threshold accepts all of a tie.
    if (i + 1 < sorted.length && sorted[i + 1].p === s.p) return;
    const attained = Math.min(tp / positives / goals.recall, tp / (i + 1) / goals.precision);
    if (attained > best.attained) best = { attained, index: i };
  });
  const accepted = sorted[best.index].p;
  const below = sorted[best.index + 1]?.p;
  return below === undefined ? accepted : (accepted + below) / 2;
}

const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;

/** Where the report's trade-off curve is measured. */
const CURVE_AT = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98];

/** Each example's logit from the model trained without its fold. */
function outOfFoldLogits(input: TrainingInput, labels: boolean[], o: TrainingOptions): number[] {
  const { examples, embeddings, encoder } = input;
  const fold = stratifiedFolds(examples, o.folds, o.seed);
  const logits = new Array<number>(examples.length).fill(0);
  for (let k = 0; k < o.folds; k++) {
    const train = examples.flatMap((_, i) => (fold[i] === k ? [] : [i]));
    const model = fitLogistic(
      train.map((i) => embeddings[i]),
      train.map((i) => labels[i]),
      encoder.dimensions,
      o,
    );
    examples.forEach((_, i) => {
      if (fold[i] === k) logits[i] = logit(model, embeddings[i]);
    });
  }
  return logits;
}

/** Trains, calibrates and returns the model file. */
export function trainHumanRequestModel(
  input: TrainingInput,
  options: Partial<TrainingOptions> = {},
): TrainedModelFile {
  const o = { ...DEFAULT_TRAINING_OPTIONS, ...options };
  const { examples, embeddings, encoder } = input;
  if (embeddings.length !== examples.length) throw new Error('one embedding per example needed');
  const dims = encoder.dimensions;
  for (const v of embeddings)
    if (v.length !== dims) throw new Error(`an embedding of ${v.length} ≠ ${dims} dimensions`);
  const labels = examples.map((e) => e.request);
  if (!labels.includes(true) || !labels.includes(false))
    throw new Error('the corpus needs requests and non-requests');

  const logits = outOfFoldLogits(input, labels, o);
  // fitTemperature reads two-class softmax logits: [0, z] has the same softmax as [−z/2, z/2].
  const pairs = new Float64Array(logits.length * 2);
  logits.forEach((z, i) => (pairs[2 * i + 1] = z));
  const temperature = fitTemperature(
    pairs,
    Int32Array.from(labels, (l) => (l ? 1 : 0)),
    2,
  );
  const scored = examples.map((e, i) => ({
    p: 1 / (1 + Math.exp(-logits[i] / temperature)),
    request: e.request,
    input: e.input,
  }));
  // The classifier answers only for what the lexicon does not recognise and it is asked about:
  // the threshold is the layers' best, with what the lexicon recognises counted as found.
  const layered = scored.map((s, i) =>
    examples[i].lexicon ? { ...s, p: 1 } : examples[i].asked ? s : { ...s, p: 0 },
  );
  const threshold = round(chooseThreshold(layered, o.goals), 4);

  const final = fitLogistic(embeddings, labels, dims, o);
  return {
    note: 'Trained by `npm run train:human-request` (services/escalation-decider/src/human-request-train-main.ts) from services/escalation-decider/corpus/human-request; do not edit by hand.',
    encoder: encoder.name,
    dimensions: dims,
    corpus: {
      sha256: input.corpusSha256,
      requests: labels.filter(Boolean).length,
      notRequests: labels.filter((l) => !l).length,
    },
    settings: o,
    heldOut: {
      classifier: figuresAt(scored, threshold, o.reportPrior),
      layered: figuresAt(layered, threshold, o.reportPrior),
      curve: CURVE_AT.map((t) => {
        const f = figuresAt(layered, t, o.reportPrior);
        return { threshold: t, recall: round(f.recall, 4), precision: round(f.precision, 4) };
      }),
    },
    temperature: round(temperature, 4),
    threshold,
    bias: round(final.bias, 6),
    weights: Array.from(final.weights, (w) => round(w, 6)),
  };
}
