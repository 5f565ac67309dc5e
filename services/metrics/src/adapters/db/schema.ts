import {
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgSchema,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { TriggerRecord } from '../../domain/read-model.js';

/** The metrics service's own PostgreSQL schema: a read model of the conversation log. */
export const metricsSchema = pgSchema('metrics');

const at = (name: string) => timestamp(name, { withTimezone: true });

/** Every event applied (knowledge events prefixed "knowledge:"), so that a redelivery never counts twice. */
export const processedEvents = metricsSchema.table('processed_events', {
  eventId: text('event_id').primaryKey(),
});

/** One row per conversation, kept up to date from its events. */
export const conversations = metricsSchema.table(
  'conversations',
  {
    conversationId: text('conversation_id').primaryKey(),
    channel: text('channel').notNull().default(''),
    tier: text('tier').notNull().default(''),
    language: text('language').notNull().default(''),
    topic: text('topic').notNull().default(''),
    policyVersion: text('policy_version').notNull().default(''),
    accountId: text('account_id').notNull().default(''),
    accountName: text('account_name').notNull().default(''),
    accountOwner: text('account_owner').notNull().default(''),
    accountMonthlyValue: doublePrecision('account_monthly_value').notNull().default(0),
    accountCurrency: text('account_currency').notNull().default(''),
    accountAtRisk: boolean('account_at_risk').notNull().default(false),
    accountVip: boolean('account_vip').notNull().default(false),
    startedAt: at('started_at').notNull(),
    firstMessageAt: at('first_message_at'),
    aiReplies: integer('ai_replies').notNull().default(0),
    handoffs: integer('handoffs').notNull().default(0),
    firstHandoffAt: at('first_handoff_at'),
    firstTriggerAt: at('first_trigger_at'),
    assignedAt: at('assigned_at'),
    status: text('status').notNull(),
    resolvedAs: text('resolved_as', { enum: ['ai', 'human'] }),
    resolvedAt: at('resolved_at'),
    assumed: boolean('assumed').notNull().default(false),
    aiResolvedAt: at('ai_resolved_at'),
    reopenedAfterAi: boolean('reopened_after_ai').notNull().default(false),
    reopened: integer('reopened').notNull().default(0),
    csatRequested: boolean('csat_requested').notNull().default(false),
    csatScore: smallint('csat_score'),
    lowestSentiment: doublePrecision('lowest_sentiment'),
    largestFall: doublePrecision('largest_fall'),
    messageTimes: jsonb('message_times').$type<Record<string, string>>().notNull().default({}),
  },
  (t) => [
    index('conversations_started_at_idx').on(t.startedAt),
    index('conversations_channel_idx').on(t.channel, t.startedAt),
    index('conversations_tier_idx').on(t.tier, t.startedAt),
    index('conversations_language_idx').on(t.language, t.startedAt),
    index('conversations_topic_idx').on(t.topic, t.startedAt),
    index('conversations_policy_version_idx').on(t.policyVersion, t.startedAt),
    index('conversations_account_idx').on(t.accountId),
  ],
);

/** One row per handoff id; a re-routed handoff (several assignments) is one row. */
export const handoffs = metricsSchema.table(
  'handoffs',
  {
    handoffId: text('handoff_id').primaryKey(),
    conversationId: text('conversation_id').notNull(),
    requestedAt: at('requested_at'),
    triggerAt: at('trigger_at'),
    rules: text('rules').array().notNull().default([]),
    triggers: jsonb('triggers').$type<TriggerRecord[]>().notNull().default([]),
    priority: text('priority').notNull().default(''),
    policyVersion: text('policy_version').notNull().default(''),
    topic: text('topic').notNull().default(''),
    assignments: integer('assignments').notNull().default(0),
    assignedAt: at('assigned_at'),
    acceptedAt: at('accepted_at'),
    firstReplyAt: at('first_reply_at'),
    falseMarked: boolean('false_marked').notNull().default(false),
    matchedArticleId: text('matched_article_id').notNull().default(''),
    handedBackAt: at('handed_back_at'),
    resolvedAt: at('resolved_at'),
  },
  (t) => [index('handoffs_conversation_idx').on(t.conversationId)],
);

/** Articles published in the knowledge base (knowledge.events), for the topics' before/after. */
export const articles = metricsSchema.table(
  'articles',
  {
    articleId: text('article_id').primaryKey(),
    title: text('title').notNull(),
    topic: text('topic').notNull(),
    publishedAt: at('published_at').notNull(),
  },
  (t) => [index('articles_topic_idx').on(t.topic)],
);

/** One row per review of an AI draft (ReviewRequested) and how the reviewer decided. */
export const reviews = metricsSchema.table(
  'reviews',
  {
    reviewId: text('review_id').primaryKey(),
    conversationId: text('conversation_id').notNull(),
    requestedAt: at('requested_at').notNull(),
    rules: text('rules').array().notNull().default([]),
    policyVersion: text('policy_version').notNull().default(''),
    topic: text('topic').notNull().default(''),
    assignedAt: at('assigned_at'),
    outcome: text('outcome', { enum: ['', 'approved', 'edited', 'taken_over'] })
      .notNull()
      .default(''),
    completedAt: at('completed_at'),
  },
  (t) => [index('reviews_conversation_idx').on(t.conversationId)],
);
