import { eq, inArray, sql } from 'drizzle-orm';
import { sameContent, type ArticleInput, type ArticleSource } from '../../domain/kb/article.js';
import {
  DEFAULT_SPLIT,
  splitArticle,
  splitterId,
  type PassageDraft,
} from '../../domain/kb/passages.js';
import type { Embedder } from '../embeddings.js';
import type { Db, ImportResult } from './knowledge-base.js';
import { articles, articleVersions, passages } from './schema.js';

/** An article ready to store: split into passages, and their vectors when an embeddings provider made them. */
export interface Prepared {
  input: ArticleInput & { source: ArticleSource };
  passages: PassageDraft[];
  embeddings?: number[][];
}

/** An edit that expected another version of the article than the stored one. */
export class VersionConflict extends Error {
  constructor(
    readonly id: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`article "${id}" is at version ${actual}, not ${expected}`);
  }
}

/**
 * How an article version is written: split and embedded before the transaction, then the
 * article, its version row and its passages in it. KnowledgeBase runs these in its transactions.
 */
export class ArticleWriter {
  constructor(private readonly embedder?: Embedder) {}

  /** The ids of the inputs whose article is stored with the same content. */
  async storedAsIs(db: Db, inputs: ArticleInput[]): Promise<Set<string>> {
    if (inputs.length === 0) return new Set();
    const rows = await db
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
  async prepare(input: ArticleInput & { source: ArticleSource }, embed = true): Promise<Prepared> {
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

  async store(
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

  async writePassages(tx: Db, p: Prepared, version: number): Promise<void> {
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
}

/** Imports and edits run one at a time (replicas seeding at once would race on new ids). */
export async function lockImports(tx: Db): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('ai_responder.kb_write'))`);
}
