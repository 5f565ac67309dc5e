import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { and, asc, desc, eq, getTableColumns, or, sql, type SQL } from 'drizzle-orm';
import { deterministicId } from '@support/bus';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import {
  type ArticleInput,
  type ArticlePatch,
  type ArticleSource,
  type ArticleStatus,
} from '../../domain/kb/article.js';
import { splitterId } from '../../domain/kb/passages.js';
import type { RankedArticle } from '../../domain/answer.js';
import { EMBEDDER, type Embedder } from '../embeddings.js';
import { DATABASE, type KbDatabase } from './database.js';
import { enqueue, knowledgeEvent, KnowledgeOutbox, type OutgoingKnowledgeEvent } from './outbox.js';
import { ArticleWriter, lockImports, VersionConflict } from './article-writer.js';
import { PassageSearch, type SearchPage } from './passage-search.js';
import { articles, articleVersions, passages, type ArticleRow } from './schema.js';

export { VersionConflict };

export type Db = NodePgDatabase<Record<string, unknown>>;

export type ImportOutcome = 'created' | 'updated' | 'unchanged';

export interface ImportResult {
  id: string;
  outcome: ImportOutcome;
  version: number;
  status: ArticleStatus;
  passages: number;
}

export class ArticleNotFound extends Error {
  constructor(readonly id: string) {
    super(`no article "${id}"`);
  }
}

export interface ListQuery {
  status?: ArticleStatus;
  locale?: string;
  tag?: string;
  productArea?: string;
  q?: string;
  limit: number;
  offset: number;
}

/** The current article without its body, as lists show it. */
export type ArticleSummary = Omit<ArticleRow, 'body'>;

/** How an article went live, as ArticlePublished says: "import" (files, seed), "api", "suggestion". */
export type PublishOrigin = 'import' | 'api' | 'suggestion';

/** ArticlePublished for a stored version that is live (once per article version). */
export function articlePublished(
  result: ImportResult,
  article: { title: string; productAreas: string[]; tags: string[] },
  origin: PublishOrigin,
  suggestionId = '',
): OutgoingKnowledgeEvent[] {
  if (result.status !== 'published' || result.outcome === 'unchanged') return [];
  return [
    knowledgeEvent(
      deterministicId('article-published', result.id, String(result.version)),
      result.id,
      {
        case: 'articlePublished',
        value: {
          articleId: result.id,
          title: article.title,
          topic: article.productAreas[0] ?? article.tags[0] ?? '',
          origin,
          suggestionId,
        },
      },
    ),
  ];
}

/**
 * The knowledge base in PostgreSQL: articles (the current version), every
 * version ever stored, and the passages retrieval searches, each rewritten
 * in the same transaction as the article it belongs to.
 */
@Injectable()
export class KnowledgeBase implements OnApplicationShutdown {
  private readonly passageSearch: PassageSearch;
  private readonly writer: ArticleWriter;

  constructor(
    @Inject(DATABASE) private readonly database: KbDatabase,
    @Optional() @Inject(EMBEDDER) private readonly embedder?: Embedder,
    @Optional() private readonly outbox?: KnowledgeOutbox,
  ) {
    this.passageSearch = new PassageSearch(() => this.db, embedder);
    this.writer = new ArticleWriter(embedder);
  }

  private get db(): Db {
    return this.database.db as unknown as Db;
  }

  /**
   * Stores the articles: new ids are created at version 1, changed ones get
   * the next version, identical ones are left alone. All or nothing.
   */
  async import(
    inputs: (ArticleInput & { source: ArticleSource })[],
    changedBy: string,
    origin: PublishOrigin = 'import',
  ): Promise<ImportResult[]> {
    // Articles already stored as they are need no vectors: a start-up seed embeds nothing twice.
    const unchanged = await this.writer.storedAsIs(this.db, inputs);
    const prepared = await Promise.all(
      inputs.map((input) => this.writer.prepare(input, !unchanged.has(input.id))),
    );
    const results = await this.db.transaction(async (tx) => {
      await lockImports(tx);
      const stored: ImportResult[] = [];
      for (const p of prepared) {
        const result = await this.writer.store(tx, p, changedBy);
        await enqueue(tx, articlePublished(result, p.input, origin));
        stored.push(result);
      }
      return stored;
    });
    this.written();
    return results;
  }

  /**
   * Runs `work` in one knowledge-base transaction (imports and edits wait for
   * it): `store` writes an article version there, so that the article and
   * whatever else `work` writes (a suggestion's review, its events) commit
   * together or not at all.
   */
  async transact<T>(
    changedBy: string,
    work: (
      tx: Db,
      store: (input: ArticleInput & { source: ArticleSource }) => Promise<ImportResult>,
    ) => Promise<T>,
  ): Promise<T> {
    const value = await this.db.transaction(async (tx) => {
      await lockImports(tx);
      return work(tx, async (input) =>
        this.writer.store(tx, await this.writer.prepare(input), changedBy),
      );
    });
    this.written();
    return value;
  }

  /** After a commit: retrieval re-reads the index at once, and the outbox relays the events. */
  private written(): void {
    this.passageSearch.changed();
    void this.outbox?.flush();
  }

  /** Applies a partial update to one article; `expectedVersion`, when given, must be the current one. */
  async update(id: string, patch: ArticlePatch, changedBy: string): Promise<ImportResult> {
    const current = await this.get(id);
    if (!current) throw new ArticleNotFound(id);
    if (patch.expectedVersion !== undefined && patch.expectedVersion !== current.version)
      throw new VersionConflict(id, patch.expectedVersion, current.version);
    const { expectedVersion: _ignored, ...changes } = patch;
    const next = {
      id,
      title: changes.title ?? current.title,
      body: changes.body ?? current.body,
      tags: changes.tags ?? current.tags,
      locale: changes.locale ?? current.locale,
      productAreas: changes.productAreas ?? current.productAreas,
      pages: changes.pages ?? current.pages,
      status: changes.status ?? current.status,
      source: 'api' as const,
    };
    const prepared = await this.writer.prepare(next);
    const result = await this.db.transaction(async (tx) => {
      await lockImports(tx);
      const stored = await this.writer.store(tx, prepared, changedBy, patch.expectedVersion);
      // Published only now (a draft or retired article made live), or a new live version.
      await enqueue(tx, articlePublished(stored, next, 'api'));
      return stored;
    });
    this.written();
    return result;
  }

  async get(id: string): Promise<ArticleRow | undefined> {
    const [row] = await this.db.select().from(articles).where(eq(articles.id, id));
    return row;
  }

  async versions(id: string) {
    return this.db
      .select()
      .from(articleVersions)
      .where(eq(articleVersions.articleId, id))
      .orderBy(desc(articleVersions.version));
  }

  async passagesOf(id: string) {
    return this.db
      .select({
        id: passages.id,
        ordinal: passages.ordinal,
        heading: passages.heading,
        text: passages.text,
        articleVersion: passages.articleVersion,
      })
      .from(passages)
      .where(eq(passages.articleId, id))
      .orderBy(asc(passages.ordinal));
  }

  async list(query: ListQuery): Promise<{ total: number; articles: ArticleSummary[] }> {
    const where: SQL[] = [];
    if (query.status) where.push(eq(articles.status, query.status));
    if (query.locale) where.push(eq(articles.locale, query.locale));
    if (query.tag) where.push(sql`${query.tag} = any(${articles.tags})`);
    if (query.productArea) where.push(sql`${query.productArea} = any(${articles.productAreas})`);
    if (query.q) {
      const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(or(sql`${articles.title} ilike ${like}`, sql`${articles.id} ilike ${like}`)!);
    }
    const condition = where.length ? and(...where) : undefined;
    const { body: _body, ...columns } = getTableColumns(articles);
    const [rows, [{ total }]] = await Promise.all([
      this.db
        .select(columns)
        .from(articles)
        .where(condition)
        .orderBy(asc(articles.id))
        .limit(query.limit)
        .offset(query.offset),
      this.db
        .select({ total: sql<number>`count(*)`.mapWith(Number) })
        .from(articles)
        .where(condition),
    ]);
    return { total, articles: rows };
  }

  /**
   * Re-splits every article whose passages are missing, from an older
   * version, or made by other splitter settings (or, with an embeddings
   * provider, lacking its vectors).
   */
  async reindexStale(): Promise<number> {
    const stale = await this.db
      .select()
      .from(articles)
      .where(
        sql`not exists (select 1 from ${passages} p where p.article_id = ${articles.id} and p.article_version = ${articles.version} and p.splitter = ${splitterId()} ${
          this.embedder ? sql`and p.embedding_model = ${this.embedder.model}` : sql``
        })`,
      );
    for (const row of stale) {
      const prepared = await this.writer.prepare({ ...row, source: row.source as ArticleSource });
      await this.db.transaction((tx) => this.writer.writePassages(tx, prepared, row.version));
    }
    return stale.length;
  }

  /**
   * The published articles best matching the question, best first, each with its best passage
   * (PassageSearch: BM25, the customer's page, vectors when an embeddings provider is set).
   */
  search(
    question: string,
    locale: string,
    limit: number,
    defaultLocale = 'en',
    page: SearchPage = {},
  ): Promise<RankedArticle[]> {
    return this.passageSearch.search(question, locale, limit, defaultLocale, page);
  }

  /** A passage's stored vector when `model` made it, as of the index the last search loaded. */
  passageVector(passageId: string, model: string): number[] | undefined {
    return this.passageSearch.passageVector(passageId, model);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.pool.end().catch(() => undefined);
  }
}
