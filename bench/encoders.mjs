// node bench/encoders.mjs [--models id,id | --project] [--no-fetch] [--latency-sample 300]
//                         [--no-clinc] [--json encoders.json]
// Compares the sentence-embedding models libs/encoder can run (build first: `npm run build`),
// each in a fresh process so that load time and memory are its own, then their encode times in
// one process, model after model for each message, so that the machine's load weighs on all alike:
// - retrieval: the AI responder's calibration questions (services/ai-responder/eval/
//   kb-questions.jsonl, the answerable ones) against the published English articles of the seed
//   knowledge base (services/ai-responder/seed/kb/*.md), split into passages as the service
//   splits them and embedded as it embeds them (title, heading, text): is the article of the
//   most similar passage the expected one (top-1), is it among the first three articles (top-3),
//   and how well the best passage's similarity tells answerable questions from the rest (AUC);
// - classification on public data kept outside the repository (../shared/data or
//   $SHARED_DATA_DIR; skipped with a message when absent): Banking77 (train → test) and CLINC150
//   (in-scope train → in-scope test) by nearest centroid and by @support/intent's softmax
//   regression on the embeddings alone;
// - cost: encode time per message one at a time (p50/p99) and per message in batches of 32
//   (p50/p99 of batch time / 32) on Banking77 test messages (the calibration questions when the
//   data is absent), per KB passage one at a time, model load time, and resident memory.
// `--models` picks models (default: all), `--project` only the project's (ENCODER_MODEL or the
// default, as `npm run bench` runs it); the script fetches them first with
// deploy/local/models/fetch.sh (--all unless --project) unless --no-fetch.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseCsvRows } from 'csv-parse/sync';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    models: { type: 'string' },
    project: { type: 'boolean', default: false },
    worker: { type: 'string' },
    cost: { type: 'string' },
    'no-fetch': { type: 'boolean', default: false },
    'no-clinc': { type: 'boolean', default: false },
    'latency-sample': { type: 'string', default: '300' },
    json: { type: 'string' },
  },
});
const LATENCY_SAMPLE = Number(args['latency-sample']);
const BATCH = 32;
const dataDir = process.env.SHARED_DATA_DIR
  ? resolve(process.env.SHARED_DATA_DIR)
  : resolve(root, '..', 'shared', 'data');

function load(what, path, hint) {
  try {
    return require(path);
  } catch (error) {
    console.error(`cannot load ${what}: ${hint}`);
    throw error;
  }
}
const encoderLib = load('@support/encoder', '@support/encoder', 'build it first (`npm run build`)');

const percentile = (values, p) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const mb = (bytes) => bytes / 1024 / 1024;

// --- Parent: one child process per model, then the table --------------------------------------

async function main() {
  const ids = args.project
    ? [encoderLib.configuredModel().id]
    : args.models
      ? args.models.split(',')
      : Object.keys(encoderLib.MODELS);
  for (const id of ids) encoderLib.findModel(id);
  if (!args['no-fetch']) {
    const fetch = [join(root, 'deploy/local/models/fetch.sh'), ...(args.project ? [] : ['--all'])];
    const fetched = spawnSync('bash', fetch, { stdio: 'inherit' });
    if (fetched.status !== 0) process.exit(fetched.status ?? 1);
  }
  console.log(
    'sentence-encoder comparison — quality, load and memory in a fresh process per model; encode times in one process, in turn',
  );
  console.log(
    `settings: ONNX Runtime CPU, intra-op threads ${process.env.ENCODER_THREADS || 'default (cores)'} ` +
      `of ${cpus().length} cores, batch ≤ ${BATCH} texts and ≤ 8192 padded tokens, latency sample ` +
      `${LATENCY_SAMPLE} messages; load average at start ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  const rows = [];
  for (const id of ids) rows.push(await runWorker(['--worker', id], id));
  const latency = await runWorker(['--cost', ids.join(',')], 'encode times');
  for (const row of rows) {
    row.latency = latency[row.id];
    printRow(row);
  }
  printTable(rows);
  if (args.json) {
    const out = args.json.includes('/')
      ? resolve(args.json)
      : join(root, 'bench', 'results', basename(args.json));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ rows, loadavg: loadavg() }, null, 2)}\n`);
    console.log(`figures written to ${out}`);
  }
}

function runWorker(mode, what) {
  const forwarded = ['--latency-sample', String(LATENCY_SAMPLE)];
  if (args['no-clinc']) forwarded.push('--no-clinc');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...mode, ...forwarded], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1);
      if (code !== 0 || !last?.startsWith('{')) {
        reject(new Error(`worker for ${what} failed (exit ${code}):\n${out}`));
      } else resolvePromise(JSON.parse(last));
    });
  });
}

const pct = (x) => (x === null || x === undefined ? '  n/a' : (100 * x).toFixed(1).padStart(5));
const ms = (x) => (x === undefined ? 'n/a' : x.toFixed(2));

function printRow(r) {
  console.log(`\n${r.name} (${r.dimensions} dims, ${r.pooling} pooling, ≤ ${r.maxTokens} tokens)`);
  const q = r.retrieval;
  console.log(
    `  retrieval: ${q.questions} questions over ${q.passages} passages of ${q.articles} articles ` +
      `(mean ${q.passageTokens.toFixed(0)} tokens): top-1 ${pct(q.top1)}%, top-3 ${pct(q.top3)}%, ` +
      `answerable-vs-not AUC ${q.auc.toFixed(3)} (${q.unanswerable} others)`,
  );
  for (const [name, c] of Object.entries(r.classification)) {
    if (c.skipped) console.log(`  ${name}: SKIPPED (${c.skipped})`);
    else
      console.log(
        `  ${name}: train ${c.train}, test ${c.test}: nearest centroid ${pct(c.centroid)}%, ` +
          `softmax regression ${pct(c.softmax)}% (train ${(c.softmaxMs / 1000).toFixed(1)} s)`,
      );
  }
  const l = r.latency;
  console.log(
    `  cost: load ${r.loadMs.toFixed(0)} ms; per message alone p50 ${ms(l.single.p50)} / p99 ` +
      `${ms(l.single.p99)} ms (${l.single.n}, mean ${l.single.tokens.toFixed(1)} tokens); per ` +
      `message in batches of ${BATCH} p50 ${ms(l.batch.p50)} / p99 ${ms(l.batch.p99)} ms ` +
      `(${l.batch.n} batches); per passage alone p50 ${ms(l.passage.p50)} / p99 ${ms(l.passage.p99)} ms`,
  );
  console.log(
    `  memory: RSS ${mb(r.rss.before).toFixed(0)} MB before load, ${mb(r.rss.loaded).toFixed(0)} ` +
      `after, ${mb(r.rss.encoded).toFixed(0)} after encoding; peak ${mb(r.rss.peak).toFixed(0)} MB`,
  );
}

function printTable(rows) {
  const c = (r, set, key) => r.classification[set]?.[key];
  console.log(
    '\n| model | KB top-1 | KB top-3 | AUC | Banking77 centroid / softmax | CLINC150 centroid / softmax |' +
      ' alone p50 / p99 ms | batch-32 p50 / p99 ms/msg | passage p50 ms | load ms | RSS loaded / peak MB |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const l = r.latency;
    console.log(
      `| ${r.name} | ${pct(r.retrieval.top1).trim()} | ${pct(r.retrieval.top3).trim()} | ` +
        `${r.retrieval.auc.toFixed(3)} | ${pct(c(r, 'banking77', 'centroid')).trim()} / ` +
        `${pct(c(r, 'banking77', 'softmax')).trim()} | ${pct(c(r, 'clinc150', 'centroid')).trim()} / ` +
        `${pct(c(r, 'clinc150', 'softmax')).trim()} | ${ms(l.single.p50)} / ${ms(l.single.p99)} | ` +
        `${ms(l.batch.p50)} / ${ms(l.batch.p99)} | ${ms(l.passage.p50)} | ${r.loadMs.toFixed(0)} | ` +
        `${mb(r.rss.loaded).toFixed(0)} / ${mb(r.rss.peak).toFixed(0)} |`,
    );
  }
}

// --- Worker: everything about one model --------------------------------------------------------

async function worker(id) {
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const encoder = await encoderLib.OnnxSentenceEncoder.load({ model: id });
  const loadMs = performance.now() - started;
  const loaded = process.memoryUsage().rss;

  const kb = await knowledgeBase();
  const retrieval = await measureRetrieval(encoder, kb);
  const encoded = process.memoryUsage().rss;
  const classification = {
    banking77: await classifyBanking(encoder),
    clinc150: args['no-clinc'] ? { skipped: '--no-clinc' } : await classifyClinc(encoder),
  };
  const result = {
    id,
    name: encoder.name,
    dimensions: encoder.dimensions,
    pooling: encoder.model.pooling,
    maxTokens: encoder.model.maxTokens,
    loadMs,
    retrieval,
    classification,
    rss: { before, loaded, encoded, peak: process.resourceUsage().maxRSS * 1024 },
  };
  await encoder.close();
  console.log(JSON.stringify(result));
}

/** Encode times of every model in one process, interleaved, so that the machine's load affects all alike. */
async function costWorker(ids) {
  const encoders = [];
  for (const id of ids) encoders.push(await encoderLib.OnnxSentenceEncoder.load({ model: id }));
  const kb = await knowledgeBase();
  const messages = latencyMessages(kb);
  const latency = await measureLatency(encoders, messages, kb.passages);
  console.log(JSON.stringify(Object.fromEntries(ids.map((id, i) => [id, latency[i]]))));
}

async function knowledgeBase() {
  const service = join(root, 'services', 'ai-responder');
  const hint = 'build it first (`npm run build`)';
  const { parseMarkdown } = load(
    'the AI responder',
    join(service, 'dist/domain/kb/import.js'),
    hint,
  );
  const { splitArticle } = load(
    'the AI responder',
    join(service, 'dist/domain/kb/passages.js'),
    hint,
  );
  const dir = join(service, 'seed', 'kb');
  const passages = [];
  const articles = new Set();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const parsed = parseMarkdown(readFileSync(join(dir, file), 'utf8'), file, {
      status: 'published',
      locale: 'en',
    });
    for (const a of parsed.articles) {
      // Questions are in English and the service retrieves per language; drafts and retired
      // articles never answer.
      if (a.status !== 'published' || (a.locale ?? 'en').split('-')[0] !== 'en') continue;
      articles.add(a.id);
      for (const p of await splitArticle(a.body)) {
        passages.push({ article: a.id, text: `${a.title}\n${p.heading}\n${p.text}` });
      }
    }
  }
  const questions = readFileSync(join(service, 'eval', 'kb-questions.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  return { passages, articles, questions };
}

function latencyMessages(kb) {
  const file = join(dataDir, 'banking77', 'test.csv');
  const texts = existsSync(file)
    ? parseCsv(readFileSync(file, 'utf8')).map((r) => r.text)
    : kb.questions.map((q) => q.question);
  const n = Math.min(LATENCY_SAMPLE, texts.length);
  return Array.from({ length: n }, (_, i) => texts[Math.floor((i * texts.length) / n)]);
}

/** Times each call of `call(encoder, item)` for every encoder in turn, item by item. */
async function timeInTurn(encoders, items, call) {
  const times = encoders.map(() => []);
  for (const item of items) {
    for (const [i, encoder] of encoders.entries()) {
      const start = performance.now();
      await call(encoder, item);
      times[i].push(performance.now() - start);
    }
  }
  return times;
}

const summary = (times) => ({
  p50: percentile(times, 50),
  p99: percentile(times, 99),
  n: times.length,
});

async function measureLatency(encoders, messages, passages) {
  for (const encoder of encoders) await encoder.embed(messages.slice(0, BATCH)); // warm-up
  const single = await timeInTurn(encoders, messages, (e, m) => e.embed([m]));
  const batches = [];
  const texts = [...messages, ...messages, ...messages];
  for (let i = 0; i + BATCH <= texts.length; i += BATCH) batches.push(texts.slice(i, i + BATCH));
  const batched = await timeInTurn(encoders, batches, (e, b) => e.embed(b));
  const passageTimes = await timeInTurn(
    encoders,
    passages.map((p) => p.text),
    (e, p) => e.embed([p], 'passage'),
  );
  return encoders.map((encoder, i) => ({
    single: {
      ...summary(single[i]),
      tokens: messages.reduce((s, m) => s + encoder.tokenize(m).length, 0) / messages.length,
    },
    batch: summary(batched[i].map((t) => t / BATCH)),
    passage: summary(passageTimes[i]),
  }));
}

const dot = (a, b) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Probability that a random positive scores above a random negative (ties count half). */
function auc(positives, negatives) {
  let wins = 0;
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (positives.length * negatives.length);
}

async function measureRetrieval(encoder, kb) {
  const passageVectors = await encoder.embed(
    kb.passages.map((p) => p.text),
    'passage',
  );
  const answerable = kb.questions.filter(
    (q) => q.kind === 'answerable' && kb.articles.has(q.expected),
  );
  const others = kb.questions.filter((q) => q.kind !== 'answerable');
  const rank = async (qs) => {
    const vectors = await encoder.embed(qs.map((q) => q.question));
    return vectors.map((v) => {
      const best = new Map();
      passageVectors.forEach((p, i) => {
        const s = dot(v, p);
        const a = kb.passages[i].article;
        if (!(best.get(a) >= s)) best.set(a, s);
      });
      return [...best.entries()].sort((x, y) => y[1] - x[1]);
    });
  };
  const ranked = await rank(answerable);
  const rankedOthers = await rank(others);
  let top1 = 0;
  let top3 = 0;
  ranked.forEach((r, i) => {
    const at = r.findIndex(([a]) => a === answerable[i].expected);
    if (at === 0) top1++;
    if (at >= 0 && at < 3) top3++;
  });
  const tokens =
    kb.passages.reduce((s, p) => s + encoder.tokenize(p.text, 'passage').length, 0) /
    kb.passages.length;
  return {
    questions: answerable.length,
    unanswerable: others.length,
    passages: kb.passages.length,
    articles: kb.articles.size,
    passageTokens: tokens,
    top1: top1 / answerable.length,
    top3: top3 / answerable.length,
    auc: auc(
      ranked.map((r) => r[0][1]),
      rankedOthers.map((r) => r[0][1]),
    ),
  };
}

// --- Classification ---------------------------------------------------------------------------

async function classify(encoder, train, test) {
  const [trainVectors, testVectors] = [
    await encoder.embed(train.map((e) => e.text)),
    await encoder.embed(test.map((e) => e.text)),
  ];
  // Nearest centroid: the mean vector per label, renormalised; cosine to each.
  const sums = new Map();
  train.forEach((e, i) => {
    const s = sums.get(e.label) ?? new Float32Array(encoder.dimensions);
    trainVectors[i].forEach((x, j) => (s[j] += x));
    sums.set(e.label, s);
  });
  const centroids = [...sums.entries()].map(([label, s]) => [label, encoderLib.l2Normalize(s)]);
  let centroidRight = 0;
  testVectors.forEach((v, i) => {
    let best = -Infinity;
    let label;
    for (const [l, c] of centroids) {
      const s = dot(v, c);
      if (s > best) [best, label] = [s, l];
    }
    if (label === test[i].label) centroidRight++;
  });
  // Softmax regression on the embeddings alone (the intent library's trainer, its defaults).
  const { trainClassifier } = load(
    '@support/intent',
    '@support/intent',
    'build it first (`npm run build`)',
  );
  const started = performance.now();
  const model = await trainClassifier(train, {
    encoder,
    embeddings: { examples: trainVectors },
    features: { words: 0, chars: 0 },
    calibrate: false,
    unknownTextIsOutOfScope: false,
    outOfScopeThreshold: { rule: 'fixed', value: 0 },
  });
  const softmaxMs = performance.now() - started;
  const preds = model.classifyEmbedded(
    test.map((e) => e.text),
    testVectors,
  );
  const softmaxRight = preds.filter((p, i) => p.ranked[0].label === test[i].label).length;
  return {
    train: train.length,
    test: test.length,
    centroid: centroidRight / test.length,
    softmax: softmaxRight / test.length,
    softmaxMs,
  };
}

async function classifyBanking(encoder) {
  const dir = join(dataDir, 'banking77');
  if (!existsSync(join(dir, 'train.csv'))) return { skipped: `${dir}/train.csv absent` };
  const read = (f) =>
    parseCsv(readFileSync(join(dir, f), 'utf8')).map((r) => ({ text: r.text, label: r.category }));
  return classify(encoder, read('train.csv'), read('test.csv'));
}

async function classifyClinc(encoder) {
  const file = join(dataDir, 'clinc150', 'data_full.json');
  if (!existsSync(file)) return { skipped: `${file} absent` };
  const data = JSON.parse(readFileSync(file, 'utf8'));
  const pairs = (list) => list.map(([text, label]) => ({ text, label }));
  return classify(encoder, pairs(data.train), pairs(data.test));
}

/** CSV rows as objects keyed by the header row (csv-parse: RFC 4180 quoting, newlines inside quotes). */
function parseCsv(text) {
  return parseCsvRows(text, { columns: true, skip_empty_lines: true, relax_column_count: true });
}

// Last, so that every helper above is initialised.
if (args.worker) await worker(args.worker);
else if (args.cost) await costWorker(args.cost.split(','));
else await main();
