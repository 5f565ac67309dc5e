// Classification figures shared by the emotion training and evaluation scripts.

/** Precision, recall and F1 of "probability ≥ threshold" against 0/1 gold labels. */
export function binaryAt(probabilities, gold, threshold) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < gold.length; i++) {
    const predicted = probabilities[i] >= threshold;
    if (predicted && gold[i]) tp++;
    else if (predicted) fp++;
    else if (gold[i]) fn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { threshold, precision, recall, f1, predicted: tp + fp };
}

/** The threshold on a 0.01 grid with the best F1 (the lowest of equals). */
export function bestF1Threshold(probabilities, gold) {
  let best = binaryAt(probabilities, gold, 0.01);
  for (let t = 2; t < 100; t++) {
    const m = binaryAt(probabilities, gold, t / 100);
    if (m.f1 > best.f1) best = m;
  }
  return best;
}

/** Macro-averaged recall and F1 over classes 0..k-1 (classes absent from gold are skipped). */
export function multiclass(gold, predicted, k) {
  const per = [];
  for (let c = 0; c < k; c++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < gold.length; i++) {
      if (predicted[i] === c && gold[i] === c) tp++;
      else if (predicted[i] === c) fp++;
      else if (gold[i] === c) fn++;
    }
    if (tp + fn === 0) continue;
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp / (tp + fn);
    per.push({
      c,
      recall,
      f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    });
  }
  const mean = (key) => per.reduce((a, p) => a + p[key], 0) / per.length;
  const accuracy = gold.filter((g, i) => g === predicted[i]).length / gold.length;
  return { macroRecall: mean('recall'), macroF1: mean('f1'), accuracy, per };
}

/** The index of the largest of `scores[k] + offsets[k]`. */
export function argmaxWith(scores, offsets) {
  let best = 0;
  for (let k = 1; k < scores.length; k++)
    if (scores[k] + offsets[k] > scores[best] + offsets[best]) best = k;
  return best;
}

export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
