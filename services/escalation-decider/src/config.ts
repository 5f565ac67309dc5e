import { z } from 'zod';
import { llmConfigSchema } from '@support/llm';
import { baseConfigSchema, loadConfig, secretList } from '@support/service-kit';

export const SERVICE = 'escalation-decider';

export const configSchema = baseConfigSchema.extend(llmConfigSchema.shape).extend({
  PORT: z.coerce.number().int().positive().default(3004),
  /** Keys for the decider's API (policy, what-if, accounts): `Authorization: Bearer <key>`. */
  DECIDER_API_KEYS: secretList,
  /** The escalation policy (YAML or JSON); default: policy/default.yaml. Reloaded when it changes. */
  DECIDER_POLICY_FILE: z.string().default(''),
  /** How often to look for a changed policy file. */
  DECIDER_POLICY_POLL_MS: z.coerce.number().int().min(100).default(2000),
  /**
   * The policy set this deployment follows on policy.versions: deployments sharing a Kafka cluster
   * (staging and production, say) keep their versions and activations apart.
   */
  DECIDER_POLICY_SET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 of a-z 0-9 . _ - (starting a-z or 0-9)')
    .default('default'),
  /**
   * How long a replica may take to read policy.versions to its end: at start-up (it decides
   * nothing before), and before a policy write is answered (the write is applied here first).
   */
  DECIDER_POLICY_CATCH_UP_MS: z.coerce.number().int().min(100).default(15_000),
  /** How long an account write (PUT/DELETE /v1/accounts/:id) waits to see itself applied. */
  DECIDER_ACCOUNT_APPLY_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * The CRM's account lookup for accounts not (yet) on the crm.accounts topic, with `{accountId}`
   * where the id goes, e.g. https://crm.example.com/api/accounts/{accountId}. It answers the
   * Account message as JSON (200) or 404 for an unknown account. Empty: the topic only.
   */
  CRM_LOOKUP_URL: z
    .string()
    .default('')
    .refine((u) => !u || (/^https?:\/\//.test(u) && u.includes('{accountId}')), {
      message: 'must be an http(s) URL containing {accountId}',
    }),
  /** Sent as `Authorization: Bearer <token>` to the CRM lookup. */
  CRM_LOOKUP_TOKEN: z.string().default(''),
  /** A lookup slower than this decides without the account (recorded as unavailable). */
  CRM_LOOKUP_TIMEOUT_MS: z.coerce.number().int().min(50).default(800),
  /** How long a looked-up account is cached; accounts fed by the topic do not expire. */
  CRM_CACHE_TTL_S: z.coerce.number().int().min(1).default(300),
  /** How long "the CRM does not know this account" is cached. */
  CRM_NEGATIVE_TTL_S: z.coerce.number().int().min(1).default(60),
});

export type Config = z.infer<typeof configSchema>;
export const loadDeciderConfig = (): Config => loadConfig(configSchema);
