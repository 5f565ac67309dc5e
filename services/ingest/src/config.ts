import { z } from 'zod';
import { baseConfigSchema, loadConfig, secretList } from '@support/service-kit';
import { normaliseOrigin } from './domain/origins.js';

export const SERVICE = 'ingest';

/**
 * One publishable widget key: safe in a browser, it can only start conversations of its own and
 * act on them with their conversation tokens (see README, "Widget keys").
 */
export const widgetKeySchema = z
  .object({
    /** Named in conversation tokens, logs and the conversations' external ids. */
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1-32 lower-case letters, digits or "-"'),
    /** The publishable key itself, as the browser presents it. */
    key: z
      .string()
      .min(20, 'must be at least 20 characters')
      .max(200, 'must be at most 200 characters')
      .regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, "_", "." or "-"'),
    /** Sites that may call the widget API from the browser and embed the chat page. */
    origins: z
      .array(
        z.string().refine((o) => normaliseOrigin(o) === o, {
          message:
            'must be an origin such as https://www.example.com (scheme, host, port; no path)',
        }),
      )
      .default([]),
    /** The server-side secret the customer's site signs identities with (user hash or JWT). */
    identitySecret: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Refuse conversations without a verified identity. */
    requireIdentity: z.boolean().default(false),
    /** Requests a minute this key may make, over all its clients. */
    requestsPerMinute: z.number().int().positive().default(1200),
    /** Requests a minute this key may make from one client address. */
    requestsPerMinutePerAddress: z.number().int().positive().default(120),
  })
  .strict()
  .refine((k) => !k.requireIdentity || k.identitySecret !== undefined, {
    path: ['identitySecret'],
    message: 'is required when requireIdentity is true',
  });

export type WidgetKey = z.infer<typeof widgetKeySchema>;

const widgetKeys = z
  .string()
  .default('[]')
  .transform((s, ctx) => {
    try {
      return JSON.parse(s.trim() || '[]') as unknown;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `must be JSON: ${(err as Error).message}` });
      return z.NEVER;
    }
  })
  .pipe(z.array(widgetKeySchema))
  .superRefine((keys, ctx) => {
    for (const field of ['id', 'key'] as const) {
      const seen = new Set<string>();
      keys.forEach((k, i) => {
        if (seen.has(k[field]))
          ctx.addIssue({
            code: 'custom',
            path: [i, field],
            message: `repeats another key's ${field}`,
          });
        seen.add(k[field]);
      });
    }
  });

export const configSchema = baseConfigSchema
  .extend({
    PORT: z.coerce.number().int().positive().default(3001),
    /** Channel keys: server-side channel adapters present them as `Authorization: Bearer <key>`. */
    INGEST_API_KEYS: secretList.refine(
      (keys) => keys.length > 0,
      'set at least one key (comma-separated)',
    ),
    /** Operators' keys: read any conversation's state; they cannot post as a customer. */
    INGEST_ADMIN_KEYS: secretList,
    /**
     * Publishable widget keys, a JSON array of
     * { id, key, origins?, identitySecret?, requireIdentity?, requestsPerMinute?, requestsPerMinutePerAddress? }.
     */
    INGEST_WIDGET_KEYS: widgetKeys,
    /** How long a widget conversation token is valid. */
    INGEST_WIDGET_TOKEN_TTL_S: z.coerce.number().int().min(30).max(86_400).default(900),
    /** How long after it expired a conversation token may still be exchanged for a new one. */
    INGEST_WIDGET_REFRESH_GRACE_S: z.coerce.number().int().min(0).max(86_400).default(7200),
    /** How long after a widget conversation began its tokens may be refreshed at all. */
    INGEST_WIDGET_SESSION_MAX_S: z.coerce
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .default(86_400),
    /**
     * Express's "trust proxy": which proxies' X-Forwarded-For names the client address that the
     * widget's per-address rate limit counts ("" none, "true", a hop count, or addresses/subnets).
     */
    INGEST_TRUST_PROXY: z.string().default(''),
    /** Signs the per-conversation tokens (the channel API's stream tokens, the widget's tokens). */
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
    /**
     * Whether ingest embeds each customer message with the sentence encoder (`local`) and carries
     * the vector on CustomerMessageReceived, so that the AI responder and the sentiment scorer do
     * not embed the same text again; `none`: they embed it themselves.
     */
    INGEST_MESSAGE_VECTORS: z.enum(['local', 'none']).default('local'),
    /**
     * `on`: support.inbound is appended to the log in Kafka transactions (exactly once, each
     * message's done mark set after its transaction); `off`: at least once, a message's id and
     * done mark making it once in effect. Off by default: on two cores the transactions cost
     * hundreds of milliseconds at a steady 25 msg/s (the README of ingest says how it was measured).
     */
    INGEST_INBOUND_TRANSACTIONS: z.enum(['off', 'on']).default('off'),
    /** How often each replica looks for conversations whose quiet window has passed. */
    QUIET_SWEEP_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  })
  .superRefine((c, ctx) => {
    // A key that reaches a browser must never also be a server-side key.
    const serverSide = new Set([...c.INGEST_API_KEYS, ...c.INGEST_ADMIN_KEYS]);
    c.INGEST_WIDGET_KEYS.forEach((k, i) => {
      if (serverSide.has(k.key))
        ctx.addIssue({
          code: 'custom',
          path: ['INGEST_WIDGET_KEYS', i, 'key'],
          message: 'must differ from every INGEST_API_KEYS and INGEST_ADMIN_KEYS key',
        });
    });
  });

export type Config = z.infer<typeof configSchema>;
export const loadIngestConfig = (): Config => loadConfig(configSchema);
