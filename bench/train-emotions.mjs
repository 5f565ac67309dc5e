// npm run train:emotions [-- --seed 1] [-- --dry-run]
// Trains the sentiment scorer's emotion heads (services/sentiment-scorer/src/domain/emotions.ts)
// on the GoEmotions train split only, in ../shared/data/goemotions (or $SHARED_DATA_DIR), and
// writes their weights to services/sentiment-scorer/src/domain/emotion-model.json: the learned
// weights, thresholds and settings, never a row of the data. Build first (`npm run build`): it
// runs the project's sentence encoder (@support/encoder), the scorer's own feature code and the
// intent library's softmax regression (libs/intent/src/softmax.ts: mini-batch AdamW).
//
// Heads, each linear over the sentence vector and the VADER features:
// - frustration: P(anger, annoyance, disappointment or disapproval), a 2-class softmax regression
//   turned into one sigmoid;
// - ekman: one such sigmoid per Ekman class (multi-label, as the data set is);
// - sentiment: a 3-class softmax (negative, neutral, positive) from the data set's sentiment
//   grouping, with per-class offsets chosen on dev for balanced recall.
// The dev split picks each head's weight decay and epochs, the thresholds and the offsets; the
// test split is never read here (bench/eval-emotions.mjs reports on it). Deterministic: the same
// data, encoder and seed give the same file.
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { embedCached } from './embedding-cache.mjs';
import {
  EKMAN,
  FRUSTRATION,
  SENTIMENT,
  goEmotionsDir,
  hasEkman,
  isFrustrated,
  readSplit,
  sentimentOf,
} from './goemotions.mjs';
import { argmaxWith, bestF1Threshold, multiclass } from './scores.mjs';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    'dry-run': { type: 'boolean', default: false },
  },
});
const OUT = join(root, 'services/sentiment-scorer/src/domain/emotion-model.json');
const dataDir = process.env.SHARED_DATA_DIR
  ? resolve(process.env.SHARED_DATA_DIR)
  : resolve(root, '..', 'shared', 'data');
const dir = goEmotionsDir(dataDir);
if (!dir) {
  console.error(`train:emotions: GoEmotions is not in ${dataDir}/goemotions (set SHARED_DATA_DIR)`);
  process.exit(1);
}

function load(what, path) {
  try {
    return require(path);
  } catch (error) {
    console.error(`cannot load ${what}: build first with \`npm run build\``);
    throw error;
  }
}
const { sentenceEncoder } = load('@support/encoder', '@support/encoder');
const softmax = load('the softmax regression', join(root, 'libs/intent/dist/softmax.js'));
const { vaderFeatures } = load(
  'the scorer',
  join(root, 'services/sentiment-scorer/dist/domain/valence.js'),
);
const { emotionFeatures, EKMAN_CLASSES, SENTIMENT_CLASSES, VADER_FEATURES } = load(
  'the scorer',
  join(root, 'services/sentiment-scorer/dist/domain/emotions.js'),
);
if (
  Object.keys(EKMAN).join() !== EKMAN_CLASSES.join() ||
  SENTIMENT.join() !== SENTIMENT_CLASSES.join()
)
  throw new Error(
    'the Ekman or sentiment classes differ between bench/goemotions.mjs and emotions.ts',
  );

/** The settings the dev split chooses among, per head; the rest are libs/intent's defaults. */
const GRID = [
  { epochs: 6, l2: 0.0001 },
  { epochs: 6, l2: 0.001 },
  { epochs: 6, l2: 0.01 },
  { epochs: 12, l2: 0.0001 },
  { epochs: 12, l2: 0.001 },
  { epochs: 12, l2: 0.01 },
];
const FIXED = { batchSize: 32, learningRate: 0.01, seed: Number(args.seed) };
const started = performance.now();
const log = (...parts) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s]`, ...parts);

// --- Data and features ---------------------------------------------------------------------

const encoder = await sentenceEncoder();
log(`encoder ${encoder.name} (${encoder.dimensions} dimensions)`);
async function featuresOf(split) {
  const rows = readSplit(dir, split);
  const vectors = await embedCached(
    encoder,
    rows.map((r) => r.text),
    (done, total) => {
      if (done % 10240 < 512) log(`  embedding ${split}: ${done} / ${total}`);
    },
  );
  const x = rows.map((r, i) => emotionFeatures(vectors[i], vaderFeatures(r.text)));
  log(`${split}: ${rows.length} comments`);
  return { rows, x };
}
const train = await featuresOf('train');
const dev = await featuresOf('dev');
const width = train.x[0].length;

function matrix(x) {
  const none = { indices: new Int32Array(0), values: new Float32Array(0) };
  return softmax.buildFeatureMatrix(
    x,
    width,
    1,
    x.map(() => none),
    0,
  );
}
const trainX = matrix(train.x);

/** Trains a K-class softmax on the rows whose label is ≥ 0; returns its dense weights and biases. */
function fit(labels, classes, setting) {
  const keep = labels.flatMap((y, i) => (y >= 0 ? [i] : []));
  const X = keep.length === labels.length ? trainX : matrix(keep.map((i) => train.x[i]));
  const y = Int32Array.from(keep.map((i) => labels[i]));
  const { model } = softmax.trainSoftmax(X, y, classes, { ...FIXED, ...setting });
  const W = model.weights;
  const rows = Array.from({ length: classes }, (_, k) =>
    Array.from(W.subarray(k * width, (k + 1) * width)),
  );
  const bias = Array.from(W.subarray(classes * width, classes * width + classes));
  return { rows, bias };
}

/** A 2-class softmax as one sigmoid: w = w₁ − w₀, b = b₁ − b₀. */
function fitBinary(labels, setting) {
  const { rows, bias } = fit(labels, 2, setting);
  return { weights: rows[1].map((w, j) => w - rows[0][j]), bias: bias[1] - bias[0] };
}

const dot = (w, x) => w.reduce((s, wj, j) => s + wj * x[j], 0);
const sigmoidOn = (head, x) =>
  x.map((v) => 1 / (1 + Math.exp(-(dot(head.weights, v) + head.bias))));

// --- Heads ---------------------------------------------------------------------------------

function chooseBinary(name, target) {
  const gold = dev.rows.map(target);
  let best;
  for (const setting of GRID) {
    const head = fitBinary(train.rows.map(target), setting);
    const m = bestF1Threshold(sigmoidOn(head, dev.x), gold);
    if (!best || m.f1 > best.dev.f1) best = { head, setting, dev: m };
  }
  log(
    `${name}: dev F1 ${best.dev.f1.toFixed(3)} at ${best.dev.threshold} (${JSON.stringify(best.setting)})`,
  );
  return best;
}

const frustration = chooseBinary('frustration', isFrustrated);

function chooseEkman() {
  let best;
  for (const setting of GRID) {
    const heads = EKMAN_CLASSES.map((c) =>
      fitBinary(
        train.rows.map((r) => hasEkman(r, c)),
        setting,
      ),
    );
    const fits = EKMAN_CLASSES.map((c, k) =>
      bestF1Threshold(
        sigmoidOn(heads[k], dev.x),
        dev.rows.map((r) => hasEkman(r, c)),
      ),
    );
    const macroF1 = fits.reduce((a, m) => a + m.f1, 0) / fits.length;
    log(`  ekman ${JSON.stringify(setting)}: dev macro-F1 ${macroF1.toFixed(3)}`);
    if (!best || macroF1 > best.macroF1) best = { heads, fits, setting, macroF1 };
  }
  log(`ekman: dev macro-F1 ${best.macroF1.toFixed(3)} (${JSON.stringify(best.setting)})`);
  return best;
}
const ekman = chooseEkman();

/** The negative and positive offsets (neutral's fixed at 0) with the best dev macro recall. */
function chooseOffsets(logits, gold) {
  let best = { offsets: [0, 0, 0], macroRecall: -1 };
  for (let n = -20; n <= 20; n++) {
    for (let p = -20; p <= 20; p++) {
      const offsets = [n / 10, 0, p / 10];
      const { macroRecall } = multiclass(
        gold,
        logits.map((z) => argmaxWith(z, offsets)),
        3,
      );
      if (macroRecall > best.macroRecall) best = { offsets, macroRecall };
    }
  }
  return best;
}

function chooseSentiment() {
  const keep = dev.rows.flatMap((r, i) => (sentimentOf(r) >= 0 ? [i] : []));
  const gold = keep.map((i) => sentimentOf(dev.rows[i]));
  let best;
  for (const setting of GRID) {
    const head = fit(train.rows.map(sentimentOf), 3, setting);
    const logits = keep.map((i) => head.rows.map((w, k) => dot(w, dev.x[i]) + head.bias[k]));
    const { offsets, macroRecall } = chooseOffsets(logits, gold);
    log(`  sentiment ${JSON.stringify(setting)}: dev macro recall ${macroRecall.toFixed(3)}`);
    if (!best || macroRecall > best.macroRecall) best = { head, setting, offsets, macroRecall };
  }
  log(
    `sentiment: dev macro recall ${best.macroRecall.toFixed(3)} (${JSON.stringify(best.setting)}, offsets ${best.offsets})`,
  );
  return best;
}
const sentiment = chooseSentiment();

// --- The file ------------------------------------------------------------------------------

const r6 = (x) => Number(x.toPrecision(6));
const r4 = (x) => Math.round(x * 10_000) / 10_000;
const model = {
  format: 1,
  encoder: { name: encoder.name, dimensions: encoder.dimensions },
  features: { embedding: encoder.dimensions, vader: [...VADER_FEATURES] },
  training: {
    data: 'GoEmotions train split (Demszky et al., ACL 2020): 43,410 Reddit comments; dev split for the choices below; no rows are kept',
    script: 'bench/train-emotions.mjs',
    trainer: 'libs/intent softmax regression (mini-batch AdamW, linearly decaying learning rate)',
    ...FIXED,
    grid: GRID,
    frustration: { emotions: FRUSTRATION, ...frustration.setting },
    ekman: { mapping: 'ekman_mapping.json of google-research/goemotions', ...ekman.setting },
    sentiment: {
      mapping:
        'sentiment_mapping.json; ambiguous or no emotion = neutral; rows with both positive and negative emotions left out',
      ...sentiment.setting,
    },
  },
  frustration: {
    emotions: FRUSTRATION,
    weights: frustration.head.weights.map(r6),
    bias: r6(frustration.head.bias),
    threshold: frustration.dev.threshold,
  },
  ekman: {
    classes: [...EKMAN_CLASSES],
    weights: ekman.heads.map((h) => h.weights.map(r6)),
    bias: ekman.heads.map((h) => r6(h.bias)),
    thresholds: ekman.fits.map((m) => m.threshold),
  },
  sentiment: {
    classes: [...SENTIMENT_CLASSES],
    weights: sentiment.head.rows.map((w) => w.map(r6)),
    bias: sentiment.head.bias.map(r6),
    offsets: sentiment.offsets,
  },
  dev: {
    frustration: {
      f1: r4(frustration.dev.f1),
      precision: r4(frustration.dev.precision),
      recall: r4(frustration.dev.recall),
    },
    ekmanMacroF1: r4(ekman.macroF1),
    sentimentMacroRecall: r4(sentiment.macroRecall),
  },
};

if (args['dry-run']) {
  log('dry run: nothing written');
} else {
  writeFileSync(OUT, `${JSON.stringify(model)}\n`);
  log(
    `wrote ${relative(root, OUT)} (${(JSON.stringify(model).length / 1024).toFixed(0)} KB): rebuild (npm run build) to use it`,
  );
}
if (!existsSync(join(root, 'NOTICE'))) console.warn('NOTICE is missing: it must credit GoEmotions');
await encoder.close?.();
