// Multinomial logistic (softmax) regression over a dense block (the sentence
// embedding) and a sparse block (TF-IDF n-grams), trained by mini-batch Adam
// with decoupled L2 weight decay (AdamW) and a linearly decaying learning rate.
//
// Sparse columns are handled sparsely: a mini-batch only computes gradients for,
// and updates the moments of, the columns its examples touch ("lazy" Adam). The
// weight decay of the steps that did not touch a column is applied when the
// column is next read (and once more at the end), from the cumulative product of
// the per-step decay factors, so every column decays exactly as if updated densely.
//
// Weight layout (one flat array): the dense block class-major (K rows of
// denseDim, so a score is a contiguous dot product), then the sparse block
// feature-major (each n-gram's K class weights together, so an n-gram touches
// one contiguous run), then the K biases.
import { seededRandom, shuffleInPlace } from './rng.js';

/** Rows of features: an optional dense block and a CSR sparse block. */
export interface FeatureMatrix {
  rows: number;
  denseDim: number;
  /** rows × denseDim, row-major; null when denseDim is 0. */
  dense: Float32Array | null;
  sparseDim: number;
  rowPtr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export interface SoftmaxOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Decoupled weight decay per unit of learning rate (AdamW's λ); the bias is not decayed. */
  l2: number;
  seed: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface SoftmaxModel {
  classes: number;
  denseDim: number;
  sparseDim: number;
  /**
   * classes × denseDim (class-major), then sparseDim × classes (feature-major),
   * then the classes biases.
   */
  weights: Float32Array;
}

export interface SoftmaxTrainingResult {
  model: SoftmaxModel;
  /** Mean cross-entropy of each epoch, measured on the fly before each update. */
  epochLoss: number[];
}

export function buildFeatureMatrix(
  dense: readonly Float32Array[] | null,
  denseDim: number,
  denseWeight: number,
  sparse: readonly { indices: Int32Array; values: Float32Array }[],
  sparseDim: number,
): FeatureMatrix {
  const rows = sparse.length;
  if (dense && dense.length !== rows) throw new Error('dense and sparse row counts differ');
  let nnz = 0;
  for (const r of sparse) nnz += r.indices.length;
  const rowPtr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let p = 0;
  for (let i = 0; i < rows; i++) {
    indices.set(sparse[i].indices, p);
    values.set(sparse[i].values, p);
    p += sparse[i].indices.length;
    rowPtr[i + 1] = p;
  }
  let denseData: Float32Array | null = null;
  if (denseDim > 0) {
    if (!dense) throw new Error('dense features expected');
    denseData = new Float32Array(rows * denseDim);
    for (let i = 0; i < rows; i++) {
      const v = dense[i];
      if (v.length !== denseDim) throw new Error(`dense row ${i}: expected ${denseDim} values`);
      const o = i * denseDim;
      for (let j = 0; j < denseDim; j++) denseData[o + j] = v[j] * denseWeight;
    }
  }
  return { rows, denseDim, dense: denseData, sparseDim, rowPtr, indices, values };
}

/** Σ a[ao + j] · b[bo + j] for j < n, four accumulators. */
function dot(a: Float32Array | Float64Array, ao: number, b: Float32Array, bo: number, n: number) {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += a[ao + j] * b[bo + j];
    s1 += a[ao + j + 1] * b[bo + j + 1];
    s2 += a[ao + j + 2] * b[bo + j + 2];
    s3 += a[ao + j + 3] * b[bo + j + 3];
  }
  for (; j < n; j++) s0 += a[ao + j] * b[bo + j];
  return s0 + s1 + (s2 + s3);
}

/** Writes the raw scores (logits) of row `row` into `out` (length = classes). */
export function logitsInto(
  model: SoftmaxModel,
  x: FeatureMatrix,
  row: number,
  out: Float64Array,
): void {
  const K = model.classes;
  const W = model.weights;
  const dd = model.denseDim;
  const sparseBase = K * dd;
  const biasBase = K * (dd + model.sparseDim);
  for (let k = 0; k < K; k++) out[k] = W[biasBase + k];
  if (dd > 0) {
    const X = x.dense!;
    const xo = row * dd;
    for (let k = 0; k < K; k++) out[k] += dot(W, k * dd, X, xo, dd);
  }
  for (let p = x.rowPtr[row], end = x.rowPtr[row + 1]; p < end; p++) {
    const v = x.values[p];
    const off = sparseBase + x.indices[p] * K;
    for (let k = 0; k < K; k++) out[k] += W[off + k] * v;
  }
}

/** In-place softmax of z[from, from + length). */
function softmaxRange(z: Float64Array, from: number, length: number): void {
  const end = from + length;
  let max = -Infinity;
  for (let k = from; k < end; k++) if (z[k] > max) max = z[k];
  let sum = 0;
  for (let k = from; k < end; k++) {
    z[k] = Math.exp(z[k] - max);
    sum += z[k];
  }
  for (let k = from; k < end; k++) z[k] /= sum;
}

/**
 * Adds the dense part of the scores of the batch's rows into Z (row b at b·K):
 * four rows at a time, so that each weight loaded serves four products.
 */
function denseForward(
  W: Float64Array,
  X: Float32Array,
  rows: Int32Array,
  dd: number,
  K: number,
  Z: Float64Array,
): void {
  const bs = rows.length;
  let b = 0;
  for (; b + 3 < bs; b += 4) {
    const x0 = rows[b] * dd;
    const x1 = rows[b + 1] * dd;
    const x2 = rows[b + 2] * dd;
    const x3 = rows[b + 3] * dd;
    const z0 = b * K;
    for (let k = 0; k < K; k++) {
      const wo = k * dd;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < dd; j++) {
        const w = W[wo + j];
        s0 += w * X[x0 + j];
        s1 += w * X[x1 + j];
        s2 += w * X[x2 + j];
        s3 += w * X[x3 + j];
      }
      Z[z0 + k] += s0;
      Z[z0 + K + k] += s1;
      Z[z0 + 2 * K + k] += s2;
      Z[z0 + 3 * K + k] += s3;
    }
  }
  for (; b < bs; b++) {
    const xo = rows[b] * dd;
    for (let k = 0; k < K; k++) Z[b * K + k] += dot(W, k * dd, X, xo, dd);
  }
}

/** G[k·dd + j] += Σ_b D[b·K + k] · X[row_b, j] over the batch, four rows at a time. */
function denseBackward(
  G: Float64Array,
  X: Float32Array,
  rows: Int32Array,
  dd: number,
  K: number,
  D: Float64Array,
): void {
  const bs = rows.length;
  let b = 0;
  for (; b + 3 < bs; b += 4) {
    const x0 = rows[b] * dd;
    const x1 = rows[b + 1] * dd;
    const x2 = rows[b + 2] * dd;
    const x3 = rows[b + 3] * dd;
    const d0 = b * K;
    for (let k = 0; k < K; k++) {
      const a0 = D[d0 + k];
      const a1 = D[d0 + K + k];
      const a2 = D[d0 + 2 * K + k];
      const a3 = D[d0 + 3 * K + k];
      const go = k * dd;
      for (let j = 0; j < dd; j++) {
        G[go + j] += a0 * X[x0 + j] + a1 * X[x1 + j] + a2 * X[x2 + j] + a3 * X[x3 + j];
      }
    }
  }
  for (; b < bs; b++) {
    const xo = rows[b] * dd;
    for (let k = 0; k < K; k++) {
      const a = D[b * K + k];
      const go = k * dd;
      for (let j = 0; j < dd; j++) G[go + j] += a * X[xo + j];
    }
  }
}

/** In-place softmax of z / temperature. */
export function softmaxInPlace(z: Float64Array, temperature = 1): void {
  const length = z.length;
  let max = -Infinity;
  for (let k = 0; k < length; k++) {
    z[k] /= temperature;
    if (z[k] > max) max = z[k];
  }
  let sum = 0;
  for (let k = 0; k < length; k++) {
    z[k] = Math.exp(z[k] - max);
    sum += z[k];
  }
  for (let k = 0; k < length; k++) z[k] /= sum;
}

export function trainSoftmax(
  x: FeatureMatrix,
  y: Int32Array,
  classes: number,
  options: SoftmaxOptions,
): SoftmaxTrainingResult {
  const n = x.rows;
  const K = classes;
  const dd = x.denseDim;
  const sd = x.sparseDim;
  const sparseBase = K * dd;
  const biasBase = K * (dd + sd);
  const size = biasBase + K;
  if (y.length !== n) throw new Error('labels and rows differ in number');
  if (n === 0) throw new Error('no training rows');
  for (let i = 0; i < n; i++) {
    if (!(y[i] >= 0 && y[i] < K)) throw new RangeError(`label ${y[i]} out of range`);
  }
  const { epochs, learningRate: lr0, l2, seed } = options;
  const batchSize = Math.max(1, Math.min(options.batchSize, n));
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const eps = options.epsilon ?? 1e-8;
  if (!(epochs >= 1) || !(lr0 > 0) || !(l2 >= 0)) throw new RangeError('bad training options');
  if (lr0 * l2 >= 1) throw new RangeError('learningRate × l2 must be below 1');

  const W = new Float64Array(size);
  const M = new Float64Array(size);
  const V = new Float64Array(size);
  const G = new Float64Array(size);
  // Step through which each sparse column's weight decay has been applied.
  const decayedThrough = new Int32Array(sd);
  // Sparse columns touched by the current step's batch.
  const stamp = new Int32Array(sd).fill(-1);
  const touched = new Int32Array(sd);

  const batchesPerEpoch = Math.ceil(n / batchSize);
  const totalSteps = epochs * batchesPerEpoch;
  // Learning rate of step t (1-based) decays linearly to lr0 / totalSteps;
  // logDecay[t] = Σ_{s ≤ t} log(1 − lr_s · l2).
  const stepLr = new Float64Array(totalSteps + 1);
  const logDecay = new Float64Array(totalSteps + 1);
  for (let t = 1; t <= totalSteps; t++) {
    stepLr[t] = lr0 * (1 - (t - 1) / totalSteps);
    logDecay[t] = logDecay[t - 1] + Math.log1p(-stepLr[t] * l2);
  }

  const random = seededRandom(seed);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Scores, then probabilities, then gradients w.r.t. the scores, of one batch.
  const Z = new Float64Array(batchSize * K);
  const X = x.dense ?? new Float32Array(0);
  const { rowPtr, indices, values } = x;
  const epochLoss: number[] = [];
  let t = 0;

  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, random);
    let lossSum = 0;
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const rows = order.subarray(start, end);
      const bs = end - start;
      const scale = 1 / bs;
      t++;
      // The batch's sparse columns, brought up to date with the weight decay of
      // the steps that did not touch them (through t − 1) before they are read.
      let nTouched = 0;
      for (let b = 0; b < bs; b++) {
        const i = rows[b];
        for (let p = rowPtr[i], p1 = rowPtr[i + 1]; p < p1; p++) {
          const col = indices[p];
          if (stamp[col] === t) continue;
          stamp[col] = t;
          touched[nTouched++] = col;
          const last = decayedThrough[col];
          if (last < t - 1) {
            const f = Math.exp(logDecay[t - 1] - logDecay[last]);
            const off = sparseBase + col * K;
            for (let k = 0; k < K; k++) W[off + k] *= f;
          }
        }
      }
      // Forward: bias and sparse part, then the dense part for the whole batch.
      for (let b = 0; b < bs; b++) {
        const i = rows[b];
        const zo = b * K;
        for (let k = 0; k < K; k++) Z[zo + k] = W[biasBase + k];
        for (let p = rowPtr[i], p1 = rowPtr[i + 1]; p < p1; p++) {
          const v = values[p];
          const off = sparseBase + indices[p] * K;
          for (let k = 0; k < K; k++) Z[zo + k] += W[off + k] * v;
        }
      }
      if (dd > 0) denseForward(W, X, rows, dd, K, Z);
      // Loss, and the gradient of the batch's mean cross-entropy w.r.t. the
      // scores: (p − onehot) / batch size.
      for (let b = 0; b < bs; b++) {
        const i = rows[b];
        const zo = b * K;
        softmaxRange(Z, zo, K);
        const target = zo + y[i];
        lossSum -= Math.log(Math.max(Z[target], 1e-300));
        for (let k = zo; k < zo + K; k++) Z[k] *= scale;
        Z[target] -= scale;
        for (let k = 0; k < K; k++) G[biasBase + k] += Z[zo + k];
        for (let p = rowPtr[i], p1 = rowPtr[i + 1]; p < p1; p++) {
          const v = values[p];
          const off = sparseBase + indices[p] * K;
          for (let k = 0; k < K; k++) G[off + k] += Z[zo + k] * v;
        }
      }
      if (dd > 0) denseBackward(G, X, rows, dd, K, Z);
      const step = stepLr[t] / (1 - Math.pow(beta1, t));
      const bc2 = 1 - Math.pow(beta2, t);
      const adam = { W, M, V, G, beta1, beta2, eps, step, bc2 };
      // This step's decay, then Adam: for the dense block (touched every step)
      // and the batch's sparse columns.
      const decay = 1 - stepLr[t] * l2;
      adamRange(adam, 0, sparseBase, decay);
      for (let q = 0; q < nTouched; q++) {
        const col = touched[q];
        const off = sparseBase + col * K;
        adamRange(adam, off, off + K, decay);
        decayedThrough[col] = t;
      }
      adamRange(adam, biasBase, size, 1);
    }
    epochLoss.push(lossSum / n);
  }
  // Bring every sparse column's weight decay up to the last step.
  for (let col = 0; col < sd; col++) {
    const last = decayedThrough[col];
    if (last === t) continue;
    const f = Math.exp(logDecay[t] - logDecay[last]);
    const off = sparseBase + col * K;
    for (let k = 0; k < K; k++) W[off + k] *= f;
  }
  return {
    model: { classes: K, denseDim: dd, sparseDim: sd, weights: Float32Array.from(W) },
    epochLoss,
  };
}

interface AdamState {
  W: Float64Array;
  M: Float64Array;
  V: Float64Array;
  G: Float64Array;
  beta1: number;
  beta2: number;
  eps: number;
  /** Learning rate over the first moment's bias correction. */
  step: number;
  /** The second moment's bias correction. */
  bc2: number;
}

/**
 * Weights [from, to): multiplied by the weight-decay factor `decay`, then one
 * Adam step from the accumulated gradient, which is cleared.
 */
function adamRange(a: AdamState, from: number, to: number, decay: number): void {
  const { W, M, V, G, beta1, beta2, eps, step, bc2 } = a;
  for (let i = from; i < to; i++) {
    const g = G[i];
    G[i] = 0;
    const m = beta1 * M[i] + (1 - beta1) * g;
    const v = beta2 * V[i] + (1 - beta2) * g * g;
    M[i] = m;
    V[i] = v;
    W[i] = W[i] * decay - (step * m) / (Math.sqrt(v / bc2) + eps);
  }
}
