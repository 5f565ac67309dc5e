import { z } from 'zod';
import { baseConfigSchema, loadConfig, secretList } from '@support/service-kit';
import { isCidr } from './domain/webhook-target.js';

export const SERVICE = 'desk';

const flagDefault = (value: 'true' | 'false') =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(value)
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Comma-separated CIDR ranges, e.g. `10.20.0.0/16,fd00:1::/64`. */
const cidrList = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
  )
  .refine((list) => list.every(isCidr), {
    message: 'must be comma-separated CIDR ranges (e.g. 10.0.0.0/8,fd00::/8)',
  });

/** Express's `trust proxy`: off, true, a number of hops, or addresses/CIDRs/loopback,linklocal,uniquelocal. */
const trustProxy = z
  .string()
  .default('false')
  .transform((v): boolean | number | string => {
    const t = v.trim();
    if (t === '' || t === 'false') return false;
    if (t === 'true') return true;
    return /^\d+$/.test(t) ? Number(t) : t;
  });

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
  /** Mark the session cookie Secure (true unless the desk is served over plain HTTP, as in local development). */
  DESK_SECURE_COOKIES: flagDefault('true'),
  /**
   * Which proxies in front of the desk to believe about the client's address (X-Forwarded-For),
   * as Express's `trust proxy`: false (the default: the TCP peer is the client), a number of
   * hops, or addresses and CIDRs (`loopback`, `10.0.0.0/8`...). Sign-in limits count per address.
   */
  DESK_TRUST_PROXY: trustProxy,
  /** Failed sign-ins per login within the lockout period before the login is locked for that long. */
  DESK_SIGNIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  /** Failed sign-ins per client address (any login) within the lockout period before the address is locked. */
  DESK_SIGNIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(100000).default(30),
  /** The window failures are counted in, and how long a lockout lasts. */
  DESK_SIGNIN_LOCKOUT_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
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
  /**
   * Webhook targets on private, loopback, link-local, unique-local or otherwise non-public
   * addresses are refused (at registration and, after DNS resolution, at delivery) unless this
   * is true, or the address is in DESK_WEBHOOK_ALLOWED_CIDRS.
   */
  DESK_WEBHOOK_ALLOW_PRIVATE: flagDefault('false'),
  DESK_WEBHOOK_ALLOWED_CIDRS: cidrList,
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
