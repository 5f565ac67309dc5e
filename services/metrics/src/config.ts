import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@support/service-kit';

export const SERVICE = 'metrics';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().positive().default(3006),
});

export type Config = z.infer<typeof configSchema>;
export const loadMetricsConfig = (): Config => loadConfig(configSchema);
