// Post-hoc calibration and the out-of-scope threshold, both fitted on held-out
// examples: temperature scaling (one scalar T, minimising the negative
// log-likelihood of softmax(logits / T)), the expected calibration error, and
// the choice of the threshold on the top in-scope probability.

/** Mean negative log-likelihood of the labels under softmax(logits / T). */
export function negativeLogLikelihood(
  logits: Float64Array,
  labels: Int32Array,
  classes: number,
  temperature: number,
): number {
  const n = labels.length;
  if (n === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const o = i * classes;
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[o + k] / temperature);
    let s = 0;
    for (let k = 0; k < classes; k++) s += Math.exp(logits[o + k] / temperature - max);
    sum += max + Math.log(s) - logits[o + labels[i]] / temperature;
  }
  return sum / n;
}

/** The range searched for the temperature. */
export const TEMPERATURE_RANGE: readonly [number, number] = [0.25, 8];

/**
 * The temperature minimising the held-out NLL, by golden-section search over
 * log T within TEMPERATURE_RANGE (the NLL is convex in 1/T, hence unimodal in
 * log T). The lower bound matters: on a small held-out set that the model
 * separates perfectly, the NLL keeps falling as T → 0, and a tiny T would turn
 * any margin — even between the biases, for a text with no known feature — into
 * certainty.
 */
export function fitTemperature(
  logits: Float64Array,
  labels: Int32Array,
  classes: number,
  range: readonly [number, number] = TEMPERATURE_RANGE,
): number {
  if (labels.length === 0) return 1;
  const f = (logT: number) => negativeLogLikelihood(logits, labels, classes, Math.exp(logT));
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(range[0]);
  let b = Math.log(range[1]);
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let iter = 0; iter < 80 && b - a > 1e-6; iter++) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = f(d);
    }
  }
  const best = Math.exp((a + b) / 2);
  // Never worse than no scaling at all.
  return f(Math.log(best)) <= f(0) ? best : 1;
}

/**
 * Expected calibration error: the mean, weighted by bin size, of
 * |accuracy − mean confidence| over equal-width confidence bins.
 */
export function expectedCalibrationError(
  confidences: ArrayLike<number>,
  correct: ArrayLike<boolean>,
  bins = 15,
): number {
  const n = confidences.length;
  if (n === 0) return NaN;
  const count = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const hits = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const c = confidences[i];
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    count[b]++;
    conf[b] += c;
    if (correct[i]) hits[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b] > 0) ece += Math.abs(hits[b] - conf[b]) / n;
  }
  return ece;
}

/** What the threshold search needs to know about one held-out example. */
export interface ThresholdCase {
  /** Calibrated probability of the most probable in-scope label. */
  topInScope: number;
  /** The most probable label overall is the out-of-scope label. */
  topIsOutOfScope: boolean;
  /** The gold label is out of scope. */
  goldOutOfScope: boolean;
  /** The most probable label overall is the gold label. */
  topCorrect: boolean;
}

export interface ThresholdMetrics {
  inScopeAccuracy: number;
  outOfScopeRecall: number;
  outOfScopePrecision: number;
}

/** In-scope accuracy (right and not flagged), OOS recall and precision at `threshold`. */
export function thresholdMetrics(
  cases: readonly ThresholdCase[],
  threshold: number,
): ThresholdMetrics {
  let inScope = 0;
  let inScopeRight = 0;
  let oos = 0;
  let flagged = 0;
  let flaggedOos = 0;
  for (const c of cases) {
    const flag = c.topIsOutOfScope || c.topInScope < threshold;
    if (flag) flagged++;
    if (c.goldOutOfScope) {
      oos++;
      if (flag) flaggedOos++;
    } else {
      inScope++;
      if (!flag && c.topCorrect) inScopeRight++;
    }
  }
  return {
    inScopeAccuracy: inScope ? inScopeRight / inScope : NaN,
    outOfScopeRecall: oos ? flaggedOos / oos : NaN,
    outOfScopePrecision: flagged ? flaggedOos / flagged : NaN,
  };
}

/**
 * The threshold maximising in-scope accuracy + weight × out-of-scope recall on
 * the cases. Several thresholds often do equally well (with few held-out
 * examples, a whole range does); the middle of the lowest such range is
 * returned, as far as possible from the examples on either side.
 */
export function balancedThreshold(cases: readonly ThresholdCase[], recallWeight = 1): number {
  const nIn = cases.filter((c) => !c.goldOutOfScope).length;
  const nOos = cases.length - nIn;
  if (nIn === 0 || nOos === 0) return 0;
  // Only cases the threshold can still change matter: those whose top label is in scope.
  const open = cases.filter((c) => !c.topIsOutOfScope);
  open.sort((a, b) => a.topInScope - b.topInScope);
  // Candidate cut i flags open[0..i); cuts can only fall between distinct probabilities.
  const cuts: { index: number; gain: number }[] = [{ index: 0, gain: 0 }];
  let gain = 0;
  for (let i = 0; i < open.length; i++) {
    const c = open[i];
    gain += c.goldOutOfScope ? recallWeight / nOos : c.topCorrect ? -1 / nIn : 0;
    if (i + 1 < open.length && open[i + 1].topInScope === c.topInScope) continue;
    cuts.push({ index: i + 1, gain });
  }
  const best = Math.max(...cuts.map((c) => c.gain));
  const tol = 1e-9;
  const first = cuts.findIndex((c) => c.gain >= best - tol);
  let last = first;
  while (last + 1 < cuts.length && cuts[last + 1].gain >= best - tol) last++;
  const low = cuts[first].index > 0 ? open[cuts[first].index - 1].topInScope : 0;
  const high = cuts[last].index < open.length ? open[cuts[last].index].topInScope : 1;
  return (low + high) / 2;
}

/**
 * The threshold that flags about `rate` of the in-scope cases (by their top
 * in-scope probability), midway between the last flagged and the first kept.
 */
export function rejectRateThreshold(cases: readonly ThresholdCase[], rate: number): number {
  const probs = cases
    .filter((c) => !c.goldOutOfScope)
    .map((c) => c.topInScope)
    .sort((a, b) => a - b);
  const flag = Math.floor(rate * probs.length);
  if (flag <= 0 || probs.length === 0) return 0;
  const lastFlagged = probs[flag - 1];
  const firstKept = flag < probs.length ? probs[flag] : 1;
  return (lastFlagged + firstKept) / 2;
}

/**
 * The lowest threshold whose out-of-scope recall on the cases reaches
 * `recall`: the operating point where a team states how many out-of-scope
 * messages it must catch and keeps every in-scope answer it can beyond that.
 * Midway between the last case it flags and the next; 1 when unreachable.
 */
export function minRecallThreshold(cases: readonly ThresholdCase[], recall: number): number {
  const nOos = cases.filter((c) => c.goldOutOfScope).length;
  if (nOos === 0) return 0;
  let caught = cases.filter((c) => c.goldOutOfScope && c.topIsOutOfScope).length;
  if (caught / nOos >= recall) return 0;
  const open = cases.filter((c) => !c.topIsOutOfScope).sort((a, b) => a.topInScope - b.topInScope);
  for (let i = 0; i < open.length; i++) {
    if (open[i].goldOutOfScope) caught++;
    if (i + 1 < open.length && open[i + 1].topInScope === open[i].topInScope) continue;
    if (caught / nOos >= recall) {
      const next = i + 1 < open.length ? open[i + 1].topInScope : 1;
      return (open[i].topInScope + next) / 2;
    }
  }
  return 1;
}
