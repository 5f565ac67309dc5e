import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Bus, Topics } from '@support/bus';
import { AuditRecordSchema, create, type AuditRecord } from '@support/contracts';
import { SERVICE_NAME } from './nest.js';

/** One administrative change, as a service records it. */
export interface AuditEntry {
  /**
   * Who made the change: `loginActor(login)` for a signed-in person, `apiKeyActor(authorization)`
   * for a caller with an API key, or another `<kind>:<id>`.
   */
  actor: string;
  /** `<resource type>.<verb in the past tense>`, lower case: `agent.updated`, `policy.activated`. */
  action: string;
  /** What was changed: `agent`, `login`, `article`, `policy`, `webhook`... */
  resourceType: string;
  resourceId: string;
  /**
   * What changed, briefly (field names, new non-secret values). Values under secret-like keys
   * (password, secret, token, key, hash, authorization, credential), other than true/false, are
   * replaced with "[redacted]"; a detail longer than 2,000 characters of JSON is cut to its field names.
   */
  detail?: Record<string, unknown>;
  /** When; now if left out. */
  occurredAt?: Date;
  /** The record's id, for a caller that retries the same change; a new UUID if left out. */
  auditId?: string;
  correlationId?: string;
}

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|^key$|hash|authorization|credential/i;
const MAX_DETAIL = 2000;

/** A signed-in person's actor id. */
export const loginActor = (login: string): string => `login:${login}`;

/** A short, stable fingerprint of an API key (12 hex digits of its SHA-256): names the key without revealing it. */
export const apiKeyFingerprint = (key: string): string =>
  createHash('sha256').update(key).digest('hex').slice(0, 12);

/** The actor of a request authenticated with `Authorization: Bearer <key>`: `api-key:<fingerprint>`. */
export function apiKeyActor(authorization: string | undefined): string {
  const key = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
  return key ? `api-key:${apiKeyFingerprint(key)}` : 'api-key:unknown';
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        // A flag (passwordChanged: true) says nothing secret.
        SECRET_KEY.test(k) && typeof v !== 'boolean' && v !== null ? '[redacted]' : redact(v),
      ]),
    );
  return value;
}

/** The detail as stored: secrets redacted, at most 2,000 characters of JSON. */
export function auditDetailJson(detail: Record<string, unknown> = {}): string {
  const json = JSON.stringify(redact(detail));
  if (json.length <= MAX_DETAIL) return json;
  return JSON.stringify({ truncated: true, fields: Object.keys(detail).slice(0, 50) });
}

/** The record an entry becomes; throws for an entry a program should never make (no actor, a malformed action). */
export function auditRecord(entry: AuditEntry, service: string): AuditRecord {
  for (const field of ['actor', 'resourceType', 'resourceId'] as const)
    if (!entry[field]?.trim()) throw new Error(`audit entry: ${field} is required`);
  if (!ACTION.test(entry.action))
    throw new Error(
      `audit entry: action "${entry.action}" must be "<resource type>.<verb>" in lower case`,
    );
  return create(AuditRecordSchema, {
    auditId: entry.auditId ?? randomUUID(),
    occurredAt: (entry.occurredAt ?? new Date()).toISOString(),
    service,
    actor: entry.actor,
    action: entry.action,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId,
    detailJson: auditDetailJson(entry.detail),
  });
}

/**
 * Records administrative changes on `admin.audit` (proto/support/v1/audit.proto), where the
 * desk keeps them for administrators (GET /v1/audit on the desk). Any service can use it:
 * add `AuditTrail` to the module's providers (ServiceKitModule supplies the Bus and the
 * service name), inject it, and after the change is stored:
 *
 * ```ts
 * await this.audit.record({
 *   actor: apiKeyActor(req.headers.authorization),
 *   action: 'agent.updated',
 *   resourceType: 'agent',
 *   resourceId: agentId,
 *   detail: { changed: ['skills', 'maxConcurrent'] },
 * });
 * ```
 *
 * Records are keyed by `<resourceType>:<resourceId>`, so one resource's changes stay in order.
 */
@Injectable()
export class AuditTrail {
  constructor(
    private readonly bus: Bus,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  /** Publishes the change; resolves with the record's id once Kafka has it. */
  async record(entry: AuditEntry): Promise<string> {
    const value = auditRecord(entry, this.service);
    await this.bus.publish({
      topic: Topics.audit,
      key: `${value.resourceType}:${value.resourceId}`,
      value,
      eventId: value.auditId,
      ...(entry.correlationId ? { correlationId: entry.correlationId } : {}),
    });
    return value.auditId;
  }
}
