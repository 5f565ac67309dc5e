import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import { backgroundFetchWaitMs, Bus, deterministicId, Topics } from '@support/bus';
import { cosineSimilarity } from '@support/encoder';
import { KnowledgeDecision, type KnowledgeReview } from '@support/contracts';
import { CONFIG, JsonLogger, REDIS } from '@support/service-kit';
import {
  consumeConversationLog,
  projectionNamespace,
  SnapshotStore,
  type Applied,
} from '@support/stream';
import type { Config } from '../config.js';
import { SERVICE } from '../config.js';
import { draftArticle, draftArticleId } from '../domain/kb/draft.js';
import { learningProjection, type LearningState } from '../domain/projection.js';
import {
  cleanQuestion,
  decide,
  expiryFrom,
  lessonFromResolution,
  publishedText,
  similarity,
  storedOrEmbedded,
  withSource,
  type ReviewEdits,
  type SuggestionDraft,
  type SuggestionSourceView,
  type SuggestionStatus,
} from '../domain/kb/suggestion.js';
import { CLASSIFIER, type SupportClassifier } from './classifier.js';
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
import { kbResolutions, kbSuggestions, type SuggestionRow } from './db/schema.js';
import { EMBEDDER, type Embedder } from './embeddings.js';

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

/** The text a suggestion's vector is made of: the question and its answer. */
const vectorText = (s: { title: string; body: string }) => `${s.title}\n${s.body}`.slice(0, 2000);

/**
 * The knowledge base's learning loop. From the conversation log (its own
 * consumer group and snapshots): a person's resolution of a handed-off
 * conversation becomes a suggested article, merged into a near-duplicate
 * pending one, or recorded as matching a published article (a false
 * escalation); an agent's article proposal becomes a suggestion too. From
 * knowledge.reviews: approval publishes the article (retrieval uses it at
 * once), rejection closes the suggestion. A sweep expires what nobody
 * reviewed. Every change and its knowledge event commit together (outbox).
 */
@Injectable()
export class LearningService implements OnApplicationBootstrap, OnApplicationShutdown {
  private sweepTimer?: NodeJS.Timeout;

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(DATABASE) private readonly database: KbDatabase,
    private readonly kb: KnowledgeBase,
    private readonly outbox: KnowledgeOutbox,
    @Inject(CLASSIFIER) private readonly classifier: SupportClassifier,
    private readonly logger: JsonLogger,
    @Optional() @Inject(EMBEDDER) private readonly embedder?: Embedder | null,
  ) {}

  private get db(): Db {
    return this.database.db as unknown as Db;
  }

  async onApplicationBootstrap(): Promise<void> {
    await consumeConversationLog(this.bus, this.redis, {
      group: 'learning',
      // Learns from resolutions: a quarter of a second later costs nothing, and spares the
      // broker a fetch for every record of the log.
      fetchWaitMs: backgroundFetchWaitMs,
      // Snapshots of its own: the proposal consumer's are at other offsets.
      store: new SnapshotStore(
        this.redis,
        projectionNamespace(SERVICE, learningProjection),
        learningProjection,
      ),
      react: (applied) => this.react(applied),
    });
    await this.bus.consume({
      group: 'reviews',
      topic: Topics.knowledgeReviews,
      validate: (r) =>
        !r.reviewId
          ? 'review_id is required'
          : !r.suggestionId
            ? 'suggestion_id is required'
            : r.decision !== KnowledgeDecision.APPROVE && r.decision !== KnowledgeDecision.REJECT
              ? 'decision must be APPROVE or REJECT'
              : undefined,
      handle: async (record) => {
        await this.reviewFromDesk(record.value, record.meta.correlationId);
      },
    });
    this.sweepTimer = setInterval(
      () =>
        void this.expireOverdue().catch((err: Error) =>
          this.logger.warn('suggestion sweep failed', { error: err.message }),
        ),
      this.config.KB_SUGGESTION_SWEEP_MS,
    );
    this.sweepTimer.unref();
  }

  onApplicationShutdown(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  private async react(applied: Applied<LearningState>): Promise<void> {
    const { event } = applied;
    if (event.payload.case === 'conversationResolved') await this.learnFrom(applied);
    else if (event.payload.case === 'articleProposed') await this.keepProposal(applied);
  }

  /** Vectors by the configured embeddings provider, else the sentence encoder the classifier uses. */
  private async vectors(texts: string[]): Promise<{ model: string; vectors: number[][] }> {
    if (this.embedder)
      return { model: this.embedder.model, vectors: await this.embedder.embed(texts) };
    const vectors = await this.classifier.embed(texts);
    return { model: this.classifier.encoderName, vectors: vectors.map((v) => Array.from(v)) };
  }

  /** A person resolved a handed-off conversation: what it teaches, once per conversation and handoff. */
  async learnFrom({ event, after, record }: Applied<LearningState>): Promise<void> {
    if (event.payload.case !== 'conversationResolved') return;
    const resolved = event.payload.value;
    const lesson = lessonFromResolution(after, resolved);
    const context = {
      conversationId: event.conversationId,
      handoffId: after.handoff?.handoffId,
      correlationId: record.meta.correlationId,
    };
    if (lesson.kind === 'nothing') {
      if (after.status === 'resolved_by_human')
        this.logger.log('resolution teaches nothing', { ...context, reason: lesson.reason });
      return;
    }
    // A resolution older than a suggestion's life would only make one that has already expired
    // (the group reads the log from the beginning, so a new deployment meets all past ones).
    const resolvedAt = Date.parse(event.occurredAt);
    if (resolvedAt < Date.now() - this.config.KB_SUGGESTION_TTL_DAYS * 86_400_000) {
      this.logger.log('resolution too old to suggest from', context);
      return;
    }
    const draft = lesson.draft;
    if (await this.resolutionKnown(this.db, draft.source)) return;
    const { model, vectors } = await this.vectors([vectorText(draft)]);
    const vector = vectors[0];
    const published = await this.publishedMatches(draft, { model, vector });
    const outcome = await this.kb.transact('learning', async (tx) => {
      if (await this.resolutionKnown(tx, draft.source)) return undefined;
      const pending = await tx
        .select()
        .from(kbSuggestions)
        .where(and(eq(kbSuggestions.status, 'pending'), eq(kbSuggestions.locale, draft.locale)))
        .for('update');
      const candidates = await Promise.all(
        pending.map(async (s) => {
          const theirs =
            s.vector && s.vectorModel === model
              ? s.vector
              : (await this.vectors([vectorText(s)])).vectors[0];
          const questions = [
            s.title,
            ...(s.sources as SuggestionSourceView[]).map((x) => x.question),
          ];
          const meaning = cosine(vector, theirs);
          const best = Math.max(
            ...questions.filter(Boolean).map((q) => similarity(meaning, draft.title, q).score),
          );
          return { suggestionId: s.suggestionId, similarity: best, row: s };
        }),
      );
      const decision = decide(candidates, published, {
        merge: this.config.KB_SUGGESTION_MERGE_SIMILARITY,
        match: this.config.KB_RESOLUTION_MATCH_SIMILARITY,
      });
      const now = new Date();
      const src = draft.source;
      const key = { conversationId: src.conversationId, handoffId: src.handoffId };
      if (decision.kind === 'merge') {
        const target = candidates.find((c) => c.suggestionId === decision.suggestionId)!.row;
        const sources = withSource(target.sources as SuggestionSourceView[], src);
        const expiresAt = expiryFrom(now, this.config.KB_SUGGESTION_TTL_DAYS);
        const occurrences = target.occurrences + 1;
        await tx
          .update(kbSuggestions)
          .set({ occurrences, sources, expiresAt, updatedAt: sql`now()` })
          .where(eq(kbSuggestions.suggestionId, target.suggestionId));
        await tx.insert(kbResolutions).values({
          ...key,
          outcome: 'merged',
          suggestionId: target.suggestionId,
          similarity: decision.similarity,
        });
        await enqueue(tx, [
          knowledgeEvent(
            deterministicId(
              'suggestion-merged',
              target.suggestionId,
              src.conversationId,
              src.handoffId,
            ),
            target.suggestionId,
            {
              case: 'suggestionMerged',
              value: {
                suggestionId: target.suggestionId,
                source: src,
                similarity: decision.similarity,
                occurrences,
                expiresAt,
              },
            },
          ),
        ]);
        return { ...decision, occurrences };
      }
      if (decision.kind === 'matched') {
        await tx.insert(kbResolutions).values({
          ...key,
          outcome: 'matched',
          articleId: decision.articleId,
          similarity: decision.similarity,
        });
        await enqueue(tx, [
          knowledgeEvent(
            deterministicId('resolution-matched', src.conversationId, src.handoffId),
            decision.articleId,
            {
              case: 'resolutionMatched',
              value: {
                conversationId: src.conversationId,
                handoffId: src.handoffId,
                articleId: decision.articleId,
                similarity: decision.similarity,
                topic: draft.topic,
              },
            },
          ),
        ]);
        return decision;
      }
      const suggestionId = deterministicId('suggestion', src.conversationId, src.handoffId);
      await this.createSuggestion(tx, suggestionId, draft, 'resolution', { model, vector }, now);
      await tx.insert(kbResolutions).values({ ...key, outcome: 'created', suggestionId });
      return { kind: 'created' as const, suggestionId };
    });
    if (outcome) this.logger.log('resolution learnt from', { ...context, outcome });
  }

  private async resolutionKnown(db: Db, src: SuggestionSourceView): Promise<boolean> {
    const [row] = await db
      .select({ outcome: kbResolutions.outcome })
      .from(kbResolutions)
      .where(
        and(
          eq(kbResolutions.conversationId, src.conversationId),
          eq(kbResolutions.handoffId, src.handoffId),
        ),
      );
    return !!row;
  }

  /**
   * The published articles retrieval finds for the question, with how alike
   * each is to the resolution: meaning of question and answer against the
   * article's best passage, words of the question against its title.
   */
  private async publishedMatches(
    draft: SuggestionDraft,
    { model, vector }: { model: string; vector: number[] },
  ): Promise<{ articleId: string; similarity: number }[]> {
    const ranked = await this.kb.search(
      draft.title,
      draft.locale,
      3,
      this.config.KB_DEFAULT_LOCALE,
    );
    if (ranked.length === 0) return [];
    // The passages' vectors the knowledge base stored with them, when made by the same model; a
    // resolution used to embed its three matches again (the responder's costliest encoder work).
    const vectors = await storedOrEmbedded(
      ranked,
      (r) => this.kb.passageVector(r.passage.id, model),
      async (missing) =>
        (
          await this.vectors(
            missing.map((r) =>
              `${r.title}\n${r.passage.heading}\n${r.passage.text}`.slice(0, 2000),
            ),
          )
        ).vectors,
    );
    return ranked.map((r, i) => ({
      articleId: r.id,
      similarity: similarity(cosine(vector, vectors[i]), draft.title, r.title).score,
    }));
  }

  private async createSuggestion(
    tx: Db,
    suggestionId: string,
    draft: SuggestionDraft,
    origin: 'resolution' | 'agent',
    embedded: { model: string; vector: number[] },
    now: Date,
    articleId?: string,
  ): Promise<boolean> {
    const expiresAt = expiryFrom(now, this.config.KB_SUGGESTION_TTL_DAYS);
    const inserted = await tx
      .insert(kbSuggestions)
      .values({
        suggestionId,
        title: draft.title,
        body: draft.body,
        tags: draft.tags,
        topic: draft.topic,
        locale: draft.locale,
        origin,
        sources: [draft.source],
        vector: embedded.vector,
        vectorModel: embedded.model,
        expiresAt,
        ...(articleId ? { articleId } : {}),
      })
      .onConflictDoNothing()
      .returning({ id: kbSuggestions.suggestionId });
    if (inserted.length === 0) return false;
    await enqueue(tx, [
      knowledgeEvent(deterministicId('suggestion-created', suggestionId), suggestionId, {
        case: 'suggestionCreated',
        value: {
          suggestionId,
          title: draft.title,
          body: draft.body,
          tags: draft.tags,
          topic: draft.topic,
          source: draft.source,
          expiresAt,
          origin,
        },
      }),
    ]);
    return true;
  }

  /** An agent's article proposal (articleProposed) is a suggestion of origin "agent", once per draft id. */
  private async keepProposal({ event, after, record }: Applied<LearningState>): Promise<void> {
    if (event.payload.case !== 'articleProposed') return;
    const p = event.payload.value;
    const context = {
      conversationId: event.conversationId,
      handoffId: p.handoffId,
      draftId: p.draftId,
      correlationId: record.meta.correlationId,
    };
    const locale = after.locale || this.config.KB_DEFAULT_LOCALE;
    const checked = draftArticle(
      { ...p, conversationId: event.conversationId, locale, proposedAt: event.occurredAt },
      this.config.KB_DEFAULT_LOCALE,
    );
    if ('issues' in checked) {
      this.logger.warn('article proposal not kept: invalid', {
        ...context,
        issues: checked.issues,
      });
      return;
    }
    const trigger = after.messages.find((m) => m.messageId === after.handoff?.messageId);
    const topic = trigger?.proposal?.topic ?? '';
    const draft: SuggestionDraft = {
      title: checked.article.title,
      body: checked.article.body,
      tags: checked.article.tags,
      topic,
      locale: checked.article.locale,
      source: {
        conversationId: event.conversationId,
        handoffId: p.handoffId,
        agentId: p.agentId,
        question: cleanQuestion(trigger?.text ?? ''),
      },
    };
    const { model, vectors } = await this.vectors([vectorText(draft)]);
    const created = await this.kb.transact(`agent:${p.agentId || 'unknown'}`, (tx) =>
      this.createSuggestion(
        tx,
        p.draftId,
        draft,
        'agent',
        { model, vector: vectors[0] },
        new Date(),
      ),
    );
    if (created) this.logger.log('agent proposal kept as a suggestion', context);
  }

  private async reviewFromDesk(review: KnowledgeReview, correlationId: string): Promise<void> {
    const outcome = await this.review({
      reviewId: review.reviewId,
      suggestionId: review.suggestionId,
      decision: review.decision === KnowledgeDecision.APPROVE ? 'approve' : 'reject',
      reviewerId: review.reviewerId,
      title: review.title,
      body: review.body,
      tags: review.tags,
      reason: review.reason,
    });
    const context = {
      reviewId: review.reviewId,
      suggestionId: review.suggestionId,
      reviewerId: review.reviewerId,
      correlationId,
    };
    if (outcome.kind === 'unknown' || outcome.kind === 'not_pending')
      this.logger.warn('review ignored: the suggestion is not pending', {
        ...context,
        status: outcome.kind === 'not_pending' ? outcome.status : 'unknown',
      });
    else this.logger.log(`suggestion ${outcome.kind}`, context);
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
      const reviewed = {
        reviewerId: review.reviewerId,
        reviewedAt: sql`now()`,
        updatedAt: sql`now()`,
      };
      const id = locked.suggestionId;
      if (review.decision === 'reject') {
        await tx
          .update(kbSuggestions)
          .set({ ...reviewed, status: 'rejected', reason: review.reason ?? '' })
          .where(eq(kbSuggestions.suggestionId, id));
        await enqueue(tx, [
          knowledgeEvent(deterministicId('suggestion-reviewed', id), id, {
            case: 'suggestionRejected',
            value: { suggestionId: id, reviewerId: review.reviewerId, reason: review.reason ?? '' },
          }),
        ]);
        return { kind: 'rejected' as const };
      }
      const articleId = locked.articleId ?? draftArticleId(id, text.title);
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
        .set({ ...reviewed, status: 'approved', articleId, ...text })
        .where(eq(kbSuggestions.suggestionId, id));
      const events: OutgoingKnowledgeEvent[] = [
        knowledgeEvent(deterministicId('suggestion-reviewed', id), id, {
          case: 'suggestionApproved',
          value: { suggestionId: id, articleId, reviewerId: review.reviewerId },
        }),
        ...articlePublished(article, input, 'suggestion', id),
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

function cosine(a: number[], b: number[]): number {
  return a.length > 0 && a.length === b.length ? cosineSimilarity(a, b) : 0;
}
