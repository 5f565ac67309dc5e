import { sql } from 'drizzle-orm';
import {
  bigserial,
  index,
  jsonb,
  integer,
  pgSchema,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/** The knowledge base, owned by ai-responder. */
export const aiResponder = pgSchema('ai_responder');

export const articleStatus = aiResponder.enum('article_status', ['draft', 'published', 'retired']);

const textArray = (name: string) =>
  text(name)
    .array()
    .notNull()
    .default(sql`'{}'::text[]`);

const at = (name: string) =>
  timestamp(name, { withTimezone: true, mode: 'string' }).notNull().defaultNow();

/** The current version of every article. */
export const articles = aiResponder.table(
  'articles',
  {
    /** A slug, e.g. "reset-password". */
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    /** Markdown. */
    body: text('body').notNull(),
    tags: textArray('tags'),
    /** BCP 47 language tag, e.g. "en", "fr", "pt-BR". */
    locale: text('locale').notNull().default('en'),
    /** The product pages or features the article applies to. */
    productAreas: textArray('product_areas'),
    /** The pages it applies to: path patterns ("/billing/*") or absolute URLs; retrieval prefers it there. */
    pages: textArray('pages'),
    status: articleStatus('status').notNull().default('draft'),
    version: integer('version').notNull().default(1),
    /** Where the current version came from: json, markdown, html, api, seed or agent (a proposal from a conversation). */
    source: text('source').notNull().default('api'),
    createdAt: at('created_at'),
    updatedAt: at('updated_at'),
  },
  (t) => [index('articles_status_idx').on(t.status)],
);

/** Every version of every article, the current one included: nothing is overwritten. */
export const articleVersions = aiResponder.table(
  'article_versions',
  {
    articleId: text('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    tags: textArray('tags'),
    locale: text('locale').notNull(),
    productAreas: textArray('product_areas'),
    pages: textArray('pages'),
    status: articleStatus('status').notNull(),
    source: text('source').notNull(),
    /** Who made the change: the API key's label, or "seed". */
    changedBy: text('changed_by').notNull(),
    changedAt: at('changed_at'),
  },
  (t) => [primaryKey({ columns: [t.articleId, t.version] })],
);

/**
 * The passages retrieval searches (BM25 in memory, see PassageIndex): each
 * article's current version split by the LangChain Markdown splitter.
 * Rewritten whenever the article changes.
 */
export const passages = aiResponder.table(
  'passages',
  {
    /** "<article id>#<ordinal>". */
    id: text('id').primaryKey(),
    articleId: text('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    articleVersion: integer('article_version').notNull(),
    ordinal: integer('ordinal').notNull(),
    /** The section heading the passage sits under, if any. */
    heading: text('heading').notNull().default(''),
    text: text('text').notNull(),
    /** The splitter settings that made it; passages from other settings are re-split at start-up. */
    splitter: text('splitter').notNull(),
    /** Vector from the configured embeddings provider, when one is set. */
    embedding: real('embedding').array(),
    embeddingModel: text('embedding_model'),
  },
  (t) => [index('passages_article_idx').on(t.articleId)],
);

/**
 * The learning loop's suggestions: articles made from people's resolutions of
 * handed-off conversations (or proposed by an agent), awaiting a reviewer at a
 * desk (knowledge.reviews). Near-duplicate resolutions are merged into one
 * (occurrences, sources); approval publishes the article (articleId).
 */
export const kbSuggestions = aiResponder.table(
  'kb_suggestions',
  {
    suggestionId: text('suggestion_id').primaryKey(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    tags: textArray('tags'),
    topic: text('topic').notNull().default(''),
    locale: text('locale').notNull().default('en'),
    /** resolution (made from a person's replies) or agent (proposed at the desk). */
    origin: text('origin').notNull().default('resolution'),
    /** pending, approved, rejected or expired. */
    status: text('status').notNull().default('pending'),
    occurrences: integer('occurrences').notNull().default(1),
    /** [{ conversationId, handoffId, agentId, question }], oldest first. */
    sources: jsonb('sources').notNull().default([]),
    /** The sentence vector of question and answer, for near-duplicates, and the model that made it. */
    vector: real('vector').array(),
    vectorModel: text('vector_model'),
    articleId: text('article_id'),
    reviewerId: text('reviewer_id'),
    reason: text('reason').notNull().default(''),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'string' }).notNull(),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true, mode: 'string' }),
    createdAt: at('created_at'),
    updatedAt: at('updated_at'),
  },
  (t) => [index('kb_suggestions_status_idx').on(t.status, t.expiresAt)],
);

/**
 * What each resolution (one handoff of one conversation) became, kept once:
 * a redelivered or replayed resolution finds its row and makes nothing new.
 */
export const kbResolutions = aiResponder.table(
  'kb_resolutions',
  {
    conversationId: text('conversation_id').notNull(),
    handoffId: text('handoff_id').notNull(),
    /** created, merged, matched or skipped. */
    outcome: text('outcome').notNull(),
    suggestionId: text('suggestion_id'),
    articleId: text('article_id'),
    similarity: real('similarity'),
    at: at('at'),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.handoffId] })],
);

/**
 * knowledge.events written in the same transaction as the change they report
 * (a transactional outbox), then published and marked: nothing is lost when
 * the process dies in between, and a replica relays what another left.
 */
export const kbOutbox = aiResponder.table(
  'kb_outbox',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    eventId: text('event_id').notNull(),
    key: text('key').notNull(),
    /** The KnowledgeEvent, protobuf bytes in base64. */
    payload: text('payload').notNull(),
    createdAt: at('created_at'),
    publishedAt: timestamp('published_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [
    uniqueIndex('kb_outbox_event_idx').on(t.eventId),
    index('kb_outbox_unpublished_idx')
      .on(t.seq)
      .where(sql`published_at is null`),
  ],
);

export type ArticleRow = typeof articles.$inferSelect;
export type SuggestionRow = typeof kbSuggestions.$inferSelect;
export type NewArticle = typeof articles.$inferInsert;
export type PassageRow = typeof passages.$inferSelect;
