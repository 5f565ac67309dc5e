// node bench/eval-emotions.mjs [--conversations 2000] [--latency-sample 300] (part of `npm run eval`)
// The sentiment scorer's learned emotion heads (services/sentiment-scorer/src/domain/emotion-model.json,
// from `npm run train:emotions`) on the GoEmotions test split, beside the goals and the paper:
// - "frustrated" (anger, annoyance, disappointment or disapproval) as a binary decision at the
//   threshold chosen on dev: F1 (goal ≥ 0.60), and what fired before (the scorer's signals, the
//   decider's former rule);
// - Ekman's 6 emotions + neutral: macro-F1 at the per-class dev thresholds (paper, BERT: 0.64);
// - the 3-class sentiment label on GoEmotions' own grouping;
// - the decider's frustration thresholds (services/escalation-decider/policy/default.yaml): per
//   message, the precision and the share of merely negative comments that would hand off; over
//   turns, conversations simulated from comments (3 frustrated ones; calm ones with one
//   negative): how many hand off before the AI's third answer, and how many should not but do.
//   Dev figures are the ones the thresholds were chosen on; test figures are for reading.
// - the cost: encode + classify one message alone, p50 / p99.
// Data from ../shared/data (or SHARED_DATA_DIR): skipped with a message when absent. Build first.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { embedCached } from './embedding-cache.mjs';
import { goEmotionsDir, hasEkman, isFrustrated, readSplit, sentimentOf } from './goemotions.mjs';
import { binaryAt, multiclass, percentile } from './scores.mjs';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    conversations: { type: 'string', default: '2000' },
    'latency-sample': { type: 'string', default: '300' },
  },
});
const dataDir = process.env.SHARED_DATA_DIR
  ? resolve(process.env.SHARED_DATA_DIR)
  : resolve(root, '..', 'shared', 'data');
const dir = goEmotionsDir(dataDir);
if (!dir) {
  console.log(`emotion benchmark: SKIPPED (${dataDir}/goemotions absent)`);
  process.exit(0);
}

function load(path) {
  try {
    return require(join(root, path));
  } catch (error) {
    console.error(`cannot load ${path}: build first with \`npm run build\``);
    throw error;
  }
}
const { sentenceEncoder } = require('@support/encoder');
const { EMOTION_MODEL: model } = load('services/sentiment-scorer/dist/domain/emotion-model.js');
const { scoreMessage, scoreInConversation } = load(
  'services/sentiment-scorer/dist/domain/score.js',
);
const { EKMAN_CLASSES } = load('services/sentiment-scorer/dist/domain/emotions.js');
const { loadDefaultPolicy } = load('services/escalation-decider/dist/domain/decide.js');

const encoder = await sentenceEncoder();
if (encoder.name !== model.encoder.name)
  throw new Error(`the model was trained on ${model.encoder.name}, the encoder is ${encoder.name}`);
const policy = loadDefaultPolicy();
const shipped = {
  message: policy.threshold('frustratedMessage', NaN),
  trend: policy.threshold('frustratedTrend', NaN),
};
const f3 = (x) => x.toFixed(3);
const pct = (x) => `${(100 * x).toFixed(1)}%`;

async function scored(split) {
  const rows = readSplit(dir, split);
  const vectors = await embedCached(
    encoder,
    rows.map((r) => r.text),
  );
  return rows.map((r, i) => ({
    ...r,
    vector: vectors[i],
    score: scoreMessage(r.text, vectors[i]),
  }));
}
const dev = await scored('dev');
const test = await scored('test');

console.log(`emotion benchmark: ${dataDir}/goemotions (dev ${dev.length}, test ${test.length})`);
console.log(
  `settings: ${model.encoder.name}; heads trained on the train split (${JSON.stringify({ frustration: model.training.frustration?.l2, ekman: model.training.ekman?.l2, sentiment: model.training.sentiment?.l2 })} weight decay); thresholds from dev`,
);

// --- "Frustrated" -------------------------------------------------------------------------

const FORMER_SIGNALS = ['frustration', 'shouting', 'profanity'];
function frustrated(rows, name) {
  const gold = rows.map(isFrustrated);
  const t = model.frustration.threshold;
  const lines = [
    [
      'learned score',
      binaryAt(
        rows.map((r) => r.score.emotions.frustration),
        gold,
        t,
      ),
    ],
    [
      'learned + support signals',
      binaryAt(
        rows.map((r) => r.score.frustration),
        gold,
        t,
      ),
    ],
    [
      'former: a frustration/shouting/profanity signal',
      binaryAt(
        rows.map((r) => (r.score.signals.some((s) => FORMER_SIGNALS.includes(s)) ? 1 : 0)),
        gold,
        1,
      ),
    ],
    [
      'former decider rule: valence ≤ -0.5 and a signal',
      binaryAt(
        rows.map((r) =>
          r.score.valence <= -0.5 && r.score.signals.some((s) => FORMER_SIGNALS.includes(s))
            ? 1
            : 0,
        ),
        gold,
        1,
      ),
    ],
  ];
  console.log(
    `GoEmotions ${name}: "frustrated" (${gold.filter(Boolean).length} of ${rows.length} comments; threshold ${t} from dev)`,
  );
  for (const [label, m] of lines)
    console.log(
      `  ${label.padEnd(50)} F1 ${f3(m.f1)}  precision ${f3(m.precision)}  recall ${f3(m.recall)}` +
        (label === 'learned score' ? '  goal ≥ 0.60' : ''),
    );
}
frustrated(test, 'test');

// --- Ekman and sentiment ------------------------------------------------------------------

function ekman(rows) {
  const per = EKMAN_CLASSES.map((c, k) =>
    binaryAt(
      rows.map((r) => r.score.emotions.ekman[c]),
      rows.map((r) => hasEkman(r, c)),
      model.ekman.thresholds[k],
    ),
  );
  const macro = per.reduce((a, m) => a + m.f1, 0) / per.length;
  console.log(
    `GoEmotions test: Ekman's 6 emotions + neutral (multi-label, per-class dev thresholds)`,
  );
  console.log(
    `  macro-F1 ${f3(macro)}  paper (fine-tuned BERT-base): 0.64   per class: ` +
      EKMAN_CLASSES.map((c, k) => `${c} ${per[k].f1.toFixed(2)}`).join(', '),
  );
}
ekman(test);

function sentiment(rows) {
  const kept = rows.filter((r) => sentimentOf(r) >= 0);
  const names = ['negative', 'neutral', 'positive'];
  const m = multiclass(
    kept.map(sentimentOf),
    kept.map((r) => names.indexOf(r.score.label)),
    3,
  );
  console.log(
    `GoEmotions test: 3-class sentiment label (${kept.length} comments without mixed polarity): macro recall ${f3(m.macroRecall)}  macro-F1 ${f3(m.macroF1)}  ` +
      `(paper, 4 classes with ambiguous: macro-F1 0.69)`,
  );
}
sentiment(test);

// --- The decider's thresholds -------------------------------------------------------------

/** Comments negative in sentiment whose emotions are none of the frustration ones (sadness, fear, …). */
const merelyNegative = (r) => sentimentOf(r) === 0 && !isFrustrated(r);
const calm = (r) => !isFrustrated(r) && sentimentOf(r) >= 1;

function messageTable(rows, name) {
  const gold = rows.map(isFrustrated);
  const values = rows.map((r) => r.score.frustration);
  const negative = rows.filter(merelyNegative);
  const calmRows = rows.filter(calm);
  console.log(
    `  ${name}, one message (${negative.length} merely negative comments: sadness, fear, remorse… without anger, annoyance, disappointment, disapproval; ${calmRows.length} calm ones):`,
  );
  for (const t of [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9]) {
    const m = binaryAt(values, gold, t);
    const neg = negative.filter((r) => r.score.frustration >= t).length / negative.length;
    const quiet = calmRows.filter((r) => r.score.frustration >= t).length / calmRows.length;
    console.log(
      `    ≥ ${t.toFixed(2)}: precision ${f3(m.precision)}  recall ${f3(m.recall)}  merely negative handed off ${pct(neg).padStart(6)}  calm ${pct(quiet).padStart(6)}` +
        (t === shipped.message ? '   ← frustratedMessage' : ''),
    );
  }
}

/** A seeded generator (mulberry32), so the simulated conversations are the same on every run. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The turn (1-based) at which a conversation of these comments hands off on frustration, or 0. */
function handoffTurn(turns, thresholds) {
  const earlier = [];
  for (let i = 0; i < turns.length; i++) {
    const r = turns[i];
    const s = scoreInConversation(earlier, { messageId: `m${i}`, text: r.text, vector: r.vector });
    if (s.frustration >= thresholds.message || (s.trajectory.frustration ?? 0) >= thresholds.trend)
      return i + 1;
    earlier.push({
      messageId: `m${i}`,
      text: r.text,
      valence: s.valence,
      frustration: s.frustration,
    });
  }
  return 0;
}

function conversations(rows, name) {
  const n = Number(args.conversations);
  const random = seeded(7);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const angry = rows.filter((r) => isFrustrated(r));
  const calmRows = rows.filter(calm);
  const negative = rows.filter(merelyNegative);
  const sets = {
    frustrated: Array.from({ length: n }, () => [pick(angry), pick(angry), pick(angry)]),
    oneNegative: Array.from({ length: n }, () => {
      const turns = [pick(calmRows), pick(calmRows), pick(calmRows)];
      turns[Math.floor(random() * 3)] = pick(negative);
      return turns;
    }),
    oneFrustrated: Array.from({ length: n }, () => {
      const turns = [pick(calmRows), pick(calmRows), pick(calmRows)];
      turns[Math.floor(random() * 3)] = pick(angry);
      return turns;
    }),
  };
  console.log(
    `  ${name}, conversations of 3 customer turns simulated from comments (${n} each, seeded):`,
  );
  const grid = [...new Set([0.4, 0.45, 0.5, 0.55, 0.6, shipped.trend])]
    .filter(Number.isFinite)
    .sort();
  for (const trend of grid) {
    const thresholds = { message: shipped.message, trend };
    const turns = Object.fromEntries(
      Object.entries(sets).map(([k, list]) => [k, list.map((c) => handoffTurn(c, thresholds))]),
    );
    const by = (k, turn) => turns[k].filter((t) => t > 0 && t <= turn).length / n;
    console.log(
      `    trend ≥ ${trend.toFixed(2)}: 3 frustrated turns handed off by turn 2 ${pct(by('frustrated', 2)).padStart(6)}, by turn 3 ${pct(by('frustrated', 3)).padStart(6)};` +
        ` calm + 1 merely negative ${pct(by('oneNegative', 3)).padStart(5)}; calm + 1 frustrated ${pct(by('oneFrustrated', 3)).padStart(6)}` +
        (trend === shipped.trend ? '   ← frustratedTrend' : ''),
    );
  }
}

console.log(
  `The decider's frustration rule (policy/default.yaml: frustratedMessage ${shipped.message}, frustratedTrend ${shipped.trend}; a message hands off when its score or the smoothed score reaches its threshold):`,
);
for (const [rows, name] of [
  [dev, 'dev (where they were chosen)'],
  [test, 'test'],
]) {
  messageTable(rows, name);
  conversations(rows, name);
}

// --- Cost ---------------------------------------------------------------------------------

const sample = Number(args['latency-sample']);
const encodeMs = [];
const classifyMs = [];
for (let i = 0; i < sample; i++) {
  const { text } = test[Math.floor((i * test.length) / sample)];
  const t0 = performance.now();
  const [vector] = await encoder.embed([text]);
  const t1 = performance.now();
  scoreMessage(text, vector);
  const t2 = performance.now();
  encodeMs.push(t1 - t0);
  classifyMs.push(t2 - t1);
}
const total = encodeMs.map((e, i) => e + classifyMs[i]);
const ms = (list) => `${percentile(list, 50).toFixed(2)} / ${percentile(list, 99).toFixed(2)} ms`;
console.log(
  `cost per message, one at a time (${sample} test comments): encode + score p50 / p99 ${ms(total)}  (encode ${ms(encodeMs)}, score: VADER, signals, heads ${ms(classifyMs)})`,
);
