import { index, integer, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

/** The metrics service's own PostgreSQL schema: a read model of the conversation log. */
export const metricsSchema = pgSchema('metrics');

/** Every log event applied, so that a redelivered event never counts twice. */
export const processedEvents = metricsSchema.table('processed_events', {
  eventId: text('event_id').primaryKey(),
});

/** One row per conversation, kept up to date from its events. */
export const conversations = metricsSchema.table(
  'conversations',
  {
    conversationId: text('conversation_id').primaryKey(),
    channel: text('channel').notNull().default(''),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    aiReplies: integer('ai_replies').notNull().default(0),
    handoffs: integer('handoffs').notNull().default(0),
    firstHandoffAt: timestamp('first_handoff_at', { withTimezone: true }),
    assignedAt: timestamp('assigned_at', { withTimezone: true }),
    status: text('status').notNull(),
    resolvedAs: text('resolved_as', { enum: ['ai', 'human'] }),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    reopened: integer('reopened').notNull().default(0),
  },
  (t) => [index('conversations_started_at_idx').on(t.startedAt)],
);
