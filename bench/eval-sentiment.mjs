// node bench/eval-sentiment.mjs (part of `npm run eval` and `npm run bench`)
// The sentiment scorer's valence on public ground truth in ../shared/data (or SHARED_DATA_DIR):
// VADER's tweets (correlation with the raters' mean, 3-class F1) beside the paper's 0.881 / 0.96,
// the other VADER corpora, and TweetEval sentiment (macro-averaged recall) beside SVM 62.9; and the
// scorer's label, which its learned sentiment head gives from the sentence vector and VADER's
// features (trained on GoEmotions train only: never on these sets), beside the goal of 66 on
// TweetEval. Skips with a message when the data are absent. Reads the data in place; writes only
// the sentence vectors' cache (.cache/embeddings, git-ignored). Build first (`npm run build`).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = process.env.SHARED_DATA_DIR ?? resolve(root, '..', 'shared', 'data');
const { valenceOf, labelOf, scoreMessage, NEUTRAL_BAND } = require(
  join(root, 'services/sentiment-scorer/dist/domain/score.js'),
);
const { EMOTION_MODEL } = require(
  join(root, 'services/sentiment-scorer/dist/domain/emotion-model.js'),
);
const { SentimentIntensityAnalyzer } = require('vader-sentiment');
const { sentenceEncoder } = require('@support/encoder');
const { embedCached } = await import('./embedding-cache.mjs');

if (!existsSync(dataDir)) {
  console.log(`sentiment benchmark: SKIPPED (${dataDir} absent)`);
  process.exit(0);
}

const wholeText = (text) => SentimentIntensityAnalyzer.polarity_scores(text).compound;
const scorers = [
  ['scorer valence (VADER per sentence, summed)', valenceOf],
  ['VADER on the whole text', wholeText],
];
const encoder = await sentenceEncoder();
if (encoder.name !== EMOTION_MODEL.encoder.name)
  throw new Error(
    `the emotion model was trained on ${EMOTION_MODEL.encoder.name}, not ${encoder.name}`,
  );
/** The scorer's full score of each text: valence, learned label and sentiment probabilities. */
async function scoredAll(texts) {
  const vectors = await embedCached(encoder, texts);
  return texts.map((t, i) => scoreMessage(t, vectors[i]));
}
const LEARNED = 'scorer label (learned: vector + VADER)';

function pearson(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

const CLASSES = ['negative', 'neutral', 'positive'];

/** Per-class precision, recall and F1, and their macro averages. */
function classification(gold, predicted) {
  const per = CLASSES.map((c) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    gold.forEach((g, i) => {
      if (predicted[i] === c && g === c) tp++;
      else if (predicted[i] === c) fp++;
      else if (g === c) fn++;
    });
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    return {
      c,
      precision,
      recall,
      f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
      n: tp + fn,
    };
  });
  const present = per.filter((p) => p.n > 0);
  const mean = (k) => present.reduce((a, p) => a + p[k], 0) / present.length;
  const accuracy = gold.filter((g, i) => g === predicted[i]).length / gold.length;
  return { macroF1: mean('f1'), macroRecall: mean('recall'), accuracy, per };
}

const fmt = (x) => x.toFixed(3);

async function vaderCorpus(file, label, reference) {
  const path = join(dataDir, 'vader', file);
  if (!existsSync(path)) return console.log(`  ${label}: SKIPPED (${path} absent)`);
  const rows = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter(Boolean)
    .map((line) => {
      const [, mean, ...text] = line.split('\t');
      return { mean: Number(mean), text: text.join('\t') };
    });
  // Ground-truth classes from the raters' mean (−4..+4): the same ±0.05 band on the mean/4 scale.
  const gold = rows.map((r) => labelOf(r.mean / 4));
  for (const [name, score] of scorers) {
    const started = performance.now();
    const values = rows.map((r) => score(r.text));
    const ms = performance.now() - started;
    const r = pearson(
      values,
      rows.map((x) => x.mean),
    );
    const c = classification(gold, values.map(labelOf));
    console.log(
      `  ${label.padEnd(8)} ${name.padEnd(44)} r ${fmt(r)}  3-class macro F1 ${fmt(c.macroF1)}  ` +
        `accuracy ${fmt(c.accuracy)}  (${rows.length} texts, ${(ms / rows.length).toFixed(3)} ms each)` +
        (reference ? `  paper: ${reference}` : ''),
    );
  }
  const scores = await scoredAll(rows.map((x) => x.text));
  // r of the learned head's P(positive) − P(negative) with the raters' mean.
  const r = pearson(
    scores.map((s) => s.emotions.sentiment.positive - s.emotions.sentiment.negative),
    rows.map((x) => x.mean),
  );
  const c = classification(
    gold,
    scores.map((s) => s.label),
  );
  console.log(
    `  ${label.padEnd(8)} ${LEARNED.padEnd(44)} r ${fmt(r)}  3-class macro F1 ${fmt(c.macroF1)}  ` +
      `accuracy ${fmt(c.accuracy)}  (r of P(positive) − P(negative))`,
  );
}

console.log(`sentiment benchmark — data ${dataDir}`);
console.log(
  `settings: compound score in −1..1; classes by the ±${NEUTRAL_BAND} band (ground truth: raters' mean / 4, same band); ` +
    `learned label: ${encoder.name}, sentiment head from GoEmotions train, offsets ${EMOTION_MODEL.sentiment.offsets.join(' / ')} (negative / neutral / positive) chosen on GoEmotions dev`,
);
console.log('VADER ground truth (Hutto & Gilbert 2014):');
await vaderCorpus('tweets_GroundTruth.txt', 'tweets', 'r 0.881, 3-class F1 0.96');
await vaderCorpus('movieReviewSnippets_GroundTruth.txt', 'movie', 'r 0.451');
await vaderCorpus('amazonReviewSnippets_GroundTruth.txt', 'amazon', 'r 0.565');
await vaderCorpus('nytEditorialSnippets_GroundTruth.txt', 'nyt', 'r 0.492');

const te = join(dataDir, 'tweeteval_sentiment');
if (!existsSync(join(te, 'test_text.txt'))) {
  console.log(`TweetEval: SKIPPED (${te} absent)`);
} else {
  const texts = readFileSync(join(te, 'test_text.txt'), 'utf8').split('\n');
  const labels = readFileSync(join(te, 'test_labels.txt'), 'utf8').split('\n');
  const n = Math.min(texts.length, labels.length);
  const gold = [];
  const items = [];
  for (let i = 0; i < n; i++) {
    if (labels[i].trim() === '') continue;
    gold.push(CLASSES[Number(labels[i])]);
    items.push(texts[i]);
  }
  console.log(`TweetEval sentiment test (${items.length} tweets; macro-averaged recall):`);
  const line = (name, c, note) =>
    console.log(
      `  ${name.padEnd(47)} macro recall ${(100 * c.macroRecall).toFixed(1)}  macro F1 ${(100 * c.macroF1).toFixed(1)}  ` +
        `accuracy ${(100 * c.accuracy).toFixed(1)}  ${note}`,
    );
  const published = 'published: SVM 62.9, FastText 62.9, RoBERTa-base 71.3';
  for (const [name, score] of scorers)
    line(
      name,
      classification(
        gold,
        items.map((t) => labelOf(score(t))),
      ),
      published,
    );
  const scores = await scoredAll(items);
  line(
    LEARNED,
    classification(
      gold,
      scores.map((s) => s.label),
    ),
    `goal ≥ 66 (VADER alone 55.9); ${published}`,
  );
}
