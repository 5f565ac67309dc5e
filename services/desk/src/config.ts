import { z } from 'zod';
import { baseConfigSchema, loadConfig, secretList } from '@support/service-kit';

export const SERVICE = 'desk';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .default('false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().positive().default(3007),
  /**
   * Keys for the gateway and the admin API (`Authorization: Bearer <key>`):
   * other desks' actions (POST /v1/actions), logins and webhooks.
   */
  DESK_API_KEYS: secretList,
  /** Signs agents' session cookies (HS256); at least 32 characters. */
  DESK_SESSION_SECRET: z.string().min(32, { message: 'must be at least 32 characters' }),
  /** How long a sign-in lasts. */
  DESK_SESSION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(12),
  /** Mark the session cookie Secure (behind HTTPS). */
  DESK_SECURE_COOKIES: flag,
  /** Create demo logins for the router's demo agents (seed/logins.json) with this password; empty: none. */
  DESK_DEMO_PASSWORD: z.string().default(''),
  /** How long an action naming an assignment the desk has not read from the log yet waits for it before a 409. */
  DESK_CATCH_UP_MS: z.coerce.number().int().min(0).max(10000).default(3000),
  /** Webhook delivery: attempts before a delivery is marked failed, request timeout, worker poll. */
  DESK_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(10),
  DESK_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  DESK_WEBHOOK_POLL_MS: z.coerce.number().int().min(50).default(500),
  /** The first retry waits this long; each next one twice as long, up to an hour. */
  DESK_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).default(5000),
  /** The metrics service, whose analyst API the dashboard reads through the desk (/v1/analytics). */
  METRICS_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .default('http://127.0.0.1:3006')
    .transform((u) => u.replace(/\/+$/, '')),
  /** The key the desk sends to the metrics service (one of its METRICS_API_KEYS); empty: none. */
  METRICS_API_KEY: z.string().default(''),
});

export type Config = z.infer<typeof configSchema>;
export const loadDeskConfig = (): Config => loadConfig(configSchema);
