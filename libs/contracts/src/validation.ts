/**
 * Validation rules for the messages that enter the system from outside.
 * The proto files define the shapes; these rules say which values are
 * acceptable. The same rules serve HTTP (a 400 naming the field) and Kafka
 * (a dead-letter record naming the field).
 */
import { fromJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { InboundMessageSchema, type InboundMessage } from './gen/support/v1/inbound_pb.js';

export interface FieldIssue {
  /** The field, as named in JSON (camelCase). */
  field: string;
  /** The rule that failed: "required", "max_length", "pattern", "url", "timestamp", "type", "unknown_field". */
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
  pageUrl: { maxLength: 2000, url: true },
  idempotencyKey: { required: true, maxLength: 200 },
  accountId: { maxLength: 200 },
  sentAt: { timestamp: true },
};

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
  if (rule.url) {
    let ok = false;
    try {
      const u = new URL(value);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) return { field, rule: 'url', message: 'must be an absolute http(s) URL' };
  }
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

export function validateInboundMessage(message: InboundMessage): FieldIssue[] {
  return validateMessage(message, inboundMessageRules);
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
  const message = decodeJsonBody(InboundMessageSchema, body);
  const issues = validateInboundMessage(message);
  if (issues.length) throw new ValidationError(issues);
  return message;
}
