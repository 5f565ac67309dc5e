import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@support/service-kit';

export const SERVICE = 'escalation-decider';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().positive().default(3004),
  /** Calibrated: `npm run eval` prints the threshold that keeps wrong AI answers under 5%. */
  DECIDER_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.9),
  /** For requests for details and small-talk replies: the responder's intent probability. */
  DECIDER_MIN_INTENT_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.5),
  DECIDER_FRUSTRATED_VALENCE: z.coerce.number().min(-1).max(1).default(-0.5),
  DECIDER_JOIN_TIMEOUT_MS: z.coerce.number().int().positive().default(8000),
  DECIDER_POLICY_VERSION: z.string().min(1).default('builtin-2'),
});

export type Config = z.infer<typeof configSchema>;
export const loadDeciderConfig = (): Config => loadConfig(configSchema);
