// node bench/handling.mjs [--rounds 2] (part of `npm run bench`; build first)
// Handling time per customer message of the two services that read every one, their own work
// only (no Kafka, no Redis: the pipeline bench's consumer-group table has the whole handling):
// - the AI responder's path (classify, retrieve, write, weigh: `proposeReply`), on its
//   calibration questions against the seeded demo knowledge base in PostgreSQL
//   (HANDLING_DATABASE_URL, default database support_bench_handling, recreated), with retrieval
//   by words alone (EMBEDDINGS_PROVIDER=none, the path before the neural encoder took part in
//   retrieval) and hybrid (local, the default);
// - the sentiment scorer's path, on the same messages as three-turn conversations: the lexical
//   layer alone (VADER and the support signals, all the scorer ran before the emotion heads) and
//   the whole score (encode, emotion heads, signals, trajectory);
// - the reference, measured in the same run: the sentence encoder alone, one message per call.
// The configurations take turns message by message, so that the machine's load weighs on all.
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile } from './scores.mjs';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '2' } } });
const ROUNDS = Number(args.rounds);
const WARMUP = 10;

const responder = (path) => require(join(root, 'services/ai-responder/dist', path));
const scorer = (path) => require(join(root, 'services/sentiment-scorer/dist', path));
const { openDatabase } = require('@support/service-kit');
const { sentenceEncoder } = require('@support/encoder');
const { MIGRATIONS_FOLDER } = responder('adapters/db/database.js');
const schema = responder('adapters/db/schema.js');
const { KnowledgeBase } = responder('adapters/db/knowledge-base.js');
const { seedKnowledgeBase } = responder('adapters/db/seed.js');
const { loadSupportClassifier } = responder('adapters/classifier.js');
const { proposeReply } = responder('adapters/understand.js');
const { extractiveGenerator } = responder('domain/respond.js');
const { scoreInConversation } = scorer('domain/score.js');
const { valenceOf } = scorer('domain/valence.js');
const { signalsOf } = scorer('domain/signals.js');

const messages = readFileSync(join(root, 'services/ai-responder/eval/kb-questions.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l).question);

const url =
  process.env.HANDLING_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support_bench_handling';
const database = await openDatabase(url, {
  schema,
  migrationsFolder: MIGRATIONS_FOLDER,
  pgSchema: 'ai_responder',
});
await database.pool.query('truncate ai_responder.articles cascade');
const encoder = await sentenceEncoder();
const embedder = {
  model: `local:${encoder.name}`,
  embed: async (texts, kind) => (await encoder.embed(texts, kind)).map((v) => Array.from(v)),
};
const hybridKb = new KnowledgeBase(database, embedder);
await seedKnowledgeBase(hybridKb);
const wordsKb = new KnowledgeBase(database, undefined);
const classifier = await loadSupportClassifier({ encoder });

const propose = (kb, text, i) =>
  proposeReply(
    { kb, classifier, generator: extractiveGenerator },
    { messageId: `m${i}`, text, locale: 'en', known: [], askedBefore: false },
    { topK: 3, defaultLocale: 'en' },
  );
const earlierOf = (i) =>
  [
    messages[(i + messages.length - 2) % messages.length],
    messages[(i + messages.length - 1) % messages.length],
  ].map((text, k) => ({ messageId: `e${k}`, text, valence: valenceOf(text), frustration: 0.2 }));

const paths = {
  'sentence encoder alone (reference)': async (text) => encoder.embed([text]),
  'responder, retrieval by words (EMBEDDINGS_PROVIDER=none)': (text, i) =>
    propose(wordsKb, text, i),
  'responder, hybrid retrieval (local, default)': (text, i) => propose(hybridKb, text, i),
  'scorer, lexical layer alone (VADER + signals)': async (text) => [
    valenceOf(text),
    signalsOf(text),
  ],
  'scorer, whole score (encode + heads + signals + trajectory)': async (text, i) => {
    const [vector] = await encoder.embed([text]);
    return scoreInConversation(earlierOf(i), { messageId: `m${i}`, text, vector });
  },
};
const times = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
let n = 0;
for (let round = 0; round < ROUNDS; round++)
  for (const [i, text] of messages.entries()) {
    n++;
    for (const [name, run] of Object.entries(paths)) {
      const started = performance.now();
      await run(text, i);
      if (n > WARMUP) times[name].push(performance.now() - started);
    }
  }
await database.pool.end();

console.log(
  `Handling time per message, in-process (no Kafka, no Redis): ${messages.length} calibration questions × ${ROUNDS} rounds, first ${WARMUP} not counted; encoder ${encoder.name}, cpus=${cpus().length}, node=${process.version}`,
);
console.log('\n| path | messages | p50 | p99 | mean | × encoder p50 |');
console.log('|---|---|---|---|---|---|');
const ref = percentile(times['sentence encoder alone (reference)'], 50);
for (const [name, list] of Object.entries(times)) {
  const p50 = percentile(list, 50);
  const mean = list.reduce((s, x) => s + x, 0) / list.length;
  console.log(
    `| ${name} | ${list.length} | ${p50.toFixed(2)} ms | ${percentile(list, 99).toFixed(2)} ms | ${mean.toFixed(2)} ms | ${(p50 / ref).toFixed(2)} |`,
  );
}
process.exit(0);
