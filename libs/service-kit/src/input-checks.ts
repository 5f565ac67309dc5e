import type { FieldIssue } from '@support/contracts';

/**
 * The bounds of what any HTTP request may carry, whatever its route: the
 * shared check that runs before every handler (see input-guard.ts). Routes
 * check their own fields more narrowly; these only keep out what no route can
 * use and what breaks the stores further on (PostgreSQL refuses NUL in text,
 * Kafka headers and JSON logs choke on lone surrogates).
 */
export const InputLimits = {
  /** Characters of one decoded path segment. */
  pathSegment: 1024,
  /** Parameters in the query string. */
  queryParameters: 64,
  /** Characters of a decoded query parameter's name. */
  queryName: 128,
  /** Characters of a decoded query parameter's value. */
  queryValue: 4096,
  /** Characters of one header value (Node caps all headers together at 16 KB). */
  headerValue: 8192,
  /** Characters of a key of a JSON (or form) body. */
  bodyKey: 256,
  /** Nesting of a JSON (or form) body. String values are bounded by the body limit (5 MB). */
  bodyDepth: 32,
  /** Issues reported per request (a body with a thousand bad strings names the first ones). */
  issues: 10,
} as const;

/* eslint-disable no-control-regex -- these patterns are about control characters */
/** C0 controls and DEL: never in a path segment, a query name or a header value. */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** In text (query values, body strings): tab, line feed and carriage return are allowed. */
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/** In a header value: tab is allowed (RFC 9110); Node's parser refuses most of the rest itself. */
const CONTROL_IN_HEADER = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** What a raw URL may contain: printable ASCII; anything else must arrive percent-encoded. */
const NOT_URL_ASCII = /[^\u0021-\u007e]/;
/** A high surrogate without its low one, or a low one without its high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');
const CONTROLS = /[\u0000-\u001f\u007f]/g;
/* eslint-enable no-control-regex */

/** A name as it can appear in an issue's field: controls escaped, at most 64 characters. */
function printable(name: string): string {
  const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  const escaped = name.replace(CONTROLS, escape).replace(LONE_SURROGATES, escape);
  return escaped.length > 64 ? `${escaped.slice(0, 64)}…` : escaped;
}

function decoded(raw: string, plusIsSpace: boolean): string | undefined {
  try {
    return decodeURIComponent(plusIsSpace ? raw.replace(/\+/g, ' ') : raw);
  } catch {
    return undefined;
  }
}

/**
 * The issue with a piece of text, if any: control characters (`text` allows
 * tab, LF and CR), lone UTF-16 surrogates, or more than `max` characters.
 */
export function textIssue(
  field: string,
  value: string,
  opts: { max?: number; kind: 'text' | 'name' | 'header' },
): FieldIssue | undefined {
  const control =
    opts.kind === 'text' ? CONTROL_IN_TEXT : opts.kind === 'header' ? CONTROL_IN_HEADER : CONTROL;
  if (control.test(value))
    return {
      field,
      rule: 'control_character',
      message:
        opts.kind === 'text'
          ? 'must not contain NUL or other control characters (tab, line feed and carriage return are allowed)'
          : 'must not contain NUL or other control characters',
    };
  if (LONE_SURROGATE.test(value))
    return {
      field,
      rule: 'unicode',
      message: 'must be well-formed Unicode (no lone UTF-16 surrogates)',
    };
  if (opts.max !== undefined && value.length > opts.max)
    return { field, rule: 'max_length', message: `must be at most ${opts.max} characters` };
  return undefined;
}

const encodingIssue = (field: string, what: string): FieldIssue => ({
  field,
  rule: 'encoding',
  message: `${what} must be valid percent-encoded UTF-8 in printable ASCII`,
});

/** The issues of a request's path (as sent, before decoding): its field is `path`. */
export function pathIssues(rawPath: string): FieldIssue[] {
  if (NOT_URL_ASCII.test(rawPath)) return [encodingIssue('path', 'the path')];
  for (const segment of rawPath.split('/')) {
    const value = decoded(segment, false);
    if (value === undefined) return [encodingIssue('path', 'the path')];
    const issue = textIssue('path', value, { max: InputLimits.pathSegment, kind: 'name' });
    if (issue) {
      if (issue.rule === 'max_length')
        issue.message = `each segment must be at most ${InputLimits.pathSegment} characters`;
      return [issue];
    }
  }
  return [];
}

/** The issues of a query string (as sent, without "?"): fields `query.<name>`. */
export function queryIssues(rawQuery: string): FieldIssue[] {
  if (rawQuery === '') return [];
  if (NOT_URL_ASCII.test(rawQuery)) return [encodingIssue('query', 'the query string')];
  const pairs = rawQuery.split('&').filter((p) => p !== '');
  if (pairs.length > InputLimits.queryParameters)
    return [
      {
        field: 'query',
        rule: 'max_items',
        message: `must have at most ${InputLimits.queryParameters} parameters`,
      },
    ];
  const issues: FieldIssue[] = [];
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const rawName = at < 0 ? pair : pair.slice(0, at);
    const name = decoded(rawName, true);
    const field = `query.${printable(name ?? rawName)}`;
    const value = at < 0 ? '' : decoded(pair.slice(at + 1), true);
    const issue =
      name === undefined || value === undefined
        ? encodingIssue(field, 'the parameter')
        : (textIssue(field, name, { max: InputLimits.queryName, kind: 'name' }) ??
          textIssue(field, value, { max: InputLimits.queryValue, kind: 'text' }));
    if (issue) issues.push(issue);
    if (issues.length >= InputLimits.issues) break;
  }
  return issues;
}

/** The issues of the headers (Node's rawHeaders: name, value, name, value...): fields `header.<name>`. */
export function headerIssues(rawHeaders: readonly string[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (let i = 0; i + 1 < rawHeaders.length && issues.length < InputLimits.issues; i += 2) {
    const field = `header.${printable(rawHeaders[i].toLowerCase())}`;
    const issue = textIssue(field, rawHeaders[i + 1], {
      max: InputLimits.headerValue,
      kind: 'header',
    });
    if (issue) issues.push(issue);
  }
  return issues;
}

/**
 * The issues of a parsed body: every key and string of a JSON or form body
 * (fields `body.<path>`, e.g. `body.articles[2].title`), or a text body
 * (field `body`). Nesting deeper than the limit is one issue at that depth.
 */
export function bodyIssues(body: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const visit = (value: unknown, field: string, depth: number): void => {
    if (issues.length >= InputLimits.issues) return;
    if (typeof value === 'string') {
      const issue = textIssue(field, value, { kind: 'text' });
      if (issue) issues.push(issue);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (depth >= InputLimits.bodyDepth) {
      issues.push({
        field,
        rule: 'max_depth',
        message: `must not nest deeper than ${InputLimits.bodyDepth} levels`,
      });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${field}[${i}]`, depth + 1));
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      const keyField = `${field}.${printable(key)}`;
      const issue = textIssue(keyField, key, { max: InputLimits.bodyKey, kind: 'name' });
      if (issue) {
        issue.message = `(the key) ${issue.message}`;
        issues.push(issue);
      } else visit(item, keyField, depth + 1);
      if (issues.length >= InputLimits.issues) return;
    }
  };
  visit(body, 'body', 0);
  return issues;
}
