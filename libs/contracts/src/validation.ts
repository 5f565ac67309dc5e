/**
 * Validation rules for the messages that enter the system from outside.
 * The proto files define the shapes; these rules say which values are
 * acceptable. The same rules serve HTTP (a 400 naming the field) and Kafka
 * (a dead-letter record naming the field).
 */
import { fromJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import {
  CsatRatingSchema,
  InboundMessageSchema,
  type CsatRating,
  type InboundMessage,
} from './gen/support/v1/inbound_pb.js';

export interface FieldIssue {
  /** The field, as named in JSON (camelCase). */
  field: string;
  /** The rule that failed: "required", "max_length", "pattern", "url", "timestamp", "type", "range", "unknown_field". */
  rule: string;
  message: string;
}

export class ValidationError extends Error {
  constructor(public readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    this.name = 'ValidationError';
  }
}

interface StringRule {
  required?: boolean;
  maxLength?: number;
  pattern?: RegExp;
  patternHint?: string;
  url?: boolean;
  /** An absolute http(s) URL, or a path on the product's site ("/billing/invoices?tab=open"). */
  page?: boolean;
  timestamp?: boolean;
}

type Rules<T> = { [K in keyof T]?: StringRule };

const BCP47 = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export const inboundMessageRules: Rules<InboundMessage> = {
  channel: {
    required: true,
    maxLength: 32,
    pattern: /^[a-z][a-z0-9_-]*$/,
    patternHint: 'lower-case letters, digits, "-" or "_", starting with a letter',
  },
  externalConversationId: { required: true, maxLength: 200 },
  customerId: { required: true, maxLength: 200 },
  text: { required: true, maxLength: 8000 },
  locale: {
    maxLength: 35,
    pattern: BCP47,
    patternHint: 'a BCP 47 language tag such as "en" or "de-AT"',
  },
  pageUrl: { maxLength: 2000, page: true },
  idempotencyKey: { required: true, maxLength: 200 },
  accountId: { maxLength: 200 },
  sentAt: { timestamp: true },
};

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** A path on the site: "/" then no second "/" (that would name another host), no spaces or controls. */
function isPath(value: string): boolean {
  if (!/^\/(?![/\\])\S*$/.test(value) || /\p{Cc}/u.test(value)) return false;
  try {
    return new URL(value, 'http://host.invalid').host === 'host.invalid';
  } catch {
    return false;
  }
}

function checkString(field: string, value: string, rule: StringRule): FieldIssue | undefined {
  if (rule.required && value.trim().length === 0) {
    return { field, rule: 'required', message: 'is required and must not be blank' };
  }
  if (value.length === 0) return undefined;
  if (rule.maxLength !== undefined && value.length > rule.maxLength) {
    return { field, rule: 'max_length', message: `must be at most ${rule.maxLength} characters` };
  }
  if (rule.pattern && !rule.pattern.test(value)) {
    return {
      field,
      rule: 'pattern',
      message: `must be ${rule.patternHint ?? `like ${rule.pattern}`}`,
    };
  }
  if (rule.url && !isHttpUrl(value))
    return { field, rule: 'url', message: 'must be an absolute http(s) URL' };
  if (rule.page && !isHttpUrl(value) && !isPath(value))
    return {
      field,
      rule: 'url',
      message: 'must be an absolute http(s) URL or a path starting with "/", such as /billing',
    };
  if (rule.timestamp && (!RFC3339.test(value) || Number.isNaN(Date.parse(value)))) {
    return {
      field,
      rule: 'timestamp',
      message: 'must be an RFC 3339 time such as 2026-01-31T12:00:00Z',
    };
  }
  return undefined;
}

/** Checks a decoded message against its rules; returns every issue found. */
export function validateMessage<T extends object>(message: T, rules: Rules<T>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [field, rule] of Object.entries(rules) as [string, StringRule][]) {
    const value = (message as Record<string, unknown>)[field];
    const issue = checkString(field, typeof value === 'string' ? value : '', rule);
    if (issue) issues.push(issue);
  }
  return issues;
}

/** The limits of a satisfaction rating (CsatRating). */
export const CsatLimits = { minScore: 1, maxScore: 5, comment: 2000, requestId: 200 } as const;

/**
 * Checks a decoded rating; `prefix` names its fields as the enclosing JSON
 * does ("csat." inside an InboundMessage, nothing for a rating on its own).
 */
export function validateCsatRating(rating: CsatRating, prefix = ''): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const { minScore, maxScore } = CsatLimits;
  if (!Number.isInteger(rating.score) || rating.score < minScore || rating.score > maxScore) {
    issues.push({
      field: `${prefix}score`,
      rule: 'range',
      message: `must be a whole number from ${minScore} (very dissatisfied) to ${maxScore} (very satisfied)`,
    });
  }
  const comment = checkString(`${prefix}comment`, rating.comment, {
    maxLength: CsatLimits.comment,
  });
  if (comment) issues.push(comment);
  const requestId = checkString(`${prefix}requestId`, rating.requestId, {
    maxLength: CsatLimits.requestId,
  });
  if (requestId) issues.push(requestId);
  return issues;
}

/**
 * A message, or with `csat` set a satisfaction rating, in which case the
 * text may be empty (it is not a message of the conversation then).
 */
export function validateInboundMessage(message: InboundMessage): FieldIssue[] {
  if (!message.csat) return validateMessage(message, inboundMessageRules);
  return [
    ...validateMessage(message, { ...inboundMessageRules, text: { maxLength: 8000 } }),
    ...validateCsatRating(message.csat, 'csat.'),
  ];
}

/**
 * The type rules of a rating in JSON, checked before decoding so that a
 * score of 4.5 or "five" is reported under its field's name.
 */
function csatJsonIssues(value: unknown, prefix: string): FieldIssue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [
      {
        field: prefix.replace(/\.$/, '') || '(body)',
        rule: 'type',
        message: 'must be a JSON object',
      },
    ];
  }
  const issues: FieldIssue[] = [];
  const names: Record<string, string> = {
    score: 'score',
    comment: 'comment',
    requestId: 'requestId',
    request_id: 'requestId',
  };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const name = names[key];
    if (!name) {
      issues.push({
        field: `${prefix}${key}`,
        rule: 'unknown_field',
        message: 'is not a field of a rating (score, comment, requestId)',
      });
    } else if (name === 'score') {
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        issues.push({
          field: `${prefix}score`,
          rule: 'type',
          message: `must be a whole number from ${CsatLimits.minScore} to ${CsatLimits.maxScore}`,
        });
      }
    } else if (v !== null && v !== undefined && typeof v !== 'string') {
      issues.push({ field: `${prefix}${name}`, rule: 'type', message: 'must be a string' });
    }
  }
  if (!('score' in (value as object))) {
    issues.push({
      field: `${prefix}score`,
      rule: 'required',
      message: `is required: a whole number from ${CsatLimits.minScore} to ${CsatLimits.maxScore}`,
    });
  }
  return issues;
}

/**
 * A rating from a JSON body ({ score, comment?, requestId? }); throws
 * ValidationError naming the field.
 */
export function parseCsatJson(body: unknown): CsatRating {
  const issues = csatJsonIssues(body, '');
  if (issues.length) throw new ValidationError(issues);
  const b = body as { score: number; comment?: string; requestId?: string; request_id?: string };
  const rating = create(CsatRatingSchema, {
    score: b.score,
    comment: b.comment ?? '',
    requestId: b.requestId ?? b.request_id ?? '',
  });
  const invalid = validateCsatRating(rating);
  if (invalid.length) throw new ValidationError(invalid);
  return rating;
}

/**
 * Decodes a JSON body into a message of the given schema, field by field, so
 * that a wrong type or an unknown field is reported with the field's name.
 * Accepts the proto JSON names (camelCase) and the proto field names (snake_case).
 */
export function decodeJsonBody<Desc extends DescMessage>(
  schema: Desc,
  body: unknown,
): MessageShape<Desc> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError([
      { field: '(body)', rule: 'type', message: 'must be a JSON object' },
    ]);
  }
  const issues: FieldIssue[] = [];
  const known = new Map<string, string>();
  for (const f of schema.fields) {
    known.set(f.jsonName, f.jsonName);
    known.set(f.name, f.jsonName);
  }
  const normalised: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const jsonName = known.get(key);
    if (!jsonName) {
      issues.push({ field: key, rule: 'unknown_field', message: 'is not a field of this message' });
      continue;
    }
    const field = schema.fields.find((f) => f.jsonName === jsonName)!;
    if (value === null || value === undefined) continue;
    if (
      field.fieldKind === 'scalar' &&
      field.scalar === 9 /* STRING */ &&
      typeof value !== 'string'
    ) {
      issues.push({ field: jsonName, rule: 'type', message: 'must be a string' });
      continue;
    }
    normalised[jsonName] = value;
  }
  if (issues.length) throw new ValidationError(issues);
  try {
    return fromJson(schema, normalised as never) as MessageShape<Desc>;
  } catch (err) {
    throw new ValidationError([{ field: '(body)', rule: 'type', message: (err as Error).message }]);
  }
}

/** Decodes and validates an inbound message from a JSON body; throws ValidationError. */
export function parseInboundJson(body: unknown): InboundMessage {
  if (typeof body === 'object' && body !== null && 'csat' in body) {
    const csat = (body as { csat: unknown }).csat;
    const issues = csat === null || csat === undefined ? [] : csatJsonIssues(csat, 'csat.');
    if (issues.length) throw new ValidationError(issues);
  }
  const message = decodeJsonBody(InboundMessageSchema, body);
  const issues = validateInboundMessage(message);
  if (issues.length) throw new ValidationError(issues);
  return message;
}
