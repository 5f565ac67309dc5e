import { BadRequestException } from '@nestjs/common';
import type { z } from 'zod';
import { issuesOf, type FieldIssue } from '@support/contracts';

/** The 400 every service answers invalid input with: `{ error: 'validation_failed', issues }`. */
export function invalidInput(issues: FieldIssue[]): BadRequestException {
  return new BadRequestException({ error: 'validation_failed', issues });
}

/** Parses HTTP input or throws the 400 naming each wrong field (prefixed, e.g. "query"). */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix = '',
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(issuesOf(parsed.error, prefix));
  return parsed.data;
}
