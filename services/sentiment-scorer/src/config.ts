import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@support/service-kit';

export const SERVICE = 'sentiment-scorer';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().positive().default(3003),
});

export type Config = z.infer<typeof configSchema>;
export const loadSentimentScorerConfig = (): Config => loadConfig(configSchema);
