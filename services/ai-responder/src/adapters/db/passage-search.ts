import { and, eq, sql } from 'drizzle-orm';
import { cosineSimilarity } from '@support/encoder';
import type { RankedArticle } from '../../domain/answer.js';
import { fuseRankings } from '../../domain/kb/fusion.js';
import { languageOf } from '../../domain/kb/language.js';
import { DEFAULT_PAGE_BOOST, preferPage } from '../../domain/kb/pages.js';
import { PassageIndex, type IndexedPassage } from '../../domain/kb/passage-index.js';
import type { Embedder } from '../embeddings.js';
import type { Db } from './knowledge-base.js';
import { articles, passages } from './schema.js';

/** Where a question comes from, for the search: the customer's page, and its vector when the caller has one. */
export interface SearchPage {
  pageUrl?: string;
  pageBoost?: number;
  vector?: QueryVector;
}

/**
 * Retrieval over the knowledge base's published passages: an in-memory index (BM25 per
 * language) and the passages' stored vectors, reloaded when the articles changed, and the
 * search over them. KnowledgeBase owns one and says when this process changed the articles.
 */
export class PassageSearch {
  private cached?: { revision: string; index: PassageIndex };
  private checkedAt = 0;
  /** The revision check (and reload) in flight, which every search meanwhile waits for. */
  private loading?: { generation: number; index: Promise<PassageIndex> };
  /** Bumped when this process changed the articles: a check begun before does not count. */
  private generation = 0;
  private vectors = new Map<string, number[]>();

  constructor(
    private readonly db: () => Db,
    private readonly embedder?: Embedder,
  ) {}

  /** This process changed the articles: the next search reads the index again. */
  changed(): void {
    this.checkedAt = 0;
    this.generation++;
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
    page: SearchPage = {},
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
    const [{ revision }] = await this.db()
      .select({
        revision: sql<string>`coalesce(max(${articles.updatedAt})::text, '') || '/' || count(*)`,
      })
      .from(articles);
    const current = generation === this.generation;
    if (current) this.checkedAt = now;
    if (this.cached?.revision === revision) return this.cached.index;
    const rows = await this.db()
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
    page: SearchPage,
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
