import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import type { Bus } from '@support/bus';
import type { ConversationEvent } from '@support/contracts';
import { invalidInput } from '@support/service-kit';
import { replayLog } from '@support/stream';
import { parsePolicy, PolicyError, type Policy } from '../domain/policy.js';
import type { PolicyIssue } from '../domain/policy-check.js';
import type { HumanRequestDetector } from '../domain/human-request.js';
import { whatIf, type WhatIfReport } from '../domain/whatif.js';

/** A policy document from a request body: YAML or JSON text, or a parsed JSON object. */
export function policyText(body: unknown): string {
  const text =
    typeof body === 'string'
      ? body
      : body && typeof body === 'object' && Object.keys(body).length
        ? JSON.stringify(body)
        : '';
  if (!text.trim())
    throw invalidInput([
      {
        field: 'body',
        rule: 'required',
        message: 'the policy document (YAML or JSON) is required',
      },
    ]);
  return text;
}

/**
 * The validated policy of a request body, or a 400 `invalid_policy` whose
 * issues name each field and, inside a rule, the rule by its name
 * (`policyRule`).
 */
export function policyFromBody(body: unknown): { policy: Policy; text: string } {
  const text = policyText(body);
  try {
    return { policy: parsePolicy(text, 'body'), text };
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    throw invalidPolicy(err.issues);
  }
}

/** The 400 for a policy with problems: `{ error: 'invalid_policy', issues }`. */
export const invalidPolicy = (issues: PolicyIssue[]): BadRequestException =>
  new BadRequestException({ error: 'invalid_policy', issues });

const instant = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 time')
  .transform((s) => new Date(s).toISOString());

/** `?from=&to=` of a what-if replay. */
export const windowQuery = z.strictObject({ from: instant.optional(), to: instant.optional() });

/** Replays the whole conversation log under `candidate` (no side effects), detecting requests for a person with `detect`. */
export async function replayWhatIf(
  bus: Bus,
  candidate: Policy,
  window: { from?: string; to?: string },
  detect: HumanRequestDetector,
): Promise<WhatIfReport> {
  const events: ConversationEvent[] = [];
  await replayLog(bus, async (event) => {
    events.push(event);
  });
  return whatIf(events, candidate, window, detect);
}
