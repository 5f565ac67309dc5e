/**
 * `npm run eval` (or `node services/ai-responder/dist/eval/calibrate.js [--write]`):
 * measures the AI responder on questions written for the demo knowledge base
 * (services/ai-responder/eval/kb-questions.jsonl: answerable ones with the
 * article that answers them, unanswerable ones and prompt injections), and
 * the intent classifier on its held-out set (corpus/eval/intents.jsonl).
 *
 * Confidence is a logistic model over the evidence. Its figures here are
 * honest: every question's confidence comes from a model fitted on the other
 * folds (5-fold cross-validation). With --write, the model fitted on all the
 * questions, and the threshold that keeps wrong answers under 5%, are saved
 * to src/domain/confidence-model.json, which the service ships with.
 *
 * Uses PostgreSQL (DATABASE_URL, default database support_eval, recreated).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, openDatabase } from '@support/service-kit';
import { configSchema } from '../config.js';
import { createEmbedder } from '../adapters/embeddings.js';
import { loadSupportClassifier } from '../adapters/classifier.js';
import { MIGRATIONS_FOLDER, SERVICE_ROOT, type KbDatabase } from '../adapters/db/database.js';
import { KnowledgeBase } from '../adapters/db/knowledge-base.js';
import * as schema from '../adapters/db/schema.js';
import { seedKnowledgeBase } from '../adapters/db/seed.js';
import { FEATURES, featureVector, type ConfidenceModel } from '../domain/confidence.js';
import { extractiveGenerator } from '../domain/respond.js';
import { proposeReply } from '../adapters/understand.js';

const { values: args } = parseArgs({
  options: {
    write: { type: 'boolean', default: false },
    folds: { type: 'string', default: '5' },
    'max-wrong': { type: 'string', default: '0.05' },
    l2: { type: 'string', default: '0.001' },
  },
});
const FOLDS = Number(args.folds);
const MAX_WRONG = Number(args['max-wrong']);
const L2 = Number(args.l2);

interface Question {
  id: string;
  question: string;
  expected: string | null;
  kind: 'answerable' | 'unanswerable' | 'injection';
}

interface Case {
  q: Question;
  x: number[] | undefined;
  /** The cited article is the expected one. */
  correct: boolean;
  answered: boolean;
  confidence: number;
  cited?: string;
}

const readJsonl = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);

/** Plain logistic regression by gradient descent with a small L2 penalty; deterministic. */
export function fitLogistic(
  xs: number[][],
  ys: number[],
  l2 = 0.01,
  steps = 4000,
): ConfidenceModel {
  const d = xs[0]?.length ?? 0;
  const w = new Array<number>(d).fill(0);
  let b = 0;
  const lr = 0.5;
  for (let step = 0; step < steps; step++) {
    const gw = new Array<number>(d).fill(0);
    let gb = 0;
    for (let i = 0; i < xs.length; i++) {
      let z = b;
      for (let j = 0; j < d; j++) z += w[j] * xs[i][j];
      const err = 1 / (1 + Math.exp(-z)) - ys[i];
      for (let j = 0; j < d; j++) gw[j] += err * xs[i][j];
      gb += err;
    }
    for (let j = 0; j < d; j++) w[j] -= lr * (gw[j] / xs.length + l2 * w[j]);
    b -= (lr * gb) / xs.length;
  }
  return { bias: b, weights: w, threshold: 0.5 };
}

const predict = (m: ConfidenceModel, x: number[]) => {
  let z = m.bias;
  x.forEach((v, j) => (z += m.weights[j] * v));
  return 1 / (1 + Math.exp(-z));
};

/** The lowest threshold at which, among answers at or above it, fewer than `maxWrong` are wrong. */
export function safeThreshold(
  cases: { confidence: number; correct: boolean }[],
  maxWrong: number,
): number {
  const sorted = [...cases].sort((a, b) => b.confidence - a.confidence);
  let best = 1;
  let wrong = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (!sorted[i].correct) wrong++;
    const next = sorted[i + 1];
    if (next && next.confidence === sorted[i].confidence) continue;
    if (wrong / (i + 1) < maxWrong) best = sorted[i].confidence;
  }
  return best;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function main(): Promise<void> {
  const questionsFile = join(SERVICE_ROOT, 'eval', 'kb-questions.jsonl');
  const questions = readJsonl<Question>(questionsFile);
  const url = process.env.EVAL_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support_eval';
  const started = Date.now();
  const database = (await openDatabase(url, {
    schema,
    migrationsFolder: MIGRATIONS_FOLDER,
    pgSchema: 'ai_responder',
  })) as KbDatabase;
  await database.pool.query('truncate ai_responder.articles cascade');
  // Retrieval as the service runs it: EMBEDDINGS_PROVIDER (default local: BM25 fused with the
  // sentence encoder's passage vectors; none: BM25 alone).
  const embedder = await createEmbedder(loadConfig(configSchema, process.env));
  const kb = new KnowledgeBase(database, embedder);
  const seeded = await seedKnowledgeBase(kb);
  const classifier = await loadSupportClassifier();

  // 1. Run every question through the responder (no intake: we weigh its answers).
  const cases: Case[] = [];
  for (const q of questions) {
    const p = await proposeReply(
      { kb, classifier, generator: extractiveGenerator },
      { messageId: q.id, text: q.question, locale: 'en', known: [], askedBefore: true },
      { topK: 3, defaultLocale: 'en' },
    );
    const answered = p.kind === 'answer';
    const cited = p.citations[0]?.articleId;
    cases.push({
      q,
      x: answered ? featureVector(p.evidence) : undefined,
      answered,
      correct: answered && q.expected !== null && cited === q.expected,
      confidence: 0,
      cited,
    });
  }

  // 2. Out-of-fold confidences.
  const answeredCases = cases.filter((c) => c.answered);
  // Case i is in fold i mod FOLDS.
  for (let f = 0; f < FOLDS; f++) {
    const train = answeredCases.filter((_, i) => i % FOLDS !== f);
    const model = fitLogistic(
      train.map((c) => c.x!),
      train.map((c) => (c.correct ? 1 : 0)),
      L2,
    );
    answeredCases.forEach((c, i) => {
      if (i % FOLDS === f) c.confidence = predict(model, c.x!);
    });
  }

  // 3. Report.
  const byKind = (k: Question['kind']) => cases.filter((c) => c.q.kind === k);
  console.log(
    `AI responder evaluation: ${questions.length} questions written for the demo knowledge base`,
  );
  console.log(
    `  settings: ${seeded.length} articles seeded, retrieval top 3 (${embedder ? `BM25 + ${embedder.model}` : 'BM25 only'}), extractive answers, ${FOLDS}-fold cross-validated confidence, max wrong ${pct(MAX_WRONG)}`,
  );
  for (const k of ['answerable', 'unanswerable', 'injection'] as const) {
    const list = byKind(k);
    const top1 = list.filter((c) => c.correct).length;
    console.log(
      `  ${k.padEnd(12)} ${String(list.length).padStart(4)}  ${k === 'answerable' ? `right article cited: ${pct(top1 / list.length)}` : `got an answer candidate: ${pct(list.filter((c) => c.answered).length / list.length)}`}`,
    );
  }
  console.log('\nReliability (out-of-fold confidence of the answers proposed):');
  console.log('  confidence   answers  mean conf  correct');
  let ece = 0;
  for (let b = 0; b < 10; b++) {
    const lo = b / 10;
    const hi = (b + 1) / 10;
    const inBin = answeredCases.filter(
      (c) => c.confidence >= lo && (c.confidence < hi || (b === 9 && c.confidence <= 1)),
    );
    if (inBin.length === 0) {
      console.log(`  ${lo.toFixed(1)}–${hi.toFixed(1)}    ${'0'.padStart(7)}`);
      continue;
    }
    const mean = inBin.reduce((s, c) => s + c.confidence, 0) / inBin.length;
    const acc = inBin.filter((c) => c.correct).length / inBin.length;
    ece += (inBin.length / answeredCases.length) * Math.abs(mean - acc);
    console.log(
      `  ${lo.toFixed(1)}–${hi.toFixed(1)}    ${String(inBin.length).padStart(7)}  ${mean.toFixed(3).padStart(9)}  ${pct(acc).padStart(7)}`,
    );
  }
  console.log(`  expected calibration error: ${ece.toFixed(3)}`);
  const threshold = safeThreshold(answeredCases, MAX_WRONG);
  const released = answeredCases.filter((c) => c.confidence >= threshold);
  const wrong = released.filter((c) => !c.correct);
  const answerable = byKind('answerable');
  console.log(
    `\nThreshold keeping wrong answers under ${pct(MAX_WRONG)}: ${threshold.toFixed(3)}` +
      `  (released ${released.length}, wrong ${wrong.length} = ${pct(wrong.length / Math.max(1, released.length))};` +
      ` answerable questions answered right: ${pct(released.filter((c) => c.correct).length / answerable.length)};` +
      ` unanswerable or injection released: ${wrong.filter((c) => c.q.expected === null).length})`,
  );
  const strict = safeThreshold(answeredCases, 0.01);
  const strictReleased = answeredCases.filter((c) => c.confidence >= strict);
  console.log(
    `Threshold keeping wrong answers under 1% (the decider's vipMinConfidence): ${strict.toFixed(3)}` +
      `  (released ${strictReleased.length}, wrong ${strictReleased.filter((c) => !c.correct).length})`,
  );
  const rightFirst = answerable.filter((c) => c.correct).length / answerable.length;
  const answeredRight = released.filter((c) => c.correct).length / answerable.length;
  console.log(
    `  goals: right article first ${pct(rightFirst)} (goal >= 90%, was 79% with BM25 alone and the former encoder);` +
      ` answered right with no person at < ${pct(MAX_WRONG)} wrong ${pct(answeredRight)} (goal >= 50%, was 26%)`,
  );
  for (const c of wrong)
    console.log(
      `    wrong above threshold: ${c.q.id} (${c.q.kind}) cited ${c.cited} expected ${c.q.expected}: ${c.q.question.slice(0, 80)}`,
    );

  // 4. The intent classifier on its held-out set.
  const held = readJsonl<{ text: string; intent: string }>(
    join(SERVICE_ROOT, 'corpus', 'eval', 'intents.jsonl'),
  );
  let right = 0;
  const perIntent = new Map<string, { n: number; ok: number }>();
  for (const h of held) {
    const c = await classifier.classify(h.text);
    const ok = c.intent === h.intent;
    if (ok) right++;
    const e = perIntent.get(h.intent) ?? { n: 0, ok: 0 };
    e.n++;
    if (ok) e.ok++;
    perIntent.set(h.intent, e);
  }
  console.log(
    `\nSupport intent classifier on its held-out set (${held.length} messages written apart from the training corpus): accuracy ${pct(right / held.length)}`,
  );
  console.log(`  ${[...perIntent].map(([k, v]) => `${k} ${pct(v.ok / v.n)}`).join(', ')}`);

  if (args.write) {
    const model = fitLogistic(
      answeredCases.map((c) => c.x!),
      answeredCases.map((c) => (c.correct ? 1 : 0)),
      L2,
    );
    for (const c of answeredCases) c.confidence = predict(model, c.x!);
    const file = join(SERVICE_ROOT, 'src', 'domain', 'confidence-model.json');
    const json = {
      note: 'Fitted by `npm run eval -- --write` (services/ai-responder/src/eval/calibrate.ts) on services/ai-responder/eval/kb-questions.jsonl; the threshold is the cross-validated one that kept wrong answers under 5%.',
      features: FEATURES,
      bias: Number(model.bias.toFixed(4)),
      weights: model.weights.map((w) => Number(w.toFixed(4))),
      threshold: Number(threshold.toFixed(3)),
    };
    writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  }
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  await database.pool.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
