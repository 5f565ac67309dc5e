import { createHash } from 'node:crypto';
import type { PolicyDocument } from './policy.js';

/** JSON with every object's keys sorted: the same document always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

/** How many hex digits of the document's SHA-256 a version carries. */
export const VERSION_HASH_DIGITS = 8;

/**
 * A policy version: `<the document's version>@<the first 8 hex digits of the
 * SHA-256 of its canonical JSON>`, e.g. `default-4@1f0c9a2b`. Formatting,
 * comments and YAML or JSON make no difference; any change of content makes
 * another version, so a version names one document for good.
 */
export function versionOf(document: PolicyDocument): string {
  const hash = createHash('sha256').update(canonicalJson(document)).digest('hex');
  return `${document.version}@${hash.slice(0, VERSION_HASH_DIGITS)}`;
}
