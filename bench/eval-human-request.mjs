// node bench/eval-human-request.mjs [--json results.json]
// Measures the escalation decider's detection of an explicit request for a
// person (services/escalation-decider/src/domain/human-request.ts; build it
// first with `npm run build`) on the Bitext customer-support dev split, kept
// outside the repository in ../shared/data (or $SHARED_DATA_DIR). The dev file
// is for measuring only: nothing here trains on it, and the classifier's
// threshold was chosen on the corpus in services/escalation-decider/corpus.
//
// A row of intent contact_human_agent is a request; every other row is not.
// contact_customer_service ("how do I contact customer service?") is reported
// apart, and precision is given both without those rows and counting them as
// not-requests: the decider's rule is that asking how or where to reach the
// company is no request, but that asking to talk to customer service is, and
// Bitext's intent holds both.
//
// Three detectors: the regex the decider had before (a copy, below), the
// lexicon layers alone (negations, then the lexicon), and the layered detector
// with the classifier on the project's sentence encoder (the one the model was
// trained with).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseCsvRows } from 'csv-parse/sync';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { json: { type: 'string' } } });

const dataDir = process.env.SHARED_DATA_DIR
  ? resolve(process.env.SHARED_DATA_DIR)
  : resolve(root, '..', 'shared', 'data');
const devFile = join(dataDir, 'bitext_customer_support', 'bitext_dev.csv');
if (!existsSync(devFile)) {
  console.log(`SKIPPED: ${devFile} is absent (set SHARED_DATA_DIR)`);
  process.exit(0);
}

const dist = join(root, 'services', 'escalation-decider', 'dist');
let detection, classifier, encoderLib, modelFile;
try {
  detection = require(join(dist, 'domain', 'human-request.js'));
  classifier = require(join(dist, 'domain', 'human-request', 'classifier.js'));
  modelFile = require(join(dist, 'domain', 'human-request', 'model.json'));
  encoderLib = require('@support/encoder');
} catch (error) {
  console.error('cannot load the escalation decider: build it first with `npm run build`');
  throw error;
}

/** The decider's detector before issue 14 (one regex per language), kept here to compare. */
const OLD_PATTERNS = [
  /\b(talk|speak|chat|connect|transfer|put|get)\b.{0,25}\b(human|person|agent|representative|rep|operator|someone real|real person|somebody|member of (your )?(staff|team))\b|\b(human|real person|live agent|agent|operator)\s*(please|pls|now)\b|\bescalate (this|me)\b|^\s*(human|agent|operator|representative)\s*[.!?]*\s*$/i,
  /\b(mit|einen?)\b.{0,30}\b(mensch(en)?|mitarbeiter(in)?|berater(in)?|kundenberater|menschlichen|echten person)\b|\bmensch bitte\b/i,
  /\b(parler|discuter)\b.{0,30}\b(humain|personne|conseill(er|ère)|agent|opérateur|quelqu'un)\b|\bun humain\b/i,
  /\b(hablar|comunicarme|pasar)\b.{0,30}\b(humano|persona|agente|operador(a)?|asesor(a)?)\b/i,
  /\b(parlare|passare)\b.{0,30}\b(umano|persona|operatore|operatrice|consulente)\b/i,
  /\b(spreken|praten)\b.{0,30}\b(mens|medewerker|persoon)\b|\bmet een (mens|medewerker)\b/i,
  /\b(falar|conversar)\b.{0,30}\b(humano|pessoa|atendente|agente|operador)\b/i,
  /\b(rozmawiać|porozmawiać)\b.{0,30}\b(człowiekiem|konsultantem|osobą)\b/i,
  /\b(prata|tala)\b.{0,30}\b(människa|person|handläggare)\b/i,
];
const oldRegex = async (text) => OLD_PATTERNS.some((re) => re.test(text));

const REQUEST = 'contact_human_agent';
const CUSTOMER_SERVICE = 'contact_customer_service';
const GOALS = { recall: 0.97, precision: 0.98 };

const rows = parseCsvRows(readFileSync(devFile), { columns: true, skip_empty_lines: true });
const texts = rows.map((r) => String(r.instruction));
const intents = rows.map((r) => String(r.intent));

// The corpus is written for the decider, never taken from this file: no line of it may be a row here.
const { readCorpus } = require(join(dist, 'adapters', 'human-request.js'));
const { corpusExamples } = require(join(dist, 'domain', 'human-request', 'corpus.js'));
const comparable = (t) =>
  t
    .toLowerCase()
    .replace(/[^\p{L}\p{N} ]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
const devTexts = new Set(texts.map(comparable));
const shared = corpusExamples(readCorpus()).filter((e) => devTexts.has(comparable(e.text)));

const model = classifier.parseHumanRequestModel(modelFile);
const encoder = await encoderLib.sentenceEncoder({ model: model.encoder.split('@')[0] });
if (encoder.name !== model.encoder)
  throw new Error(`the model was trained with ${model.encoder}, the encoder is ${encoder.name}`);
// Embedded in one call (coalesced batches), as a busy decider would.
const started = performance.now();
const vectors = await encoder.embed(texts.map((t) => detection.classifierInput(t) || ' '));
const embedMs = performance.now() - started;
const byText = new Map(texts.map((t, i) => [detection.classifierInput(t) || ' ', vectors[i]]));
const layered = detection.humanRequestDetector({
  model,
  embed: async (text) => byText.get(text) ?? (await encoder.embed([text]))[0],
});

const detectors = {
  'old regex': oldRegex,
  'lexicon layers': async (text) => !!detection.detectHumanRequest(text),
  'lexicon + classifier': async (text) => !!(await layered(text)),
};

const pct = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '  n/a');
const results = {
  corpusLinesInDev: shared.length,
  settings: {
    data: devFile,
    rows: rows.length,
    encoder: model.encoder,
    threshold: model.threshold,
    temperature: model.temperature,
    corpus: modelFile.corpus,
  },
  detectors: {},
};

async function measure(detect) {
  const fired = await Promise.all(texts.map((t) => detect(t)));
  const byIntent = {};
  intents.forEach((intent, i) => {
    const b = (byIntent[intent] ??= { rows: 0, fired: 0 });
    b.rows++;
    if (fired[i]) b.fired++;
  });
  const requests = byIntent[REQUEST] ?? { rows: 0, fired: 0 };
  const cs = byIntent[CUSTOMER_SERVICE] ?? { rows: 0, fired: 0 };
  const otherFp = Object.entries(byIntent)
    .filter(([intent]) => intent !== REQUEST && intent !== CUSTOMER_SERVICE)
    .reduce((n, [, b]) => n + b.fired, 0);
  const tp = requests.fired;
  return {
    recall: tp / requests.rows,
    precision: tp / (tp + otherFp),
    precisionCountingCustomerService: tp / (tp + otherFp + cs.fired),
    truePositives: tp,
    falsePositives: otherFp,
    customerService: { rows: cs.rows, fired: cs.fired },
    byIntent,
  };
}

console.log(
  `Bitext dev (${rows.length} rows, ${intents.filter((i) => i === REQUEST).length} ${REQUEST}); ` +
    `classifier ${model.encoder}, threshold ${model.threshold}, temperature ${model.temperature}, ` +
    `corpus ${modelFile.corpus.sha256.slice(0, 12)} (${modelFile.corpus.requests} requests, ${modelFile.corpus.notRequests} not); ` +
    `embedding ${(embedMs / 1000).toFixed(1)} s`,
);
console.log(
  `corpus lines equal to a dev row (case and punctuation aside): ${shared.length}` +
    shared.map((e) => `\n  ${e.source}: ${e.text}`).join(''),
);
console.log(
  `goals: recall >= ${pct(GOALS.recall)}, precision >= ${pct(GOALS.precision)} (${CUSTOMER_SERVICE} left out; also shown counting it as not-a-request)\n`,
);
const header = ['detector', 'recall', 'precision', 'precision w/ cs', 'false pos.', 'cs fired'];
console.log(header.map((h, i) => (i === 0 ? h.padEnd(22) : h.padStart(16))).join(''));
for (const [name, detect] of Object.entries(detectors)) {
  const r = await measure(detect);
  results.detectors[name] = r;
  const met = r.recall >= GOALS.recall && r.precision >= GOALS.precision ? '  goals met' : '';
  console.log(
    [
      name.padEnd(22),
      pct(r.recall).padStart(16),
      pct(r.precision).padStart(16),
      pct(r.precisionCountingCustomerService).padStart(16),
      String(r.falsePositives).padStart(16),
      `${r.customerService.fired}/${r.customerService.rows}`.padStart(16),
    ].join('') + met,
  );
}
console.log('\nfalse positives per intent (rows that fired / rows), complaint among them:');
const names = Object.keys(detectors);
console.log(['intent'.padEnd(28), ...names.map((n) => n.padStart(22))].join(''));
for (const intent of [...new Set(intents)].sort()) {
  if (intent === REQUEST) continue;
  const cells = names.map((n) => {
    const b = results.detectors[n].byIntent[intent];
    return `${b.fired}/${b.rows}`.padStart(22);
  });
  if (
    intent === CUSTOMER_SERVICE ||
    intent === 'complaint' ||
    cells.some((c) => !c.trim().startsWith('0/'))
  )
    console.log([intent.padEnd(28), ...cells].join(''));
}
console.log('(intents not listed: no detector fired on any of their rows)');

if (args.json) {
  const out = resolve(root, 'bench', 'results', args.json);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`\nwrote ${out}`);
}
