import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { Bus, Topics } from '@support/bus';
import type { AuditRecord } from '@support/contracts';
import { DeskDatabase } from './db/store.js';
import { audit, type AuditRow } from './db/schema.js';

export const auditQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time' }).optional(),
    to: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time' }).optional(),
    resourceType: z.string().trim().min(1).max(100).optional(),
    resourceId: z.string().trim().min(1).max(300).optional(),
    actor: z.string().trim().min(1).max(300).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    path: ['to'],
    message: 'must be after from',
  });
export type AuditQuery = z.output<typeof auditQuerySchema>;

/** Why an audit record cannot be kept (it goes to admin.audit.dlq); undefined when it can. */
export function invalidAuditRecord(r: AuditRecord): string | undefined {
  for (const [field, value] of [
    ['audit_id', r.auditId],
    ['actor', r.actor],
    ['action', r.action],
    ['resource_type', r.resourceType],
    ['resource_id', r.resourceId],
  ] as const)
    if (!value) return `${field} is required`;
  if (Number.isNaN(Date.parse(r.occurredAt))) return 'occurred_at must be an RFC 3339 time';
  try {
    const detail: unknown = JSON.parse(r.detailJson || '{}');
    if (!detail || typeof detail !== 'object' || Array.isArray(detail))
      return 'detail_json must be a JSON object';
  } catch {
    return 'detail_json must be JSON';
  }
  return undefined;
}

/**
 * The audit log: every service's admin.audit records, kept in desk.audit (once per record id),
 * for administrators to read (GET /v1/audit).
 */
@Injectable()
export class AuditLog implements OnApplicationBootstrap {
  constructor(
    private readonly bus: Bus,
    private readonly store: DeskDatabase,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      group: 'audit',
      topic: Topics.audit,
      validate: invalidAuditRecord,
      handle: (r) => this.keep(r.value),
    });
  }

  async keep(r: AuditRecord): Promise<void> {
    await this.store.db
      .insert(audit)
      .values({
        auditId: r.auditId,
        occurredAt: new Date(r.occurredAt),
        service: r.service,
        actor: r.actor,
        action: r.action,
        resourceType: r.resourceType,
        resourceId: r.resourceId,
        detail: JSON.parse(r.detailJson || '{}') as Record<string, unknown>,
      })
      .onConflictDoNothing();
  }

  /** Newest first; `from` inclusive, `to` exclusive. */
  async find(q: AuditQuery): Promise<AuditRow[]> {
    const where: SQL[] = [];
    if (q.from) where.push(gte(audit.occurredAt, new Date(q.from)));
    if (q.to) where.push(lt(audit.occurredAt, new Date(q.to)));
    if (q.resourceType) where.push(eq(audit.resourceType, q.resourceType));
    if (q.resourceId) where.push(eq(audit.resourceId, q.resourceId));
    if (q.actor) where.push(eq(audit.actor, q.actor));
    return this.store.db
      .select()
      .from(audit)
      .where(and(...where))
      .orderBy(desc(audit.occurredAt), desc(audit.auditId))
      .limit(q.limit);
  }
}
