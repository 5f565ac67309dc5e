import type { Provider } from '@nestjs/common';
import { OpenAIEmbeddings } from '@langchain/openai';
import { sentenceEncoder, type EmbedKind } from '@support/encoder';
import { CONFIG } from '@support/service-kit';
import type { Config } from '../config.js';

/** Vectors for hybrid retrieval. */
export interface Embedder {
  /** Stored beside each passage vector, so that a change of model re-embeds rather than mixes. */
  readonly model: string;
  /** `passage` for knowledge-base passages, `query` (the default) for questions. */
  embed(texts: string[], kind?: EmbedKind): Promise<number[][]>;
}

export const EMBEDDER = Symbol('EMBEDDER');

/**
 * The embeddings provider the configuration names: the process's own sentence
 * encoder (`local`, the default), an OpenAI-compatible API, or none
 * (full-text search only).
 */
export async function createEmbedder(config: Config): Promise<Embedder | undefined> {
  if (config.EMBEDDINGS_PROVIDER === 'none') return undefined;
  if (config.EMBEDDINGS_PROVIDER === 'local') {
    const encoder = await sentenceEncoder();
    return {
      model: `local:${encoder.name}`,
      embed: async (texts, kind) => (await encoder.embed(texts, kind)).map((v) => Array.from(v)),
    };
  }
  const embeddings = new OpenAIEmbeddings({
    model: config.EMBEDDINGS_MODEL,
    apiKey: config.EMBEDDINGS_API_KEY || process.env.OPENAI_API_KEY || 'not-needed',
    timeout: config.LLM_TIMEOUT_MS,
    maxRetries: config.LLM_MAX_RETRIES,
    configuration: config.EMBEDDINGS_BASE_URL ? { baseURL: config.EMBEDDINGS_BASE_URL } : undefined,
  });
  return {
    model: `openai:${config.EMBEDDINGS_MODEL}`,
    embed: (texts, kind) =>
      kind === 'passage'
        ? embeddings.embedDocuments(texts)
        : Promise.all(texts.map((t) => embeddings.embedQuery(t))),
  };
}

export const embedderProvider: Provider = {
  provide: EMBEDDER,
  inject: [CONFIG],
  useFactory: async (config: Config) => (await createEmbedder(config)) ?? null,
};
