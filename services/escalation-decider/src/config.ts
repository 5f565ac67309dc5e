import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@support/service-kit';

export const SERVICE = 'escalation-decider';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().positive().default(3004),
  /** The escalation policy (YAML or JSON); default: policy/default.yaml. Reloaded when it changes. */
  DECIDER_POLICY_FILE: z.string().default(''),
  /** How often to look for a changed policy file. */
  DECIDER_POLICY_POLL_MS: z.coerce.number().int().min(100).default(2000),
});

export type Config = z.infer<typeof configSchema>;
export const loadDeciderConfig = (): Config => loadConfig(configSchema);
