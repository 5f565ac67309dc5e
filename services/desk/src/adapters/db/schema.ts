import {
  boolean,
  index,
  integer,
  jsonb,
  pgSchema,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/** The desk's own PostgreSQL schema: who may sign in, and where handoffs are delivered. */
export const deskSchema = pgSchema('desk');

/** A sign-in for an agent of the router's directory (the agent id is the router's). */
export const logins = deskSchema.table('logins', {
  /** The e-mail address or user name the agent signs in with, lower case. */
  login: text('login').primaryKey(),
  agentId: text('agent_id').notNull(),
  name: text('name').notNull(),
  team: text('team').notNull().default(''),
  /** scrypt: `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`. */
  passwordHash: text('password_hash').notNull(),
  disabled: boolean('disabled').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A signed-in session: the session cookie names it (the token's `jti`), and it counts only while
 * its row is here and unexpired. Signing out deletes the row, a password change deletes the
 * login's other rows, and removing the login deletes them all (cascade).
 */
export const sessions = deskSchema.table(
  'sessions',
  {
    id: text('id').primaryKey(),
    login: text('login')
      .notNull()
      .references(() => logins.login, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('sessions_login').on(t.login), index('sessions_expiry').on(t.expiresAt)],
);

/**
 * Administrative changes in every service, kept from admin.audit (one row per record id, so a
 * record delivered twice is stored once), for GET /v1/audit.
 */
export const audit = deskSchema.table(
  'audit',
  {
    auditId: text('audit_id').primaryKey(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    service: text('service').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id').notNull(),
    detail: jsonb('detail').notNull().default({}),
  },
  (t) => [
    index('audit_time').on(t.occurredAt),
    index('audit_resource').on(t.resourceType, t.occurredAt),
    index('audit_actor').on(t.actor, t.occurredAt),
  ],
);

/** A subscription: handoff records POSTed to `url`, signed with `secret` (Standard Webhooks). */
export const webhooks = deskSchema.table('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  /** `whsec_<base64>`: the receiver verifies signatures with it. */
  secret: text('secret').notNull(),
  /** Which records: handoff.requested, handoff.assignment, churn_risk, knowledge_gap. */
  events: text('events').array().notNull(),
  /** standard (the record as JSON) or slack (a Slack-compatible message: text and blocks). */
  format: text('format', { enum: ['standard', 'slack'] })
    .notNull()
    .default('standard'),
  description: text('description').notNull().default(''),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The outbox of webhook deliveries: one row per (webhook, record), retried until delivered or given up. */
export const deliveries = deskSchema.table(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    /** The record's event id: a redelivered record is the same delivery. */
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    /** pending, delivered or failed (gave up after the maximum attempts). */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastStatus: integer('last_status'),
    lastError: text('last_error').notNull().default(''),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_once').on(t.webhookId, t.eventId),
    index('webhook_deliveries_due').on(t.status, t.nextAttemptAt),
  ],
);

/**
 * The knowledge suggestions awaiting approval at the desk, kept from knowledge.events (the AI
 * responder owns the knowledge base; the desk's decisions go back on knowledge.reviews).
 */
export const suggestions = deskSchema.table(
  'kb_suggestions',
  {
    suggestionId: text('suggestion_id').primaryKey(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    tags: text('tags').array().notNull().default([]),
    topic: text('topic').notNull().default(''),
    /** resolution (made from a person's replies) or agent (proposed at the desk). */
    origin: text('origin').notNull().default('resolution'),
    /** pending, approved, rejected or expired. */
    status: text('status').notNull().default('pending'),
    /** How many resolutions it stands for (near-duplicates merged into it). */
    occurrences: integer('occurrences').notNull().default(1),
    /** The conversations it came from: [{ conversationId, handoffId, agentId, question }]. */
    sources: jsonb('sources').notNull().default([]),
    articleId: text('article_id'),
    reviewerId: text('reviewer_id'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('kb_suggestions_status').on(t.status, t.createdAt)],
);

export type LoginRow = typeof logins.$inferSelect;
export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
export type SuggestionRow = typeof suggestions.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type AuditRow = typeof audit.$inferSelect;
