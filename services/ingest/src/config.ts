import { z } from 'zod';
import { baseConfigSchema, loadConfig, secretList } from '@support/service-kit';

export const SERVICE = 'ingest';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().positive().default(3001),
  /** Keys that channel adapters present as `Authorization: Bearer <key>`. */
  INGEST_API_KEYS: secretList.refine(
    (keys) => keys.length > 0,
    'set at least one key (comma-separated)',
  ),
  /** Signs the per-conversation tokens that web clients use to open the SSE stream. */
  STREAM_TOKEN_SECRET: z.string().min(16, 'must be at least 16 characters'),
  /** How many outbound messages per conversation are kept for SSE clients that (re)connect. */
  OUTBOUND_HISTORY: z.coerce.number().int().positive().default(200),
  /**
   * How long a desk action that names a conversation, handoff or assignment ingest's snapshot
   * does not know yet is checked again (the log consumer may be a moment behind) before it is
   * dead-lettered. Below Kafka's minimum session timeout, as the partition waits meanwhile.
   */
  DESK_CATCH_UP_MS: z.coerce.number().int().min(0).max(5000).default(3000),
  /**
   * How long after the AI's answer a conversation may stay quiet (no customer message, nobody
   * human on it) before the answer is assumed to have resolved it.
   */
  QUIET_WINDOW_SECONDS: z.coerce.number().int().positive().default(1800),
  /** How often each replica looks for conversations whose quiet window has passed. */
  QUIET_SWEEP_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
});

export type Config = z.infer<typeof configSchema>;
export const loadIngestConfig = (): Config => loadConfig(configSchema);
