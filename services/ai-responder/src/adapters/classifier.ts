import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Provider } from '@nestjs/common';
import {
  cosineSimilarity,
  sentenceEncoder,
  vectorOf,
  type GivenVector,
  type SentenceEncoder,
} from '@support/encoder';
import {
  DEFAULT_TRAIN_OPTIONS,
  IntentClassifier,
  trainClassifier,
  type Example,
} from '@support/intent';
import { CONFIG, JsonLogger } from '@support/service-kit';
import type { Config } from '../config.js';
import type { Classification } from '../domain/respond.js';
import { OUT_OF_SCOPE } from '../domain/taxonomy.js';
import { SERVICE_ROOT } from './db/database.js';

export const CORPUS_DIR = join(SERVICE_ROOT, 'corpus', 'intents');

/** Passage vectors kept in memory (384 floats each: 20,000 take about 30 MB). */
const VECTOR_CACHE = 20_000;

/**
 * The corpus is small (about 80 lines per intent), so a customer's words are
 * often new to it ("goodbye", "okie dokie"): the sentence encoder still
 * understands them, so an unknown vocabulary alone does not make a message
 * out of scope here.
 */
const TRAIN_OPTIONS = { unknownTextIsOutOfScope: false } as const;
const DEFAULT_CACHE_DIR = join(SERVICE_ROOT, '..', '..', '.cache', 'intent');

/** The support-intent classifier, trained from the project's own corpus (one file per intent). */
export class SupportClassifier {
  constructor(
    private readonly model: IntentClassifier,
    private readonly encoder: SentenceEncoder,
  ) {}

  /** Vectors of texts that recur (knowledge-base passages), by a caller's key; most recent last. */
  private readonly vectors = new Map<string, Float32Array>();

  /**
   * Cosine similarity (clamped to 0..1) of a message (its vector, from
   * `analyse`) to each of the others, by the sentence encoder. Each other text
   * has a key (e.g. passage id and version) under which its vector is kept, so
   * that a passage is embedded once, not on every question: long texts cost
   * the encoder several milliseconds each.
   */
  async similarity(
    message: Float32Array,
    others: { key: string; text: string }[],
  ): Promise<number[]> {
    const missing = others.filter((o) => !this.vectors.has(o.key));
    if (missing.length) {
      const fresh = await this.encoder.embed(
        missing.map((o) => o.text),
        'passage',
      );
      missing.forEach((o, i) => this.remember(o.key, fresh[i]));
    }
    return others.map((o) => Math.max(0, cosineSimilarity(message, this.vectors.get(o.key)!)));
  }

  private remember(key: string, vector: Float32Array): void {
    this.vectors.delete(key);
    this.vectors.set(key, vector);
    if (this.vectors.size > VECTOR_CACHE) this.vectors.delete(this.vectors.keys().next().value!);
  }

  /** Sentence vectors of texts (the learning loop compares resolutions with them). */
  async embed(texts: string[]): Promise<Float32Array[]> {
    return this.encoder.embed(texts);
  }

  /** The sentence encoder's name, stored beside vectors made with it. */
  get encoderName(): string {
    return this.encoder.name;
  }

  async classify(text: string): Promise<Classification> {
    return (await this.analyse(text)).classification;
  }

  /** The message's intent, and its sentence vector for `similarity`: the message is embedded once. */
  async analyse(
    text: string,
    /** The text's vector made elsewhere (by ingest), used when this encoder made it. */
    given?: GivenVector,
  ): Promise<{ classification: Classification; vector: Float32Array }> {
    const vector = await vectorOf(this.encoder, text, given);
    const p = this.model.classifyEmbedded([text], this.model.encoderInfo ? [vector] : undefined)[0];
    return {
      classification: {
        intent: p.label,
        probability: p.outOfScope ? (p.ranked[0]?.probability ?? 0) : p.probability,
        outOfScope: p.outOfScope,
        outOfScopeScore: p.outOfScopeScore,
      },
      vector,
    };
  }
}

/** The corpus as examples: `<intent>.txt`, one utterance per line. */
export async function readCorpus(dir = CORPUS_DIR): Promise<Example[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.txt')).sort();
  const examples: Example[] = [];
  for (const file of files) {
    const label = basename(file, '.txt');
    for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) {
      const text = line.trim();
      if (text) examples.push({ text, label });
    }
  }
  return examples;
}

/**
 * Loads the classifier for the corpus: from the cache when a model trained
 * on the same corpus with the same engine settings is there, else trains it
 * (a few seconds, most of them embedding the corpus) and caches it.
 */
export async function loadSupportClassifier(
  options: {
    cacheDir?: string;
    corpusDir?: string;
    encoder?: SentenceEncoder;
    log?: (msg: string, meta: object) => void;
  } = {},
): Promise<SupportClassifier> {
  const encoder = options.encoder ?? (await sentenceEncoder());
  const examples = await readCorpus(options.corpusDir);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        examples,
        options: { ...DEFAULT_TRAIN_OPTIONS, ...TRAIN_OPTIONS },
        encoder: encoder.name,
        format: 1,
      }),
    )
    .digest('hex')
    .slice(0, 16);
  const dirs = [options.cacheDir || DEFAULT_CACHE_DIR, join(tmpdir(), 'support-intent')];
  for (const dir of dirs) {
    try {
      const json = JSON.parse(await readFile(join(dir, `intent-${key}.json`), 'utf8'));
      return new SupportClassifier(IntentClassifier.fromJSON(json, encoder), encoder);
    } catch {
      // not cached there
    }
  }
  const started = Date.now();
  const model = await trainClassifier(examples, {
    ...TRAIN_OPTIONS,
    encoder,
    outOfScopeLabel: OUT_OF_SCOPE,
  });
  options.log?.('intent classifier trained', {
    examples: examples.length,
    labels: model.labels.length,
    ms: Date.now() - started,
  });
  const serialized = JSON.stringify(model.toJSON());
  for (const dir of dirs) {
    try {
      await mkdir(dir, { recursive: true });
      const tmp = join(dir, `intent-${key}.${process.pid}.tmp`);
      await writeFile(tmp, serialized);
      await rename(tmp, join(dir, `intent-${key}.json`));
      break;
    } catch {
      // not writable; try the next place
    }
  }
  return new SupportClassifier(model, encoder);
}

export const CLASSIFIER = Symbol('CLASSIFIER');

export const classifierProvider: Provider = {
  provide: CLASSIFIER,
  inject: [CONFIG, JsonLogger],
  useFactory: (config: Config, logger: JsonLogger) =>
    loadSupportClassifier({
      cacheDir: config.INTENT_MODEL_DIR,
      log: (msg, meta) => logger.log(msg, meta),
    }),
};
