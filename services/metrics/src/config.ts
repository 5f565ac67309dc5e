import { z } from 'zod';
import { baseConfigSchema, loadConfig, secretList } from '@support/service-kit';

export const SERVICE = 'metrics';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().positive().default(3006),
  /** Keys analysts and the dashboard present as `Authorization: Bearer <key>`; empty: reads are open. */
  METRICS_API_KEYS: secretList,
  /** Ingest's quiet window, after which an unanswered AI resolution is assumed (reported in minutes). */
  QUIET_WINDOW_SECONDS: z.coerce.number().int().positive().default(1800),
  /** The escalation decider's API: its policy names the rules' thresholds, and it replays what-ifs. */
  DECIDER_URL: z.string().url().default('http://127.0.0.1:3004'),
  DECIDER_API_KEY: z.string().default(''),
  /** How long a what-if replay may take before the decider counts as unreachable. */
  DECIDER_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
});

export type Config = z.infer<typeof configSchema>;
export const loadMetricsConfig = (): Config => loadConfig(configSchema);
