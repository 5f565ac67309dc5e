import { z } from 'zod';
import { baseConfigSchema, loadConfig, secretList } from '@support/service-kit';

export const SERVICE = 'router';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .default('true')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().positive().default(3005),
  /** Keys that agent desks and operators present as `Authorization: Bearer <key>` for GET /v1/agents. */
  ROUTER_API_KEYS: secretList,
  /** Upsert the demo roster from seed/agents.json at start-up. */
  ROUTER_SEED_DEMO: flag,
  /**
   * required: only agents whose desk reports them online (a heartbeat within
   * ROUTER_PRESENCE_TTL_S) get new handoffs. ignored: every active agent within
   * working hours counts as online (for setups without a desk that reports presence).
   */
  ROUTER_PRESENCE: z.enum(['required', 'ignored']).default('required'),
  /**
   * Skills and teams added at start-up when the directory lacks them (JSON: { skills, teams });
   * default routing/teams.json, the skills the AI responder and the shipped escalation policy
   * name. "none": add nothing.
   */
  ROUTER_VOCABULARY_FILE: z.string().default(''),
  /** The routing policy (YAML or JSON): relaxation steps; default routing/default.yaml. */
  ROUTER_POLICY_FILE: z.string().default(''),
  /** The handling time wait estimates assume until resolved conversations have measured one. */
  ROUTER_DEFAULT_HANDLE_SECONDS: z.coerce.number().int().min(1).default(480),
  /** How long a presence report lasts without a heartbeat. */
  ROUTER_PRESENCE_TTL_S: z.coerce.number().int().min(5).default(60),
});

export type Config = z.infer<typeof configSchema>;
export const loadRouterConfig = (): Config => loadConfig(configSchema);
