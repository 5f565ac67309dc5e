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

/** A subscription: handoff records POSTed to `url`, signed with `secret` (Standard Webhooks). */
export const webhooks = deskSchema.table('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  /** `whsec_<base64>`: the receiver verifies signatures with it. */
  secret: text('secret').notNull(),
  /** Which records: handoff.requested, handoff.assignment. */
  events: text('events').array().notNull(),
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

export type LoginRow = typeof logins.$inferSelect;
export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
