import { z } from 'zod';
import { llmConfigSchema } from '@support/llm';
import { baseConfigSchema, loadConfig, secretList } from '@support/service-kit';

export const SERVICE = 'ai-responder';

const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .default(fallback)
    .transform((v) => v === 'true' || v === '1');

export const configSchema = baseConfigSchema.extend(llmConfigSchema.shape).extend({
  PORT: z.coerce.number().int().positive().default(3002),
  /** Keys that knowledge-base editors present as `Authorization: Bearer <key>` on /v1/kb. */
  AI_RESPONDER_API_KEYS: secretList,
  /** Import the demo knowledge base (seed/kb/*.md) at start-up; unchanged articles are left alone. */
  KB_SEED: flag('true'),
  /** How many articles retrieval considers per question. */
  KB_TOP_K: z.coerce.number().int().min(1).max(10).default(3),
  /** Language searched when nothing matches in the customer's own. */
  KB_DEFAULT_LOCALE: z.string().default('en'),
  /** The product the assistant supports, as the LLM prompt names it. */
  PRODUCT_NAME: z.string().default('Ledgerly'),
  /** Vectors for hybrid retrieval: none (full-text only), local (offline sentence encoder) or openai (any OpenAI-compatible embeddings API). */
  EMBEDDINGS_PROVIDER: z.enum(['none', 'local', 'openai']).default('none'),
  EMBEDDINGS_MODEL: z.string().default('text-embedding-3-small'),
  EMBEDDINGS_BASE_URL: z.string().default(''),
  EMBEDDINGS_API_KEY: z.string().default(''),
  /** Where the trained intent model is cached between starts (keyed by the corpus' hash). */
  INTENT_MODEL_DIR: z.string().default(''),
});

export type Config = z.infer<typeof configSchema>;
export const loadAiResponderConfig = (): Config => loadConfig(configSchema);
