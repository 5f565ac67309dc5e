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
  /**
   * How many times an article's score counts in retrieval on a page it names (its `pages`): a
   * boost, not a filter; 1 turns it off.
   */
  KB_PAGE_BOOST: z.coerce.number().min(1).max(10).default(1.5),
  /** Language searched when nothing matches in the customer's own. */
  KB_DEFAULT_LOCALE: z.string().default('en'),
  /** The product the assistant supports, as the LLM prompt names it. */
  PRODUCT_NAME: z.string().default('Ledgerly'),
  /** Vectors for hybrid retrieval: none (full-text only), local (offline sentence encoder) or openai (any OpenAI-compatible embeddings API). */
  EMBEDDINGS_PROVIDER: z.enum(['none', 'local', 'openai']).default('local'),
  EMBEDDINGS_MODEL: z.string().default('text-embedding-3-small'),
  EMBEDDINGS_BASE_URL: z.string().default(''),
  EMBEDDINGS_API_KEY: z.string().default(''),
  /** How long a knowledge suggestion waits for a reviewer before it expires (a merge extends it). */
  KB_SUGGESTION_TTL_DAYS: z.coerce.number().positive().default(14),
  /** Similarity (0..1, meaning and shared words) at which a resolution merges into a pending suggestion. */
  KB_SUGGESTION_MERGE_SIMILARITY: z.coerce.number().min(0).max(1).default(0.7),
  /** Similarity at which a resolution counts as answered by a published article (a false escalation). */
  KB_RESOLUTION_MATCH_SIMILARITY: z.coerce.number().min(0).max(1).default(0.65),
  /** How often each replica looks for overdue suggestions to expire. */
  KB_SUGGESTION_SWEEP_MS: z.coerce.number().int().min(100).default(60_000),
  /** How often the knowledge-event outbox is relayed besides right after each write. */
  KB_OUTBOX_POLL_MS: z.coerce.number().int().min(50).default(2_000),
  /** Where the trained intent model is cached between starts (keyed by the corpus' hash). */
  INTENT_MODEL_DIR: z.string().default(''),
});

export type Config = z.infer<typeof configSchema>;
export const loadAiResponderConfig = (): Config => loadConfig(configSchema);
