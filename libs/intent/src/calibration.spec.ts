import {
  balancedThreshold,
  expectedCalibrationError,
  fitTemperature,
  negativeLogLikelihood,
  minRecallThreshold,
  rejectRateThreshold,
  thresholdMetrics,
  type ThresholdCase,
} from './calibration.js';
import { seededRandom } from './rng.js';
import { softmaxInPlace } from './softmax.js';

/** Logits whose true temperature is `temperature`: labels drawn from softmax(base), logits = base × T. */
function sample(n: number, classes: number, temperature: number, seed: number) {
  const random = seededRandom(seed);
  const logits = new Float64Array(n * classes);
  const labels = new Int32Array(n);
  const z = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < classes; k++) z[k] = 3 * (random() - 0.5) * (k === i % classes ? 3 : 1);
    for (let k = 0; k < classes; k++) logits[i * classes + k] = z[k] * temperature;
    softmaxInPlace(z);
    let u = random();
    let y = 0;
    while (y < classes - 1 && (u -= z[y]) > 0) y++;
    labels[i] = y;
  }
  return { logits, labels };
}

describe('temperature scaling', () => {
  it('recovers the temperature of over- and under-confident logits', () => {
    for (const T of [0.5, 2, 4]) {
      const { logits, labels } = sample(6000, 5, T, 11);
      const fitted = fitTemperature(logits, labels, 5);
      expect(fitted).toBeGreaterThan(T * 0.85);
      expect(fitted).toBeLessThan(T * 1.15);
      expect(negativeLogLikelihood(logits, labels, 5, fitted)).toBeLessThan(
        negativeLogLikelihood(logits, labels, 5, 1),
      );
    }
  });

  it('never returns a temperature worse than 1, and 1 without data', () => {
    expect(fitTemperature(new Float64Array(0), new Int32Array(0), 3)).toBe(1);
    const { logits, labels } = sample(3000, 4, 1, 5);
    const T = fitTemperature(logits, labels, 4);
    expect(negativeLogLikelihood(logits, labels, 4, T)).toBeLessThanOrEqual(
      negativeLogLikelihood(logits, labels, 4, 1),
    );
  });
});

describe('expectedCalibrationError', () => {
  it('is 0 when confidence matches accuracy and the gap when it does not', () => {
    const conf = [0.75, 0.75, 0.75, 0.75];
    expect(expectedCalibrationError(conf, [true, true, true, false])).toBeCloseTo(0, 12);
    expect(expectedCalibrationError(conf, [true, false, false, false])).toBeCloseTo(0.5, 12);
    expect(expectedCalibrationError([1, 0.05], [true, false])).toBeCloseTo(0.025, 12);
  });
});

describe('out-of-scope threshold', () => {
  const c = (topInScope: number, goldOutOfScope: boolean, topCorrect = !goldOutOfScope) =>
    ({ topInScope, goldOutOfScope, topCorrect, topIsOutOfScope: false }) as ThresholdCase;

  it('balanced: separates low-confidence out-of-scope from in-scope examples', () => {
    const cases = [c(0.2, true), c(0.3, true), c(0.35, false, false), c(0.6, false), c(0.9, false)];
    const t = balancedThreshold(cases);
    // Flagging the wrong in-scope answer (0.35) too changes nothing, so every
    // threshold in (0.3, 0.6] is best: the middle is taken.
    expect(t).toBeCloseTo(0.45, 12);
    expect(thresholdMetrics(cases, t)).toEqual({
      inScopeAccuracy: 2 / 3,
      outOfScopeRecall: 1,
      outOfScopePrecision: 2 / 3,
    });
  });

  it('balanced: weighs in-scope accuracy against out-of-scope recall', () => {
    // Two in-scope, two out-of-scope (one already caught by the OOS class):
    // catching the other costs as much accuracy as it brings recall.
    const cases = [
      c(0.2, false),
      c(0.5, true),
      c(0.8, false),
      { ...c(0.1, true), topIsOutOfScope: true },
    ];
    // Best: flag nothing, i.e. any threshold in [0, 0.2]; the middle is taken.
    expect(balancedThreshold(cases)).toBeCloseTo(0.1, 12);
    expect(balancedThreshold(cases, 3)).toBeCloseTo(0.65, 12);
  });

  it('counts a top out-of-scope label as flagged whatever the threshold', () => {
    const cases = [{ ...c(0.1, true), topIsOutOfScope: true }, c(0.8, false)];
    expect(thresholdMetrics(cases, 0).outOfScopeRecall).toBe(1);
  });

  it('min-recall: the lowest threshold that catches the requested share of out-of-scope examples', () => {
    // Out-of-scope at 0.1, 0.3 and 0.6; in-scope at 0.2, 0.5 and 0.9.
    const cases = [
      c(0.1, true),
      c(0.3, true),
      c(0.6, true),
      c(0.2, false),
      c(0.5, false),
      c(0.9, false),
    ];
    const t = minRecallThreshold(cases, 0.6);
    expect(t).toBeCloseTo(0.4, 12); // flags 0.1 and 0.3 (2 of 3) and keeps 0.5 and 0.9
    expect(thresholdMetrics(cases, t).outOfScopeRecall).toBeCloseTo(2 / 3, 12);
    expect(minRecallThreshold(cases, 1)).toBeCloseTo(0.75, 12);
    expect(minRecallThreshold(cases, 0)).toBe(0);
  });

  it('reject-rate: flags the requested share of in-scope examples', () => {
    const cases = Array.from({ length: 100 }, (_, i) => c((i + 1) / 100, false));
    const t = rejectRateThreshold(cases, 0.05);
    expect(t).toBeCloseTo(0.055, 12);
    expect(thresholdMetrics(cases, t).inScopeAccuracy).toBeCloseTo(0.95, 12);
    expect(rejectRateThreshold(cases, 0)).toBe(0);
  });
});
