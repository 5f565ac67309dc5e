import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** One step of the relaxation a waiting handoff goes through: who qualifies once it has waited `afterSeconds`. */
export const stepSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lower-case, digits, "-" or "_"'),
  afterSeconds: z.number().int().min(0),
  skills: z.enum(['all', 'any', 'general', 'anyone']),
  minLevel: z.number().int().min(1).max(5).default(1),
  language: z.enum(['required', 'preferred']).default('preferred'),
});

export type RoutingStep = z.output<typeof stepSchema>;

export const routingPolicySchema = z.strictObject({
  version: z.string().min(1),
  reviewEverySeconds: z.number().int().min(1).max(3600).default(10),
  /** How often a waiting customer hears their new place and wait (0: never). */
  updateEverySeconds: z.number().int().min(0).max(86_400).default(60),
  /**
   * How long an assigned agent has to accept at their desk before the handoff
   * goes to someone else (0: no acceptance needed, an assignment counts as
   * accepted at once). Absent means 0, as before desks could accept.
   */
  acceptWithinSeconds: z.number().int().min(0).max(86_400).default(0),
  steps: z
    .array(stepSchema)
    .min(1)
    .refine((s) => s[0]?.afterSeconds === 0, 'the first step must apply at once (afterSeconds: 0)')
    .refine(
      (s) => s.every((step, i) => i === 0 || step.afterSeconds > s[i - 1]!.afterSeconds),
      'steps must come in increasing afterSeconds',
    ),
});

export type RoutingPolicy = z.output<typeof routingPolicySchema>;

export const DEFAULT_ROUTING_FILE = join(__dirname, '..', '..', 'routing', 'default.yaml');

/** Parses a routing policy (YAML or JSON); throws an error naming the field. */
export function parseRoutingPolicy(text: string, source = 'routing policy'): RoutingPolicy {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new Error(`${source}: not valid YAML or JSON: ${(err as Error).message}`);
  }
  const parsed = routingPolicySchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `${source}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

export const loadRoutingPolicy = (file = DEFAULT_ROUTING_FILE): RoutingPolicy =>
  parseRoutingPolicy(readFileSync(file, 'utf8'), file);

/** The step that applies to a handoff that has waited `waitedMs`. */
export function stepAt(policy: RoutingPolicy, waitedMs: number): RoutingStep {
  const waited = Math.max(0, waitedMs) / 1000;
  let current = policy.steps[0]!;
  for (const step of policy.steps) if (step.afterSeconds <= waited) current = step;
  return current;
}

/**
 * Until when an agent assigned at `assignedAt` can accept (RFC 3339), or ''
 * when the policy needs no acceptance. An unreadable time counts from `now`.
 */
export function acceptDeadline(
  policy: Pick<RoutingPolicy, 'acceptWithinSeconds'>,
  assignedAt: string,
  now = Date.now(),
): string {
  if (!policy.acceptWithinSeconds) return '';
  const parsed = Date.parse(assignedAt);
  const from = Number.isFinite(parsed) ? parsed : now;
  return new Date(from + policy.acceptWithinSeconds * 1000).toISOString();
}
