import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import { Counter } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { Bus, deterministicId, Topics } from '@support/bus';
import {
  AgentAssignmentSchema,
  ChurnRiskSchema,
  HandoffRequestSchema,
  KnowledgeGapSchema,
  toJson,
  type AgentAssignment,
  type HandoffRequest,
  type InsightAlert,
} from '@support/contracts';
import { CONFIG, invalidInput, JsonLogger } from '@support/service-kit';
import type { Config } from '../config.js';
import {
  slackAssignment,
  slackChurnRisk,
  slackHandoff,
  slackKnowledgeGap,
  type SlackMessage,
} from '../domain/webhook-format.js';
import { DeskDatabase } from './db/store.js';
import { WebhookTargets } from './webhook-target.js';
import { deliveries, webhooks, type DeliveryRow, type WebhookRow } from './db/schema.js';

/**
 * The record types a webhook can subscribe to: handoffs (handoff.requests), assignments
 * (handoff.assignments), and the insights the metrics service raises (insights.alerts).
 */
export const WEBHOOK_EVENTS = [
  'handoff.requested',
  'handoff.assignment',
  'churn_risk',
  'knowledge_gap',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
/** What a subscription that names no events gets: the handoff records, as before insights existed. */
export const DEFAULT_WEBHOOK_EVENTS: WebhookEvent[] = ['handoff.requested', 'handoff.assignment'];
/** standard: the record as JSON ({ type, id, occurredAt, data }); slack: a Slack incoming-webhook message. */
export const WEBHOOK_FORMATS = ['standard', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export const webhookInputSchema = z.object({
  url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2000),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .default([...DEFAULT_WEBHOOK_EVENTS]),
  format: z.enum(WEBHOOK_FORMATS).default('standard'),
  description: z.string().trim().max(500).default(''),
});
export type WebhookInput = z.output<typeof webhookInputSchema>;

const delivered = new Counter({
  name: 'desk_webhook_deliveries_total',
  help: 'Webhook delivery attempts by outcome (delivered, retry, failed)',
  labelNames: ['outcome'],
});

/** How long the next attempt waits: base · 2^(attempts-1), at most an hour. */
export function backoffMs(attempts: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 3600_000);
}

/** The body a standard webhook receives: the record as protobuf JSON, with its type and id. */
export interface WebhookBody {
  type: WebhookEvent;
  /** The record's event id (an alert's id): the same on every retry, so receivers can drop repeats. */
  id: string;
  occurredAt: string;
  data: unknown;
}

/** One record on its way to the webhooks: what it is and how each format renders it. */
export interface WebhookRecord {
  type: WebhookEvent;
  id: string;
  occurredAt: string;
  standard: () => WebhookBody;
  slack: () => SlackMessage;
}

/** A record of handoff.requests or handoff.assignments, for the webhooks. */
export function handoffRecord(
  type: 'handoff.requested' | 'handoff.assignment',
  value: HandoffRequest | AgentAssignment,
  meta: { eventId: string; time: string },
): WebhookRecord {
  const data = () =>
    type === 'handoff.requested'
      ? toJson(HandoffRequestSchema, value as HandoffRequest)
      : toJson(AgentAssignmentSchema, value as AgentAssignment);
  return {
    type,
    id: meta.eventId,
    occurredAt: meta.time,
    standard: () => ({ type, id: meta.eventId, occurredAt: meta.time, data: data() }),
    slack: () =>
      type === 'handoff.requested'
        ? slackHandoff(value as HandoffRequest)
        : slackAssignment(value as AgentAssignment),
  };
}

/**
 * An alert of insights.alerts, for the webhooks; undefined for a kind the desk does not know.
 * Its id is the alert's, stable per signal and window, so an alert raised twice is delivered once.
 */
export function alertRecord(alert: InsightAlert): WebhookRecord | undefined {
  const p = alert.payload;
  if (p.case !== 'churnRisk' && p.case !== 'knowledgeGap') return undefined;
  const type: WebhookEvent = p.case === 'churnRisk' ? 'churn_risk' : 'knowledge_gap';
  const data = () =>
    p.case === 'churnRisk' ? toJson(ChurnRiskSchema, p.value) : toJson(KnowledgeGapSchema, p.value);
  return {
    type,
    id: alert.alertId,
    occurredAt: alert.occurredAt,
    standard: () => ({ type, id: alert.alertId, occurredAt: alert.occurredAt, data: data() }),
    slack: () => (p.case === 'churnRisk' ? slackChurnRisk(p.value) : slackKnowledgeGap(p.value)),
  };
}

/** Why an alert cannot be delivered, for the dead-letter topic; undefined when it can. */
export function invalidAlert(alert: InsightAlert): string | undefined {
  if (!alert.alertId) return 'alert_id is required';
  if (!alert.payload.case) return 'payload is required';
  return undefined;
}

/**
 * Signed webhook delivery for desks and tools that cannot read Kafka.
 * Handoffs, assignments and insight alerts go into an outbox in PostgreSQL
 * (one row per webhook and record, rendered in the webhook's format, so a
 * redelivered record is delivered once), and a worker POSTs them, signed per
 * Standard Webhooks (webhook-id, webhook-timestamp,
 * webhook-signature: HMAC-SHA256 with the subscription's secret), retrying
 * with exponential backoff until DESK_WEBHOOK_MAX_ATTEMPTS, then marking the
 * delivery failed (it can be retried by hand). Replicas share the outbox:
 * each claims rows with SKIP LOCKED.
 */
@Injectable()
export class WebhookService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private cache?: { at: number; rows: WebhookRow[] };
  readonly targets: WebhookTargets;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly bus: Bus,
    private readonly store: DeskDatabase,
    private readonly logger: JsonLogger,
  ) {
    this.targets = new WebhookTargets({
      allowPrivate: config.DESK_WEBHOOK_ALLOW_PRIVATE,
      allowedCidrs: config.DESK_WEBHOOK_ALLOWED_CIDRS,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      group: 'webhooks-requests',
      topic: Topics.handoffRequests,
      handle: (r) => this.enqueue(handoffRecord('handoff.requested', r.value, r.meta)),
    });
    await this.bus.consume({
      group: 'webhooks-assignments',
      topic: Topics.handoffAssignments,
      handle: (r) => this.enqueue(handoffRecord('handoff.assignment', r.value, r.meta)),
    });
    await this.bus.consume({
      group: 'webhooks-insights',
      topic: Topics.insightAlerts,
      validate: invalidAlert,
      handle: async (r) => {
        const record = alertRecord(r.value);
        if (record) await this.enqueue(record);
      },
    });
    this.timer = setInterval(() => void this.tick(), this.config.DESK_WEBHOOK_POLL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  private async subscribers(type: WebhookEvent): Promise<WebhookRow[]> {
    if (!this.cache || Date.now() - this.cache.at > 2000)
      this.cache = {
        at: Date.now(),
        rows: await this.store.db.select().from(webhooks).where(eq(webhooks.active, true)),
      };
    return this.cache.rows.filter((w) => w.events.includes(type));
  }

  private async enqueue(record: WebhookRecord): Promise<void> {
    const subscribers = await this.subscribers(record.type);
    if (subscribers.length === 0) return;
    await this.store.db
      .insert(deliveries)
      .values(
        subscribers.map((w) => ({
          id: deterministicId('webhook-delivery', w.id, record.id),
          webhookId: w.id,
          eventId: record.id,
          type: record.type,
          // Rendered now, in the webhook's format: every retry sends the same bytes.
          payload: w.format === 'slack' ? record.slack() : record.standard(),
        })),
      )
      .onConflictDoNothing();
  }

  /** One pass of the worker: claims due deliveries and sends them. */
  async tick(): Promise<number> {
    if (this.running || this.stopped) return 0;
    this.running = true;
    try {
      const lease = this.config.DESK_WEBHOOK_TIMEOUT_MS * 2;
      // Claimed rows are pushed into the future for the lease, so no other replica takes them meanwhile.
      const claimed = await this.store.db.execute<{ id: string }>(sql`
        update desk.webhook_deliveries set next_attempt_at = now() + ${`${lease} milliseconds`}::interval
        where id in (
          select id from desk.webhook_deliveries
          where status = 'pending' and next_attempt_at <= now()
          order by next_attempt_at limit 20 for update skip locked)
        returning id`);
      const ids = claimed.rows.map((r) => r.id);
      for (const id of ids) await this.send(id);
      return ids.length;
    } catch (err) {
      this.logger.warn('webhook worker pass failed', { error: (err as Error).message });
      return 0;
    } finally {
      this.running = false;
    }
  }

  private async send(deliveryId: string): Promise<void> {
    const [row] = await this.store.db
      .select({ d: deliveries, w: webhooks })
      .from(deliveries)
      .innerJoin(webhooks, eq(deliveries.webhookId, webhooks.id))
      .where(eq(deliveries.id, deliveryId));
    if (!row) return;
    const { d, w } = row;
    const body = JSON.stringify(d.payload);
    const now = new Date();
    let status: number | undefined;
    let error = '';
    try {
      // The target is checked again here, after DNS resolution, and the connection goes to the
      // address checked; redirects are not followed.
      status = await this.targets.post(
        w.url,
        {
          'content-type': 'application/json',
          'user-agent': 'support-desk-webhooks/1',
          'webhook-id': d.id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': new Webhook(w.secret).sign(d.id, now, body),
        },
        body,
        this.config.DESK_WEBHOOK_TIMEOUT_MS,
      );
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (err) {
      const name = (err as Error).name;
      error =
        name === 'TimeoutError' || name === 'AbortError' ? 'timed out' : (err as Error).message;
    }
    const attempts = d.attempts + 1;
    if (!error) {
      await this.store.db
        .update(deliveries)
        .set({
          status: 'delivered',
          attempts,
          lastStatus: status ?? null,
          lastError: '',
          deliveredAt: new Date(),
        })
        .where(eq(deliveries.id, d.id));
      delivered.inc({ outcome: 'delivered' });
      return;
    }
    const failed = attempts >= this.config.DESK_WEBHOOK_MAX_ATTEMPTS;
    await this.store.db
      .update(deliveries)
      .set({
        status: failed ? 'failed' : 'pending',
        attempts,
        lastStatus: status ?? null,
        lastError: error.slice(0, 500),
        nextAttemptAt: new Date(
          Date.now() + backoffMs(attempts, this.config.DESK_WEBHOOK_RETRY_BASE_MS),
        ),
      })
      .where(eq(deliveries.id, d.id));
    delivered.inc({ outcome: failed ? 'failed' : 'retry' });
    this.logger.warn(
      failed ? 'webhook delivery failed for good' : 'webhook delivery will be retried',
      {
        webhookId: w.id,
        deliveryId: d.id,
        attempts,
        error,
      },
    );
  }

  // The admin API.

  /** Registers a webhook; a 400 naming `url` when its target is refused (see WebhookTargets). */
  async create(input: WebhookInput): Promise<WebhookRow> {
    const refusal = await this.targets.refusal(input.url);
    if (refusal) throw invalidInput([{ field: 'url', rule: 'public_address', message: refusal }]);
    const [row] = await this.store.db
      .insert(webhooks)
      .values({
        id: randomUUID(),
        url: input.url,
        secret: `whsec_${randomBytes(24).toString('base64')}`,
        events: input.events,
        format: input.format,
        description: input.description,
      })
      .returning();
    this.cache = undefined;
    return row!;
  }

  /** Every webhook, without its secret. */
  async list(): Promise<Omit<WebhookRow, 'secret'>[]> {
    const rows = await this.store.db.select().from(webhooks).orderBy(webhooks.createdAt);
    return rows.map(({ secret: _s, ...rest }) => rest);
  }

  /** Removes a webhook with its deliveries; the removed row, or undefined if there was none. */
  async remove(id: string): Promise<WebhookRow | undefined> {
    const [removed] = await this.store.db.delete(webhooks).where(eq(webhooks.id, id)).returning();
    this.cache = undefined;
    return removed;
  }

  async deliveries(webhookId: string, status?: string, limit = 50): Promise<DeliveryRow[]> {
    return this.store.db
      .select()
      .from(deliveries)
      .where(
        status
          ? and(eq(deliveries.webhookId, webhookId), eq(deliveries.status, status))
          : eq(deliveries.webhookId, webhookId),
      )
      .orderBy(desc(deliveries.createdAt))
      .limit(limit);
  }

  /** Sends a failed (or pending) delivery again now, with a fresh count of attempts. */
  async retry(webhookId: string, deliveryId: string): Promise<boolean> {
    const updated = await this.store.db
      .update(deliveries)
      .set({ status: 'pending', attempts: 0, nextAttemptAt: new Date() })
      .where(and(eq(deliveries.id, deliveryId), eq(deliveries.webhookId, webhookId)))
      .returning();
    return updated.length > 0;
  }
}
