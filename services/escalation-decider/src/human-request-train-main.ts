import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { sentenceEncoder } from '@support/encoder';
import {
  HUMAN_REQUEST_CORPUS_DIR,
  HUMAN_REQUEST_MODEL_FILE,
  readCorpus,
} from './adapters/human-request.js';
import { classifierAsked, classifierInput, detectHumanRequest } from './domain/human-request.js';
import { corpusExamples, corpusSha256 } from './domain/human-request/corpus.js';
import { trainHumanRequestModel, type TrainedModelFile } from './domain/human-request/training.js';

/**
 * `npm run train:human-request [-- --model <encoder id>] [--dry-run]` (after
 * `npm run build`): trains the request-for-a-person classifier from
 * corpus/human-request on the project's sentence encoder (ENCODER_MODEL, else
 * the default) and writes src/domain/human-request/model.json, with the
 * corpus's hash and the encoder's name; prints the held-out figures. Rebuild
 * afterwards so that dist/ carries the new weights.
 */
function print(model: TrainedModelFile, file: string | undefined): void {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const { classifier, layered } = model.heldOut;
  const line = (name: string, h: typeof layered) =>
    console.log(
      `  ${name}: recall ${pct(h.recall)}, false positives ${pct(h.falsePositiveRate)}, precision ${pct(h.precision)}` +
        ` (${pct(h.precisionAtPrior)} if ${pct(model.settings.reportPrior)} of messages were requests)`,
    );
  console.log(
    `corpus ${model.corpus.sha256.slice(0, 12)}: ${model.corpus.requests} requests, ${model.corpus.notRequests} not`,
  );
  console.log(`encoder ${model.encoder}; ${JSON.stringify(model.settings)}`);
  console.log(
    `held out (${model.settings.folds} folds) ${layered.requests} requests + ${layered.notRequests} not: temperature ${model.temperature}, threshold ${model.threshold}`,
  );
  line('classifier alone', classifier);
  line('lexicon, then classifier', layered);
  console.log(
    `  trade-off: ${model.heldOut.curve.map((c) => `${c.threshold}: ${pct(c.recall)}/${pct(c.precision)}`).join(', ')}`,
  );
  for (const t of layered.missed) console.log(`    missed: ${t}`);
  for (const t of layered.falsePositives) console.log(`    false positive: ${t}`);
  console.log(file ? `wrote ${file}` : 'dry run: nothing written');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
  });
  const files = readCorpus(HUMAN_REQUEST_CORPUS_DIR);
  const examples = corpusExamples(files)
    .map((e) => {
      const input = classifierInput(e.text);
      return { ...e, input, lexicon: !!detectHumanRequest(e.text), asked: classifierAsked(input) };
    })
    .filter((e) => e.input);
  const encoder = await sentenceEncoder(values.model ? { model: values.model } : {});
  const embeddings = await encoder.embed(examples.map((e) => e.input));
  const model = trainHumanRequestModel({
    examples,
    embeddings,
    encoder,
    corpusSha256: corpusSha256(files),
  });
  // One line for the weights: the file stays readable.
  const json = JSON.stringify({ ...model, weights: '@weights' }, null, 2).replace(
    '"@weights"',
    JSON.stringify(model.weights),
  );
  if (!values['dry-run']) writeFileSync(HUMAN_REQUEST_MODEL_FILE, `${json}\n`);
  print(model, values['dry-run'] ? undefined : relative(process.cwd(), HUMAN_REQUEST_MODEL_FILE));
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
