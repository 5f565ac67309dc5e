import { z } from 'zod';

/** Settings every service reads from its environment. */
export const baseConfigSchema = z.object({
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379/0'),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/support'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  HOST: z.string().default('127.0.0.1'),
  /**
   * How soon the partitions of a crashed instance that does not come back move to another
   * (Kafka's minimum is 6000). Heartbeats run on their own timer, so a slow handler does not
   * need a long one.
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(10000),
  /**
   * This replica's id, stable across its restarts and unique among the service's replicas (say
   * the StatefulSet pod name): its consumers are static group members, and a restart after a
   * crash takes their partitions back at once. Unset: dynamic members, which wait for the
   * dead one's session to expire.
   */
  KAFKA_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, dots, dashes and underscores')
    .optional(),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/**
 * Parses and validates the environment at start-up. An invalid setting stops
 * the service with a message naming the variable.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Comma-separated list of secrets, e.g. API keys. */
export const secretList = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
  );
