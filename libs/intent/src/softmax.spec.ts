import { seededRandom, shuffleInPlace, stratifiedSplit } from './rng.js';
import {
  buildFeatureMatrix,
  logitsInto,
  softmaxInPlace,
  trainSoftmax,
  type FeatureMatrix,
  type SoftmaxOptions,
} from './softmax.js';

/** Random problem: a dense block plus sparse columns of very different frequencies. */
function problem(rows: number, denseDim: number, sparseDim: number, classes: number, seed: number) {
  const random = seededRandom(seed);
  const dense: Float32Array[] = [];
  const sparse: { indices: Int32Array; values: Float32Array }[] = [];
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    y[i] = i % classes;
    dense.push(
      Float32Array.from({ length: denseDim }, (_, j) => random() - 0.5 + (j === y[i] ? 1 : 0)),
    );
    const cols = new Set<number>();
    // Column c is present with probability 1/(c+1): some in every batch, some rarely.
    for (let c = 0; c < sparseDim; c++)
      if (random() < 1 / (c + 1) || (c % classes === y[i] && random() < 0.3)) cols.add(c);
    const indices = Int32Array.from(cols);
    sparse.push({ indices, values: Float32Array.from(indices, () => random()) });
  }
  return { x: buildFeatureMatrix(dense, denseDim, 0.7, sparse, sparseDim), y };
}

/**
 * Reference implementation, written for clarity: plain per-example loops with
 * the natural (feature-major everywhere) layout, and the weight decay applied
 * to every column at every step instead of lazily.
 */
function referenceTrain(x: FeatureMatrix, y: Int32Array, K: number, o: SoftmaxOptions) {
  const D = x.denseDim + x.sparseDim + 1;
  const W = new Float64Array(D * K);
  const M = new Float64Array(D * K);
  const V = new Float64Array(D * K);
  const n = x.rows;
  const random = seededRandom(o.seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const total = o.epochs * Math.ceil(n / o.batchSize);
  const row = (i: number) => {
    const cols: number[] = [];
    const vals: number[] = [];
    for (let j = 0; j < x.denseDim; j++) {
      cols.push(j);
      vals.push(x.dense![i * x.denseDim + j]);
    }
    for (let p = x.rowPtr[i]; p < x.rowPtr[i + 1]; p++) {
      cols.push(x.denseDim + x.indices[p]);
      vals.push(x.values[p]);
    }
    cols.push(D - 1);
    vals.push(1);
    return { cols, vals };
  };
  let t = 0;
  for (let e = 0; e < o.epochs; e++) {
    shuffleInPlace(order, random);
    for (let s = 0; s < n; s += o.batchSize) {
      t++;
      const lr = o.learningRate * (1 - (t - 1) / total);
      const batch = Array.from(order.subarray(s, Math.min(n, s + o.batchSize)));
      const G = new Float64Array(D * K);
      const touched = new Set<number>();
      for (const i of batch) {
        const { cols, vals } = row(i);
        const z = new Float64Array(K);
        cols.forEach((c, q) => {
          for (let k = 0; k < K; k++) z[k] += W[c * K + k] * vals[q];
        });
        softmaxInPlace(z);
        z[y[i]] -= 1;
        cols.forEach((c, q) => {
          touched.add(c);
          for (let k = 0; k < K; k++) G[c * K + k] += (z[k] * vals[q]) / batch.length;
        });
      }
      for (let c = 0; c < D; c++) {
        for (let k = 0; k < K; k++) {
          const i = c * K + k;
          if (c !== D - 1) W[i] *= 1 - lr * o.l2;
          if (!touched.has(c)) continue;
          M[i] = 0.9 * M[i] + 0.1 * G[i];
          V[i] = 0.999 * V[i] + 0.001 * G[i] * G[i];
          W[i] -= ((lr / (1 - 0.9 ** t)) * M[i]) / (Math.sqrt(V[i] / (1 - 0.999 ** t)) + 1e-8);
        }
      }
    }
  }
  return W;
}

describe('trainSoftmax', () => {
  const options: SoftmaxOptions = { epochs: 3, batchSize: 8, learningRate: 0.05, l2: 0.5, seed: 3 };

  it('matches a plain reference implementation (lazy decay, blocked dense products)', () => {
    const K = 3;
    const { x, y } = problem(45, 6, 12, K, 1);
    const { model } = trainSoftmax(x, y, K, options);
    const ref = referenceTrain(x, y, K, options);
    const dd = x.denseDim;
    let maxDiff = 0;
    for (let c = 0; c < dd + x.sparseDim + 1; c++) {
      for (let k = 0; k < K; k++) {
        // Our layout: dense class-major, sparse feature-major, then biases.
        const ours = c < dd ? model.weights[k * dd + c] : model.weights[K * dd + (c - dd) * K + k];
        maxDiff = Math.max(maxDiff, Math.abs(ours - ref[c * K + k]));
      }
    }
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('fits a separable problem, and logitsInto agrees with training', () => {
    const K = 4;
    const { x, y } = problem(200, 8, 20, K, 2);
    const { model, epochLoss } = trainSoftmax(x, y, K, { ...options, epochs: 30, l2: 0.01 });
    expect(epochLoss[epochLoss.length - 1]).toBeLessThan(epochLoss[0] / 3);
    const z = new Float64Array(K);
    let right = 0;
    for (let i = 0; i < x.rows; i++) {
      logitsInto(model, x, i, z);
      if (z.indexOf(Math.max(...z)) === y[i]) right++;
    }
    expect(right / x.rows).toBeGreaterThan(0.95);
  });

  it('works with no dense block', () => {
    const sparse = [0, 1, 2, 3].map((i) => ({
      indices: Int32Array.of(i),
      values: Float32Array.of(1),
    }));
    const x = buildFeatureMatrix(null, 0, 1, sparse, 4);
    const { model } = trainSoftmax(x, Int32Array.of(0, 1, 0, 1), 2, { ...options, epochs: 50 });
    const z = new Float64Array(2);
    logitsInto(model, x, 1, z);
    expect(z[1]).toBeGreaterThan(z[0]);
  });
});

describe('stratifiedSplit', () => {
  it('holds out about the fraction of every label, never a label entirely', () => {
    const labels = [...Array(20).fill('a'), ...Array(10).fill('b'), 'c'];
    const { train, heldOut } = stratifiedSplit(labels, 0.2, 1);
    expect(heldOut.filter((i) => labels[i] === 'a')).toHaveLength(4);
    expect(heldOut.filter((i) => labels[i] === 'b')).toHaveLength(2);
    expect(train).toContain(30);
    expect([...train, ...heldOut].sort((p, q) => p - q)).toEqual(labels.map((_, i) => i));
    expect(stratifiedSplit(labels, 0.2, 1)).toEqual({ train, heldOut });
    expect(stratifiedSplit(labels, 0.2, 2).heldOut).not.toEqual(heldOut);
  });
});
