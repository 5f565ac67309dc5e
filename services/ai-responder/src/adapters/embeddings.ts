import type { Provider } from '@nestjs/common';
import { OpenAIEmbeddings } from '@langchain/openai';
import { universalSentenceEncoder } from '@support/intent';
import { CONFIG } from '@support/service-kit';
import type { Config } from '../config.js';

/** Vectors for hybrid retrieval. */
export interface Embedder {
  /** Stored beside each passage vector, so that a change of model re-embeds rather than mixes. */
  readonly model: string;
  embed(texts: string[]): Promise<number[][]>;
}

export const EMBEDDER = Symbol('EMBEDDER');

/** The embeddings provider the configuration names; undefined (full-text search only) by default. */
export function createEmbedder(config: Config): Embedder | undefined {
  if (config.EMBEDDINGS_PROVIDER === 'none') return undefined;
  if (config.EMBEDDINGS_PROVIDER === 'local') {
    const encoder = universalSentenceEncoder();
    return {
      model: 'local:universal-sentence-encoder-lite',
      embed: async (texts) => (await (await encoder).embed(texts)).map((v) => Array.from(v)),
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
    embed: (texts) => embeddings.embedDocuments(texts),
  };
}

export const embedderProvider: Provider = {
  provide: EMBEDDER,
  inject: [CONFIG],
  useFactory: (config: Config) => createEmbedder(config) ?? null,
};
