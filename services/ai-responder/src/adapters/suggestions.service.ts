import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import { deterministicId } from '@support/bus';
import { JsonLogger } from '@support/service-kit';
import { draftArticleId } from '../domain/kb/draft.js';
import {
  publishedText,
  type ReviewEdits,
  type SuggestionSourceView,
  type SuggestionStatus,
} from '../domain/kb/suggestion.js';
import { DATABASE, type KbDatabase } from './db/database.js';
import {
  articlePublished,
  KnowledgeBase,
  type Db,
  type ImportResult,
} from './db/knowledge-base.js';
import {
  enqueue,
  knowledgeEvent,
  KnowledgeOutbox,
  type OutgoingKnowledgeEvent,
} from './db/outbox.js';
import { kbSuggestions, type SuggestionRow } from './db/schema.js';

/** A review, from knowledge.reviews or the admin API. */
export interface Review extends ReviewEdits {
  reviewId: string;
  suggestionId: string;
  decision: 'approve' | 'reject';
  reviewerId: string;
  reason?: string;
}

export type ReviewOutcome =
  | { kind: 'approved'; suggestion: SuggestionView; article: ImportResult }
  | { kind: 'rejected'; suggestion: SuggestionView }
  | { kind: 'unknown' }
  | { kind: 'not_pending'; status: SuggestionStatus };

export type SuggestionView = Omit<SuggestionRow, 'vector' | 'vectorModel' | 'sources'> & {
  sources: SuggestionSourceView[];
};

const view = (row: SuggestionRow): SuggestionView => {
  const { vector: _v, vectorModel: _m, sources, ...rest } = row;
  return { ...rest, sources: sources as SuggestionSourceView[] };
};

/**
 * The learning loop's suggestions once made: read them, review them (approval publishes the
 * article, rejection closes the suggestion) and expire what nobody reviewed. Every change and
 * its knowledge event commit together (outbox). The desk's reviews (knowledge.reviews) and the
 * admin API's come here alike.
 */
@Injectable()
export class SuggestionsService {
  constructor(
    @Inject(DATABASE) private readonly database: KbDatabase,
    private readonly kb: KnowledgeBase,
    private readonly outbox: KnowledgeOutbox,
    private readonly logger: JsonLogger,
  ) {}

  private get db(): Db {
    return this.database.db as unknown as Db;
  }

  /**
   * Applies a review to a pending suggestion: approval publishes its article
   * (the reviewer's title, body and tags when given) as the next version of
   * its article id, so that the next question is answered from it; rejection
   * closes it. A suggestion that is not pending is left as it is.
   */
  async review(review: Review): Promise<ReviewOutcome> {
    const [current] = await this.db
      .select()
      .from(kbSuggestions)
      .where(eq(kbSuggestions.suggestionId, review.suggestionId));
    if (!current) return { kind: 'unknown' };
    if (current.status !== 'pending')
      return { kind: 'not_pending', status: current.status as SuggestionStatus };
    const text = publishedText(current, review);
    const outcome = await this.kb.transact(review.reviewerId || 'reviewer', async (tx, store) => {
      const [locked] = await tx
        .select()
        .from(kbSuggestions)
        .where(eq(kbSuggestions.suggestionId, review.suggestionId))
        .for('update');
      if (locked.status !== 'pending')
        return { kind: 'not_pending' as const, status: locked.status as SuggestionStatus };
      if (review.decision === 'reject') {
        await this.reject(tx, locked, review);
        return { kind: 'rejected' as const };
      }
      const articleId = locked.articleId ?? draftArticleId(locked.suggestionId, text.title);
      const input = {
        id: articleId,
        ...text,
        locale: locked.locale,
        productAreas: locked.topic ? [locked.topic] : [],
        pages: [],
        status: 'published' as const,
        source: 'suggestion' as const,
      };
      const article = await store(input);
      await tx
        .update(kbSuggestions)
        .set({ ...reviewedBy(review), status: 'approved', articleId, ...text })
        .where(eq(kbSuggestions.suggestionId, locked.suggestionId));
      const events: OutgoingKnowledgeEvent[] = [
        knowledgeEvent(
          deterministicId('suggestion-reviewed', locked.suggestionId),
          locked.suggestionId,
          {
            case: 'suggestionApproved',
            value: { suggestionId: locked.suggestionId, articleId, reviewerId: review.reviewerId },
          },
        ),
        ...articlePublished(article, input, 'suggestion', locked.suggestionId),
      ];
      await enqueue(tx, events);
      return { kind: 'approved' as const, article };
    });
    if (outcome.kind === 'not_pending') return outcome;
    const suggestion = (await this.suggestion(review.suggestionId))!;
    return outcome.kind === 'approved'
      ? { kind: 'approved', suggestion, article: outcome.article }
      : { kind: 'rejected', suggestion };
  }

  private async reject(tx: Db, locked: SuggestionRow, review: Review): Promise<void> {
    const id = locked.suggestionId;
    const reason = review.reason ?? '';
    await tx
      .update(kbSuggestions)
      .set({ ...reviewedBy(review), status: 'rejected', reason })
      .where(eq(kbSuggestions.suggestionId, id));
    await enqueue(tx, [
      knowledgeEvent(deterministicId('suggestion-reviewed', id), id, {
        case: 'suggestionRejected',
        value: { suggestionId: id, reviewerId: review.reviewerId, reason },
      }),
    ]);
  }

  /**
   * Marks overdue pending suggestions expired. Replicas may sweep at once:
   * each claims rows with SKIP LOCKED, and a row is expired in the same
   * transaction as its event is written.
   */
  async expireOverdue(limit = 200): Promise<string[]> {
    const expired = await this.db.transaction(async (tx) => {
      const due = await tx
        .select({ id: kbSuggestions.suggestionId })
        .from(kbSuggestions)
        .where(and(eq(kbSuggestions.status, 'pending'), lte(kbSuggestions.expiresAt, sql`now()`)))
        .orderBy(asc(kbSuggestions.expiresAt))
        .limit(limit)
        .for('update', { skipLocked: true });
      const ids = due.map((d) => d.id);
      if (ids.length === 0) return ids;
      await tx
        .update(kbSuggestions)
        .set({ status: 'expired', updatedAt: sql`now()` })
        .where(inArray(kbSuggestions.suggestionId, ids));
      await enqueue(
        tx,
        ids.map((id) =>
          knowledgeEvent(deterministicId('suggestion-expired', id), id, {
            case: 'suggestionExpired',
            value: { suggestionId: id },
          }),
        ),
      );
      return ids;
    });
    if (expired.length) {
      this.logger.log('suggestions expired', { suggestions: expired.length });
      await this.outbox.flush();
    }
    return expired;
  }

  async suggestion(id: string): Promise<SuggestionView | undefined> {
    const [row] = await this.db
      .select()
      .from(kbSuggestions)
      .where(eq(kbSuggestions.suggestionId, id));
    return row ? view(row) : undefined;
  }

  /** Suggestions in one status, newest first, with `total`. */
  async list(query: {
    status: SuggestionStatus;
    limit: number;
    offset: number;
  }): Promise<{ total: number; suggestions: SuggestionView[] }> {
    const condition = eq(kbSuggestions.status, query.status);
    const [rows, [{ total }]] = await Promise.all([
      this.db
        .select()
        .from(kbSuggestions)
        .where(condition)
        .orderBy(desc(kbSuggestions.updatedAt), asc(kbSuggestions.suggestionId))
        .limit(query.limit)
        .offset(query.offset),
      this.db
        .select({ total: sql<number>`count(*)`.mapWith(Number) })
        .from(kbSuggestions)
        .where(condition),
    ]);
    return { total, suggestions: rows.map(view) };
  }
}

/** Who reviewed a suggestion, and when (now). */
const reviewedBy = (review: Review) => ({
  reviewerId: review.reviewerId,
  reviewedAt: sql`now()`,
  updatedAt: sql`now()`,
});
