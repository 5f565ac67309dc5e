import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { and, eq } from 'drizzle-orm';
import { backgroundFetchWaitMs, Bus, Topics } from '@support/bus';
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
import { draftArticle } from '../domain/kb/draft.js';
import { learningProjection, type LearningState } from '../domain/projection.js';
import {
  cleanQuestion,
  decide,
  expiryFrom,
  lessonFromResolution,
  type SuggestionDraft,
} from '../domain/kb/suggestion.js';
import { DATABASE, type KbDatabase } from './db/database.js';
import { KnowledgeBase, type Db } from './db/knowledge-base.js';
import { kbSuggestions } from './db/schema.js';
import {
  createFromResolution,
  insertSuggestion,
  mergeResolution,
  recordMatch,
  resolutionKnown,
  type Embedded,
} from './db/suggestion-writes.js';
import { ResolutionMatcher } from './resolution-matcher.js';
import { SuggestionsService } from './suggestions.service.js';

/**
 * The knowledge base's learning loop. From the conversation log (its own
 * consumer group and snapshots): a person's resolution of a handed-off
 * conversation becomes a suggested article, merged into a near-duplicate
 * pending one, or recorded as matching a published article (a false
 * escalation); an agent's article proposal becomes a suggestion too. From
 * knowledge.reviews: the desk's reviews (SuggestionsService applies them).
 * A sweep expires what nobody reviewed.
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
    private readonly suggestions: SuggestionsService,
    private readonly matcher: ResolutionMatcher,
    private readonly logger: JsonLogger,
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
        void this.suggestions
          .expireOverdue()
          .catch((err: Error) =>
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

  /** A person resolved a handed-off conversation: what it teaches, once per conversation and handoff. */
  async learnFrom({ event, after, record }: Applied<LearningState>): Promise<void> {
    if (event.payload.case !== 'conversationResolved') return;
    const lesson = lessonFromResolution(after, event.payload.value);
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
    if (await resolutionKnown(this.db, draft.source)) return;
    const embedded = await this.matcher.embedDraft(draft);
    const published = await this.matcher.published(draft, embedded);
    const outcome = await this.kb.transact('learning', async (tx) => {
      if (await resolutionKnown(tx, draft.source)) return undefined;
      return this.placeResolution(tx, draft, embedded, published);
    });
    if (outcome) this.logger.log('resolution learnt from', { ...context, outcome });
  }

  /**
   * Where a new resolution goes, inside the knowledge base's transaction: merged into the most
   * alike pending suggestion of its locale (locked), matched to a published article, or a new
   * suggestion.
   */
  private async placeResolution(
    tx: Db,
    draft: SuggestionDraft,
    embedded: Embedded,
    published: { articleId: string; similarity: number }[],
  ) {
    const ttlDays = this.config.KB_SUGGESTION_TTL_DAYS;
    const pending = await tx
      .select()
      .from(kbSuggestions)
      .where(and(eq(kbSuggestions.status, 'pending'), eq(kbSuggestions.locale, draft.locale)))
      .for('update');
    const candidates = await this.matcher.pending(pending, draft, embedded);
    const decision = decide(candidates, published, {
      merge: this.config.KB_SUGGESTION_MERGE_SIMILARITY,
      match: this.config.KB_RESOLUTION_MATCH_SIMILARITY,
    });
    if (decision.kind === 'merge') {
      const target = candidates.find((c) => c.suggestionId === decision.suggestionId)!.row;
      const occurrences = await mergeResolution(
        tx,
        target,
        draft.source,
        decision.similarity,
        ttlDays,
      );
      return { ...decision, occurrences };
    }
    if (decision.kind === 'matched') {
      await recordMatch(tx, draft.source, { ...decision, topic: draft.topic });
      return decision;
    }
    const suggestionId = await createFromResolution(tx, draft, embedded, ttlDays);
    return { kind: 'created' as const, suggestionId };
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
    const draft: SuggestionDraft = {
      title: checked.article.title,
      body: checked.article.body,
      tags: checked.article.tags,
      topic: trigger?.proposal?.topic ?? '',
      locale: checked.article.locale,
      source: {
        conversationId: event.conversationId,
        handoffId: p.handoffId,
        agentId: p.agentId,
        question: cleanQuestion(trigger?.text ?? ''),
      },
    };
    const suggestion = {
      suggestionId: p.draftId,
      draft,
      origin: 'agent' as const,
      embedded: await this.matcher.embedDraft(draft),
    };
    const expiresAt = expiryFrom(new Date(), this.config.KB_SUGGESTION_TTL_DAYS);
    const created = await this.kb.transact(`agent:${p.agentId || 'unknown'}`, (tx) =>
      insertSuggestion(tx, suggestion, expiresAt),
    );
    if (created) this.logger.log('agent proposal kept as a suggestion', context);
  }

  private async reviewFromDesk(review: KnowledgeReview, correlationId: string): Promise<void> {
    const outcome = await this.suggestions.review({
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
}
