import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@support/service-kit';

export const SERVICE = 'ai-responder';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().positive().default(3002),
  /** Upsert the demo knowledge base (seed/articles.json) at start-up. */
  KB_SEED: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** How many articles retrieval considers per question. */
  KB_TOP_K: z.coerce.number().int().min(1).max(10).default(3),
});

export type Config = z.infer<typeof configSchema>;
export const loadAiResponderConfig = (): Config => loadConfig(configSchema);
