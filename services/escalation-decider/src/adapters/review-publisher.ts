import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { Bus, Topics, deterministicId } from '@support/bus';
import {
  create,
  HandoffRequestSchema,
  OutboundKind,
  OutboundMessageSchema,
  type ConversationEvent,
} from '@support/contracts';
import { conversationEvent, findMessage, type ConversationState } from '@support/conversation';
import { notice } from '@support/notices';
import { JsonLogger } from '@support/service-kit';
import { buildBriefing } from '../domain/briefing.js';
import { pagePath, type DecisionContext } from '../domain/context.js';
import type { ReviewDecision } from '../domain/review.js';
import { teamForSkills, type Policy } from '../domain/policy.js';
import { DirectoryVocabularyStore } from './directory.js';

const reviews = new Counter({
  name: 'decider_reviews_total',
  help: 'AI replies held for a person to review, by rule',
  labelNames: ['rule'],
});

/** The id of a review (ReviewRequested.review_id, the handoff id desks and the router use). */
export const reviewIdFor = (messageId: string) => deterministicId('review', messageId);
/** The id of the review's event on the log (one per customer message). */
export const reviewEventIdFor = (messageId: string) =>
  deterministicId('review-requested', messageId);

/**
 * Publishes a review: the customer is told an answer is being checked (the
 * same system-message path as the handoff's notice), desks get a
 * HandoffRequest carrying the draft (`review`, routed by the router like a
 * handoff, by skills and team), and the log gets ReviewRequested. One
 * produce call, so that all three land or none.
 */
@Injectable()
export class ReviewPublisher {
  constructor(
    private readonly bus: Bus,
    private readonly directory: DirectoryVocabularyStore,
    private readonly logger: JsonLogger,
  ) {}

  async publish(
    state: ConversationState,
    messageId: string,
    decision: ReviewDecision,
    trace: { correlationId: string; causationId: string },
    policy: Policy,
    context: DecisionContext,
  ): Promise<ConversationEvent[]> {
    const conversationId = state.conversationId;
    const p = findMessage(state, messageId)!.proposal!;
    const reviewId = reviewIdFor(messageId);
    const team = decision.team || teamForSkills(decision.requiredSkills, this.directory.current);
    const briefing = buildBriefing(
      state,
      messageId,
      { ...decision, kind: 'handoff', team },
      context,
      policy,
    );
    const draft = {
      replyId: p.replyId,
      text: p.text,
      confidence: p.confidence,
      citations: p.citations,
    };
    const requested = conversationEvent(
      conversationId,
      reviewEventIdFor(messageId),
      'reviewRequested',
      {
        reviewId,
        messageId,
        ...draft,
        triggers: decision.triggers,
        priorityReasons: decision.priorityReasons,
        priority: decision.priority,
        requiredSkills: decision.requiredSkills,
        language: decision.language,
        team,
        policyVersion: policy.version,
        context: {
          account: context.account,
          accountLookup: context.accountLookup,
          page: {
            url: context.pageUrl,
            path: pagePath(context.pageUrl),
            area: policy.pageArea(pagePath(context.pageUrl)),
          },
        },
        briefing,
        missingInputs: decision.missing,
      },
    );
    await this.bus.publish(
      {
        topic: Topics.outbound,
        key: conversationId,
        value: create(OutboundMessageSchema, {
          conversationId,
          channel: state.channel,
          externalConversationId: state.externalConversationId,
          customerId: state.customerId,
          inReplyTo: messageId,
          sentAt: new Date().toISOString(),
          messageId: deterministicId('outbound-review', messageId),
          kind: OutboundKind.SYSTEM,
          text: notice('review', decision.language),
          author: 'system',
        }),
        eventId: deterministicId('outbound-review', messageId),
        ...trace,
      },
      {
        topic: Topics.handoffRequests,
        key: conversationId,
        value: create(HandoffRequestSchema, {
          handoffId: reviewId,
          conversationId,
          priority: decision.priority,
          requiredSkills: decision.requiredSkills,
          language: decision.language,
          triggers: decision.triggers,
          briefing,
          requestedAt: requested.occurredAt,
          revision: 1,
          priorityReasons: decision.priorityReasons,
          team,
          triggerMessageId: messageId,
          review: draft,
        }),
        eventId: reviewId,
        ...trace,
      },
      {
        topic: Topics.events,
        key: conversationId,
        value: requested,
        eventId: requested.eventId,
        ...trace,
      },
    );
    for (const t of decision.triggers) reviews.inc({ rule: t.rule });
    this.logger.log('AI reply held for review', {
      conversationId,
      messageId,
      reviewId,
      team,
      confidence: p.confidence,
      triggers: decision.triggers.map((t) => t.rule),
      ...trace,
    });
    return [requested];
  }
}
