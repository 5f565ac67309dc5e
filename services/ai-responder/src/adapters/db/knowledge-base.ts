import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { cosineSimilarity } from '@support/encoder';
import { and, asc, desc, eq, getTableColumns, inArray, or, sql, type SQL } from 'drizzle-orm';
import { deterministicId } from '@support/bus';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import {
  sameContent,
  type ArticleInput,
  type ArticlePatch,
  type ArticleSource,
  type ArticleStatus,
} from '../../domain/kb/article.js';
import { fuseRankings } from '../../domain/kb/fusion.js';
import { languageOf } from '../../domain/kb/language.js';
import { PassageIndex, type IndexedPassage } from '../../domain/kb/passage-index.js';
import { DEFAULT_PAGE_BOOST, preferPage } from '../../domain/kb/pages.js';
import {
  DEFAULT_SPLIT,
  splitArticle,
  splitterId,
  type PassageDraft,
} from '../../domain/kb/passages.js';
import type { RankedArticle } from '../../domain/answer.js';
import { EMBEDDER, type Embedder } from '../embeddings.js';
import { DATABASE, type KbDatabase } from './database.js';
import { enqueue, knowledgeEvent, KnowledgeOutbox, type OutgoingKnowledgeEvent } from './outbox.js';
import { articles, articleVersions, passages, type ArticleRow } from './schema.js';

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

export class VersionConflict extends Error {
  constructor(
    readonly id: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`article "${id}" is at version ${actual}, not ${expected}`);
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

interface Prepared {
  input: ArticleInput & { source: ArticleSource };
  passages: PassageDraft[];
  embeddings?: number[][];
}

/**
 * The knowledge base in PostgreSQL: articles (the current version), every
 * version ever stored, and the passages retrieval searches, each rewritten
 * in the same transaction as the article it belongs to.
 */
@Injectable()
export class KnowledgeBase implements OnApplicationShutdown {
  private cached?: { revision: string; index: PassageIndex };
  private checkedAt = 0;
  /** The revision check (and reload) in flight, which every search meanwhile waits for. */
  private loading?: { generation: number; index: Promise<PassageIndex> };
  /** Bumped when this process changed the articles: a check begun before does not count. */
  private generation = 0;
  private vectors = new Map<string, number[]>();

  constructor(
    @Inject(DATABASE) private readonly database: KbDatabase,
    @Optional() @Inject(EMBEDDER) private readonly embedder?: Embedder,
    @Optional() private readonly outbox?: KnowledgeOutbox,
  ) {}

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
    const unchanged = await this.storedAsIs(inputs);
    const prepared = await Promise.all(
      inputs.map((input) => this.prepare(input, !unchanged.has(input.id))),
    );
    const results = await this.db.transaction(async (tx) => {
      await lockImports(tx);
      const stored: ImportResult[] = [];
      for (const p of prepared) {
        const result = await this.store(tx, p, changedBy);
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
      return work(tx, async (input) => this.store(tx, await this.prepare(input), changedBy));
    });
    this.written();
    return value;
  }

  /** After a commit: retrieval re-reads the index at once, and the outbox relays the events. */
  private written(): void {
    this.checkedAt = 0;
    this.generation++;
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
    const prepared = await this.prepare(next);
    const result = await this.db.transaction(async (tx) => {
      await lockImports(tx);
      const stored = await this.store(tx, prepared, changedBy, patch.expectedVersion);
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
      const prepared = await this.prepare({ ...row, source: row.source as ArticleSource });
      await this.db.transaction((tx) => this.writePassages(tx, prepared, row.version));
    }
    return stale.length;
  }

  /**
   * The published articles best matching the question, best first, each with
   * its best passage: BM25 over the passages in the question's language
   * (falling back to the default language when nothing matches), the
   * passages of articles for the customer's page (`pageUrl`) counting
   * `pageBoost` times their score, fused with vector similarity when an
   * embeddings provider is configured.
   */
  async search(
    question: string,
    locale: string,
    limit: number,
    defaultLocale = 'en',
    page: { pageUrl?: string; pageBoost?: number; vector?: QueryVector } = {},
  ): Promise<RankedArticle[]> {
    const index = await this.index();
    const lang = languageOf(locale, defaultLocale);
    const fallback = languageOf(defaultLocale);
    let searchLang = index.has(lang) ? lang : fallback;
    let hits = index.search(question, searchLang);
    if (hits.length === 0 && searchLang !== fallback) {
      searchLang = fallback;
      hits = index.search(question, fallback);
    }
    let ranked: RankedArticle[] = preferPage(
      hits.map((h) => rankedOf(h.passage, h.score)),
      page.pageUrl ?? '',
      page.pageBoost ?? DEFAULT_PAGE_BOOST,
    );
    if (this.embedder)
      ranked = await this.fuseWithVectors(ranked, question, searchLang, index, page);
    const best = new Map<string, RankedArticle>();
    for (const r of ranked) {
      const seen = best.get(r.id);
      if (!seen) best.set(r.id, { ...r, alternatives: [] });
      else seen.alternatives!.push({ ...r.passage, score: r.score });
    }
    return [...best.values()].slice(0, limit);
  }

  /**
   * The in-memory index of published passages, rebuilt when any article changed. The revision
   * is looked at most every REVISION_CHECK_MS, by one query that the searches arriving while it
   * runs share (they used to each send their own).
   */
  private index(): Promise<PassageIndex> {
    if (this.cached && Date.now() - this.checkedAt < REVISION_CHECK_MS)
      return Promise.resolve(this.cached.index);
    if (this.loading?.generation !== this.generation) {
      const loading = { generation: this.generation, index: this.load(this.generation) };
      this.loading = loading;
      const done = () => {
        if (this.loading === loading) this.loading = undefined;
      };
      loading.index.then(done, done);
    }
    return this.loading!.index;
  }

  /**
   * Reads the revision, and the passages when it changed. The index counts as fresh only when no
   * write of this process came meanwhile: the next search then looks again.
   */
  private async load(generation: number): Promise<PassageIndex> {
    const now = Date.now();
    const [{ revision }] = await this.db
      .select({
        revision: sql<string>`coalesce(max(${articles.updatedAt})::text, '') || '/' || count(*)`,
      })
      .from(articles);
    const current = generation === this.generation;
    if (current) this.checkedAt = now;
    if (this.cached?.revision === revision) return this.cached.index;
    const rows = await this.db
      .select({
        id: passages.id,
        articleId: articles.id,
        title: articles.title,
        heading: passages.heading,
        tags: articles.tags,
        productAreas: articles.productAreas,
        pages: articles.pages,
        locale: articles.locale,
        version: articles.version,
        text: passages.text,
        body: articles.body,
        embedding: passages.embedding,
        embeddingModel: passages.embeddingModel,
      })
      .from(passages)
      .innerJoin(articles, eq(articles.id, passages.articleId))
      .where(and(eq(articles.status, 'published'), eq(passages.articleVersion, articles.version)));
    const index = new PassageIndex(rows);
    this.vectors = new Map(
      rows
        .filter((r) => r.embedding && r.embeddingModel === this.embedder?.model)
        .map((r) => [r.id, r.embedding!]),
    );
    this.cached = { revision, index };
    return index;
  }

  /**
   * A passage's stored vector when `model` made it (the embeddings provider's), as of the index
   * the last search loaded; undefined otherwise.
   */
  passageVector(passageId: string, model: string): number[] | undefined {
    return this.embedder?.model === model ? this.vectors.get(passageId) : undefined;
  }

  /**
   * The BM25 ranking fused with the meaning ranking over passage vectors
   * (domain/kb/fusion.ts). The question's vector is the caller's when it comes
   * from this knowledge base's embedding model, else embedded here.
   */
  private async fuseWithVectors(
    textRanked: RankedArticle[],
    question: string,
    lang: string,
    index: PassageIndex,
    page: { pageUrl?: string; pageBoost?: number; vector?: QueryVector },
  ): Promise<RankedArticle[]> {
    const given = page.vector;
    const vector =
      given && given.model === this.embedder!.model
        ? given.values
        : (await this.embedder!.embed([question]))[0];
    // An article for the customer's page counts its boost whichever ranking found it.
    const onPage = (p: IndexedPassage) =>
      preferPage([rankedOf(p, 0)], page.pageUrl ?? '', page.pageBoost ?? DEFAULT_PAGE_BOOST)[0];
    // The nearest 40 passages by meaning; only those become ranked articles.
    const byVector = index
      .all()
      .filter((p) => languageOf(p.locale) === lang && this.vectors.has(p.id))
      .map((p) => ({ p, similarity: cosine(vector, this.vectors.get(p.id)!) }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, 40)
      .map(({ p, similarity }) => ({ article: onPage(p), similarity }));
    return fuseRankings(textRanked, byVector, (id) => {
      const v = this.vectors.get(id);
      return v ? cosine(vector, v) : undefined;
    });
  }

  /** The ids of the inputs whose article is stored with the same content. */
  private async storedAsIs(inputs: ArticleInput[]): Promise<Set<string>> {
    if (inputs.length === 0) return new Set();
    const rows = await this.db
      .select()
      .from(articles)
      .where(
        inArray(
          articles.id,
          inputs.map((i) => i.id),
        ),
      );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return new Set(
      inputs
        .filter((i) => {
          const row = byId.get(i.id);
          return row !== undefined && sameContent(row as ArticleInput, i);
        })
        .map((i) => i.id),
    );
  }

  /**
   * Splits an article into passages and, unless `embed` is false (it is
   * stored as it is), embeds them. A passage stored without its vector is
   * embedded by reindexStale.
   */
  private async prepare(
    input: ArticleInput & { source: ArticleSource },
    embed = true,
  ): Promise<Prepared> {
    const drafts = await splitArticle(input.body, DEFAULT_SPLIT);
    const embeddings =
      this.embedder && embed
        ? await this.embedder.embed(
            drafts.map((d) => `${input.title}\n${d.heading}\n${d.text}`),
            'passage',
          )
        : undefined;
    return { input, passages: drafts, embeddings };
  }

  private async store(
    tx: Db,
    p: Prepared,
    changedBy: string,
    expectedVersion?: number,
  ): Promise<ImportResult> {
    const { source, ...fields } = p.input;
    const [current] = await tx
      .select()
      .from(articles)
      .where(eq(articles.id, fields.id))
      .for('update');
    if (current && expectedVersion !== undefined && current.version !== expectedVersion)
      throw new VersionConflict(fields.id, expectedVersion, current.version);
    if (current && sameContent(current as ArticleInput, fields)) {
      return {
        id: current.id,
        outcome: 'unchanged',
        version: current.version,
        status: current.status,
        passages: p.passages.length,
      };
    }
    const version = current ? current.version + 1 : 1;
    if (current) {
      await tx
        .update(articles)
        .set({ ...fields, source, version, updatedAt: sql`now()` })
        .where(eq(articles.id, fields.id));
    } else {
      await tx.insert(articles).values({ ...fields, source, version });
    }
    await tx
      .insert(articleVersions)
      .values({ articleId: fields.id, version, ...fields, source, changedBy });
    await this.writePassages(tx, p, version);
    return {
      id: fields.id,
      outcome: current ? 'updated' : 'created',
      version,
      status: fields.status,
      passages: p.passages.length,
    };
  }

  private async writePassages(tx: Db, p: Prepared, version: number): Promise<void> {
    const { id } = p.input;
    await tx.delete(passages).where(eq(passages.articleId, id));
    if (p.passages.length === 0) return;
    await tx.insert(passages).values(
      p.passages.map((d, i) => ({
        id: `${id}#${d.ordinal}`,
        articleId: id,
        articleVersion: version,
        ordinal: d.ordinal,
        heading: d.heading,
        text: d.text,
        splitter: splitterId(),
        embedding: p.embeddings?.[i] ?? null,
        embeddingModel: p.embeddings ? this.embedder!.model : null,
      })),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.pool.end().catch(() => undefined);
  }
}

/** Imports and edits run one at a time (replicas seeding at once would race on new ids). */
async function lockImports(tx: Db): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('ai_responder.kb_write'))`);
}

/** Re-check the knowledge base for changes at most this often (a write through this process re-checks at once). */
const REVISION_CHECK_MS = 500;

function rankedOf(p: IndexedPassage, score: number): RankedArticle {
  return {
    id: p.articleId,
    title: p.title,
    body: p.body,
    tags: p.tags,
    productAreas: p.productAreas,
    pages: p.pages,
    version: p.version,
    score,
    passage: { id: p.id, heading: p.heading, text: p.text },
  };
}

/** A question's vector made by the caller, with the embedding model that made it. */
export interface QueryVector {
  model: string;
  values: ArrayLike<number>;
}

/** Cosine similarity, 0 for vectors of different lengths (a passage vector from another model). */
function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return a.length > 0 && a.length === b.length ? cosineSimilarity(a, b) : 0;
}
