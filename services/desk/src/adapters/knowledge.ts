import { randomUUID } from 'node:crypto';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { and, desc, eq, inArray } from 'drizzle-orm';
import { Bus, Topics } from '@support/bus';
import {
  create,
  KnowledgeDecision,
  KnowledgeReviewSchema,
  type KnowledgeEvent,
} from '@support/contracts';
import { JsonLogger } from '@support/service-kit';
import {
  addSource,
  canMoveTo,
  type ApproveInput,
  type SuggestionSource,
  type SuggestionStatus,
} from '../domain/knowledge.js';
import type { Agent } from './session.js';
import { DeskDatabase } from './db/store.js';
import { suggestions, type SuggestionRow } from './db/schema.js';

export type SuggestionView = Omit<SuggestionRow, 'sources'> & { sources: SuggestionSource[] };

const sourceOf = (s?: {
  conversationId: string;
  handoffId: string;
  agentId: string;
  question: string;
}): SuggestionSource[] =>
  s
    ? [
        {
          conversationId: s.conversationId,
          handoffId: s.handoffId,
          agentId: s.agentId,
          question: s.question,
        },
      ]
    : [];

/**
 * The desk's approval queue: knowledge.events (written by the AI responder,
 * which owns the knowledge base) kept in desk.kb_suggestions, and reviewers'
 * decisions published on knowledge.reviews. Applying an event twice changes
 * nothing: a creation is inserted once, a merge carries the absolute count,
 * a decision only moves a pending suggestion.
 */
@Injectable()
export class KnowledgeSuggestions implements OnApplicationBootstrap {
  constructor(
    private readonly bus: Bus,
    private readonly store: DeskDatabase,
    private readonly logger: JsonLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      group: 'knowledge',
      topic: Topics.knowledgeEvents,
      validate: (e) =>
        !e.eventId ? 'event_id is required' : !e.payload.case ? 'payload is required' : undefined,
      handle: (record) => this.apply(record.value),
    });
  }

  /** Applies one knowledge event to the table. */
  async apply(event: KnowledgeEvent): Promise<void> {
    const db = this.store.db;
    const at = new Date(event.occurredAt || Date.now());
    const p = event.payload;
    switch (p.case) {
      case 'suggestionCreated': {
        const s = p.value;
        await db
          .insert(suggestions)
          .values({
            suggestionId: s.suggestionId,
            title: s.title,
            body: s.body,
            tags: s.tags,
            topic: s.topic,
            origin: s.origin || 'resolution',
            status: 'pending',
            occurrences: 1,
            sources: sourceOf(s.source),
            expiresAt: s.expiresAt ? new Date(s.expiresAt) : null,
            createdAt: at,
            updatedAt: at,
          })
          .onConflictDoNothing();
        return;
      }
      case 'suggestionMerged': {
        const m = p.value;
        await db.transaction(async (tx) => {
          const [row] = await tx
            .select()
            .from(suggestions)
            .where(eq(suggestions.suggestionId, m.suggestionId))
            .for('update');
          if (!row) {
            this.logger.warn('merge into an unknown suggestion ignored', {
              suggestionId: m.suggestionId,
            });
            return;
          }
          const sources = sourceOf(m.source).reduce(addSource, row.sources as SuggestionSource[]);
          await tx
            .update(suggestions)
            .set({
              occurrences: Math.max(row.occurrences, m.occurrences),
              sources,
              ...(m.expiresAt ? { expiresAt: new Date(m.expiresAt) } : {}),
              updatedAt: at,
            })
            .where(eq(suggestions.suggestionId, m.suggestionId));
        });
        return;
      }
      case 'suggestionApproved':
        return this.decided(p.value.suggestionId, 'approved', at, {
          articleId: p.value.articleId,
          reviewerId: p.value.reviewerId,
        });
      case 'suggestionRejected':
        return this.decided(p.value.suggestionId, 'rejected', at, {
          reviewerId: p.value.reviewerId,
        });
      case 'suggestionExpired':
        return this.decided(p.value.suggestionId, 'expired', at, {});
      default:
        // Articles published and matched resolutions are for the metrics service.
        return;
    }
  }

  private async decided(
    suggestionId: string,
    status: SuggestionStatus,
    at: Date,
    fields: { articleId?: string; reviewerId?: string },
  ): Promise<void> {
    const moves = ['pending', status].filter((s) => canMoveTo(s, status));
    await this.store.db
      .update(suggestions)
      .set({ status, ...fields, updatedAt: at })
      .where(and(eq(suggestions.suggestionId, suggestionId), inArray(suggestions.status, moves)));
  }

  /** Suggestions in one status, newest first. */
  async list(status: SuggestionStatus, limit: number): Promise<SuggestionView[]> {
    const rows = await this.store.db
      .select()
      .from(suggestions)
      .where(eq(suggestions.status, status))
      .orderBy(desc(suggestions.updatedAt), desc(suggestions.createdAt))
      .limit(limit);
    return rows.map((r) => ({ ...r, sources: r.sources as SuggestionSource[] }));
  }

  async get(suggestionId: string): Promise<SuggestionRow | undefined> {
    const [row] = await this.store.db
      .select()
      .from(suggestions)
      .where(eq(suggestions.suggestionId, suggestionId));
    return row;
  }

  /** Publishes a reviewer's decision on knowledge.reviews; the AI responder applies it. */
  async publishReview(
    suggestionId: string,
    reviewer: Agent,
    decision: { approve: ApproveInput } | { reject: { reason: string } },
  ): Promise<string> {
    const reviewId = randomUUID();
    const approve = 'approve' in decision ? decision.approve : undefined;
    await this.bus.publish({
      topic: Topics.knowledgeReviews,
      key: suggestionId,
      eventId: reviewId,
      value: create(KnowledgeReviewSchema, {
        reviewId,
        suggestionId,
        decision: approve ? KnowledgeDecision.APPROVE : KnowledgeDecision.REJECT,
        title: approve?.title ?? '',
        body: approve?.body ?? '',
        tags: approve?.tags ?? [],
        reviewerId: reviewer.agentId,
        reason: 'reject' in decision ? decision.reject.reason : '',
        sentAt: new Date().toISOString(),
      }),
    });
    this.logger.log('knowledge review published', {
      suggestionId,
      reviewId,
      reviewerId: reviewer.agentId,
      decision: approve ? 'approve' : 'reject',
    });
    return reviewId;
  }
}
