import type { z } from 'zod';
import type { FieldIssue } from './validation.js';

/** A zod error as field issues, each path prefixed (e.g. "articles[2]"); unknown keys are named. */
export function issuesOf(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    let field = prefix;
    for (const part of issue.path) {
      if (typeof part === 'number') field += `[${part}]`;
      else field += field ? `.${String(part)}` : String(part);
    }
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    if (unknownKeys.length) {
      return {
        field: unknownKeys.map((k) => (field ? `${field}.${k}` : k)).join(', '),
        rule: 'unknown_field',
        message: `unknown field${unknownKeys.length > 1 ? 's' : ''}: ${unknownKeys.join(', ')}`,
      };
    }
    return { field: field || '(body)', rule: issue.code, message: issue.message };
  });
}
