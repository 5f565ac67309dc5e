import { sql } from 'drizzle-orm';
import { customType, index, integer, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

/** The knowledge base, owned by ai-responder. */
export const aiResponder = pgSchema('ai_responder');

export const articleStatus = aiResponder.enum('article_status', ['draft', 'published', 'retired']);

const tsvector = customType<{ data: string; driverData: string }>({ dataType: () => 'tsvector' });

export const articles = aiResponder.table(
  'articles',
  {
    /** A slug, e.g. "reset-password". */
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    tags: text('tags')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    locale: text('locale').notNull().default('en'),
    productAreas: text('product_areas')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    status: articleStatus('status').notNull().default('draft'),
    version: integer('version').notNull().default(1),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' })
      .notNull()
      .defaultNow(),
    /** Full-text document: the title weighs more than the body. Maintained by PostgreSQL. */
    search: tsvector('search')
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(body, '')), 'B')`,
      ),
  },
  (t) => [
    index('articles_search_idx').using('gin', t.search),
    index('articles_status_idx').on(t.status),
  ],
);

export type ArticleRow = typeof articles.$inferSelect;
export type NewArticle = typeof articles.$inferInsert;
