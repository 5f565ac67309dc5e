import { sql } from 'drizzle-orm';
import {
  index,
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

export const proposalStatus = aiResponder.enum('proposal_status', [
  'pending',
  'approved',
  'rejected',
]);

/**
 * Articles agents proposed from a conversation they handled (ArticleProposed
 * on the log): the draft article they became (status draft, source agent)
 * and where it came from, until someone approves it (the article is
 * published) or rejects it (the article is retired). One row per draft id.
 */
export const articleProposals = aiResponder.table(
  'article_proposals',
  {
    /** The proposal's id on the log (ArticleProposed.draft_id). */
    draftId: text('draft_id').primaryKey(),
    articleId: text('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    conversationId: text('conversation_id').notNull(),
    handoffId: text('handoff_id').notNull(),
    agentId: text('agent_id').notNull(),
    proposedAt: at('proposed_at'),
    status: proposalStatus('status').notNull().default('pending'),
    /** Who approved or rejected it (the API key's label), and when. */
    reviewedBy: text('reviewed_by'),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true, mode: 'string' }),
    /** Why it was rejected. */
    reason: text('reason').notNull().default(''),
  },
  (t) => [
    index('article_proposals_status_idx').on(t.status, t.proposedAt),
    uniqueIndex('article_proposals_article_idx').on(t.articleId),
  ],
);

export type ArticleRow = typeof articles.$inferSelect;
export type ArticleProposalRow = typeof articleProposals.$inferSelect;
export type NewArticle = typeof articles.$inferInsert;
export type PassageRow = typeof passages.$inferSelect;
