import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { lazySentenceEncoder } from '@support/encoder';
import { JsonLogger } from '@support/service-kit';
import {
  humanRequestDetector,
  lexiconDetector,
  type HumanRequest,
  type HumanRequestDetector,
} from '../domain/human-request.js';
import {
  parseHumanRequestModel,
  type HumanRequestModel,
} from '../domain/human-request/classifier.js';
import type { CorpusFile } from '../domain/human-request/corpus.js';
import modelFile from '../domain/human-request/model.json';

/** The corpus the classifier is trained from (beside src/ and dist/). */
export const HUMAN_REQUEST_CORPUS_DIR = join(__dirname, '..', '..', 'corpus', 'human-request');
/** Where the training writes the model (in src/, committed; the build copies it to dist/). */
export const HUMAN_REQUEST_MODEL_FILE = join(
  __dirname,
  '..',
  '..',
  'src',
  'domain',
  'human-request',
  'model.json',
);

/** The committed model (src/domain/human-request/model.json). */
export const humanRequestModel = (): HumanRequestModel => parseHumanRequestModel(modelFile);

/** The corpus's .txt files, paths relative to `dir` with '/' separators. */
export function readCorpus(dir = HUMAN_REQUEST_CORPUS_DIR): CorpusFile[] {
  const files: CorpusFile[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.txt'))
        files.push({
          path: relative(dir, path).split(sep).join('/'),
          text: readFileSync(path, 'utf8'),
        });
    }
  };
  walk(dir);
  return files;
}

/** The id of the encoder model a recorded encoder name (`<id>@<version>`) names. */
const modelIdOf = (encoderName: string) => encoderName.split('@')[0];

/**
 * The layered detector over the committed model and the process's sentence
 * encoder for it (loaded once per process and shared, on the first text the
 * classifier is asked about; a missing model file is an error at once, naming
 * the command that fetches it).
 */
export async function loadHumanRequestDetector(): Promise<{
  detect: HumanRequestDetector;
  model: HumanRequestModel;
}> {
  const model = humanRequestModel();
  const encoder = lazySentenceEncoder({ model: modelIdOf(model.encoder) });
  if (encoder.name !== model.encoder)
    throw new Error(
      `the human-request model was trained with ${model.encoder}, the encoder is ${encoder.name}: run npm run train:human-request`,
    );
  const detect = humanRequestDetector({
    model,
    embed: async (text) => (await encoder.embed([text]))[0],
  });
  return { detect, model };
}

/** Messages whose detection is kept: one message is decided up to three times (message, proposal, score). */
const CACHE_SIZE = 512;

/**
 * The decider's request-for-a-person detector: the lexicon layers and the
 * classifier over the process's sentence encoder (the one the model was
 * trained with, loaded on the first text it embeds). Each text is embedded once: the
 * answer is kept for the next decisions about the same message.
 */
@Injectable()
export class HumanRequestDetection implements OnModuleInit {
  private detectLayered: HumanRequestDetector = lexiconDetector;
  private readonly cache = new Map<string, Promise<HumanRequest | undefined>>();

  constructor(private readonly logger: JsonLogger) {}

  async onModuleInit(): Promise<void> {
    const { detect, model } = await loadHumanRequestDetector();
    this.detectLayered = detect;
    this.logger.log('human-request classifier ready', {
      encoder: model.encoder,
      threshold: model.threshold,
    });
  }

  /** The layered detector, as decisions take it. */
  readonly detect: HumanRequestDetector = (text) => {
    const known = this.cache.get(text);
    if (known) return known;
    const detection = this.detectLayered(text);
    this.cache.set(text, detection);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    // A failed embedding is not kept: the next decision tries again.
    detection.catch(() => this.cache.delete(text));
    return detection;
  };
}
