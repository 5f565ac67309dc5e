import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { RankedArticle } from '../../domain/answer.js';
import { DATABASE, type KbDatabase } from './database.js';
import { articles } from './schema.js';

/** Full-text retrieval over the published articles. */
@Injectable()
export class KnowledgeBase implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: KbDatabase) {}

  /**
   * The best published articles for the search terms, OR-ed (any term may
   * match) and ranked by cover density; best first.
   */
  async search(terms: string[], limit = 3): Promise<RankedArticle[]> {
    if (terms.length === 0) return [];
    const query = sql`to_tsquery('english', ${terms.join(' | ')})`;
    const score = sql<number>`ts_rank_cd(${articles.search}, ${query})`.mapWith(Number);
    return this.database.db
      .select({
        id: articles.id,
        title: articles.title,
        body: articles.body,
        tags: articles.tags,
        score,
      })
      .from(articles)
      .where(and(eq(articles.status, 'published'), sql`${articles.search} @@ ${query}`))
      .orderBy(desc(score), articles.id)
      .limit(limit);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.pool.end().catch(() => undefined);
  }
}
