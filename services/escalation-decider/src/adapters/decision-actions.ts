import { Counter } from 'prom-client';
import { Bus, Topics, deterministicId } from '@support/bus';
import { notice } from '@support/notices';
import {
  create,
  HandoffRequestSchema,
  OutboundKind,
  OutboundMessageSchema,
  type ConversationEvent,
} from '@support/contracts';
import { conversationEvent, findMessage, type ConversationState } from '@support/conversation';
import type { JsonLogger } from '@support/service-kit';
import { buildBriefing, type BriefingInit } from '../domain/briefing.js';
import { pagePath, type DecisionContext } from '../domain/context.js';
import type { Decision } from '../domain/decide.js';
import { teamForSkills, type Policy } from '../domain/policy.js';
import type { DirectoryVocabularyStore } from './directory.js';
import type { ReviewPublisher } from './review-publisher.js';
import type { BriefingSummarizer } from './summary.js';

const decisions = new Counter({
  name: 'decider_decisions_total',
  help: 'Decisions by kind and trigger',
  labelNames: ['kind', 'rule'],
});

/**
 * What a decision does once taken: a release publishes the AI's reply to the customer and
 * `aiReplyReleased`; a handoff publishes the notice to the customer, the `HandoffRequest` with
 * its briefing and `handoffRequested` (then, when a chat model is set, its summary as revision
 * 2); a review goes to the review publisher. Returns the log events it appended.
 */
export class DecisionActions {
  constructor(
    private readonly bus: Bus,
    private readonly logger: JsonLogger,
    private readonly reviews: ReviewPublisher,
    private readonly directory: DirectoryVocabularyStore,
    private readonly summarizer: BriefingSummarizer,
  ) {}

  async act(
    state: ConversationState,
    messageId: string,
    decision: Exclude<Decision, { kind: 'none' | 'wait' }>,
    trace: { correlationId: string; causationId: string },
    policy: Policy,
    context: DecisionContext,
  ): Promise<ConversationEvent[]> {
    if (decision.kind === 'review')
      return this.reviews.publish(state, messageId, decision, trace, policy, context);
    const policyVersion = policy.version;
    const conversationId = state.conversationId;
    const message = findMessage(state, messageId)!;
    const to = {
      conversationId,
      channel: state.channel,
      externalConversationId: state.externalConversationId,
      customerId: state.customerId,
      inReplyTo: messageId,
      sentAt: new Date().toISOString(),
    };
    if (decision.kind === 'release') {
      const p = message.proposal!;
      const citations = p.citations;
      const released = conversationEvent(
        conversationId,
        deterministicId('released', messageId),
        'aiReplyReleased',
        {
          messageId,
          replyId: p.replyId,
          text: p.text,
          confidence: p.confidence,
          citations,
          policyVersion,
          missingInputs: decision.missing,
          context: {
            account: context.account,
            accountLookup: context.accountLookup,
            page: {
              url: context.pageUrl,
              path: pagePath(context.pageUrl),
              area: policy.pageArea(pagePath(context.pageUrl)),
            },
          },
        },
      );
      await this.bus.publish(
        {
          topic: Topics.outbound,
          key: conversationId,
          value: create(OutboundMessageSchema, {
            ...to,
            messageId: deterministicId('outbound-reply', messageId),
            kind: OutboundKind.AI_REPLY,
            text: p.text,
            citations,
            author: 'AI assistant',
          }),
          eventId: deterministicId('outbound-reply', messageId),
          ...trace,
        },
        {
          topic: Topics.events,
          key: conversationId,
          value: released,
          eventId: released.eventId,
          ...trace,
        },
      );
      decisions.inc({ kind: 'release', rule: '' });
      this.logger.log('AI reply released', {
        conversationId,
        messageId,
        confidence: p.confidence,
        missing: decision.missing,
        ...trace,
      });
      return [released];
    }
    const handoffId = deterministicId('handoff', messageId);
    // The team a rule names, else the one whose skills cover the handoff's (the directory's vocabulary).
    const handoff = {
      ...decision,
      team: decision.team || teamForSkills(decision.requiredSkills, this.directory.current),
    };
    const briefing = buildBriefing(state, messageId, handoff, context, policy);
    const triggers = decision.triggers;
    const requested = conversationEvent(
      conversationId,
      deterministicId('handoff-requested', messageId),
      'handoffRequested',
      {
        handoffId,
        messageId,
        triggers,
        priority: decision.priority,
        requiredSkills: decision.requiredSkills,
        language: decision.language,
        team: handoff.team,
        policyVersion,
        briefing,
        priorityReasons: decision.priorityReasons,
        missingInputs: decision.missing,
      },
    );
    await this.bus.publish(
      {
        topic: Topics.outbound,
        key: conversationId,
        value: create(OutboundMessageSchema, {
          ...to,
          messageId: deterministicId('outbound-handoff', messageId),
          kind: OutboundKind.SYSTEM,
          text: notice('handoff', decision.language),
          author: 'system',
        }),
        eventId: deterministicId('outbound-handoff', messageId),
        ...trace,
      },
      {
        topic: Topics.handoffRequests,
        key: conversationId,
        value: create(HandoffRequestSchema, {
          handoffId,
          conversationId,
          priority: decision.priority,
          requiredSkills: decision.requiredSkills,
          language: decision.language,
          triggers,
          briefing,
          requestedAt: requested.occurredAt,
          revision: 1,
          priorityReasons: decision.priorityReasons,
          team: handoff.team,
          triggerMessageId: messageId,
        }),
        eventId: handoffId,
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
    for (const t of triggers) decisions.inc({ kind: 'handoff', rule: t.rule });
    this.logger.log('handed off', {
      conversationId,
      messageId,
      handoffId,
      team: handoff.team,
      triggers: triggers.map((t) => t.rule),
      priorityReasons: decision.priorityReasons.map((t) => t.rule),
      missing: decision.missing,
      ...trace,
    });
    if (this.summarizer.generator)
      void this.summarizeLater(state, handoffId, requested, briefing, trace);
    return [requested];
  }

  /**
   * After the handoff is out: the chat model writes the summary, which goes
   * into the log (BriefingSummarized) and to desks as revision 2 of the
   * handoff. If the model fails, the extractive summary stands.
   */
  private async summarizeLater(
    state: ConversationState,
    handoffId: string,
    requested: ConversationEvent,
    briefing: BriefingInit,
    trace: { correlationId: string; causationId: string },
  ): Promise<void> {
    const conversationId = state.conversationId;
    const generator = this.summarizer.generator!;
    let summary: string | undefined;
    try {
      summary = await this.summarizer.summarize(briefing);
    } catch (err) {
      this.logger.warn('briefing summary by the chat model failed; the extractive one stands', {
        conversationId,
        handoffId,
        error: (err as Error).message,
      });
      return;
    }
    if (!summary) return;
    const summarized = conversationEvent(
      conversationId,
      deterministicId('briefing-summarized', handoffId),
      'briefingSummarized',
      { handoffId, summary, generator },
    );
    const h = requested.payload.case === 'handoffRequested' ? requested.payload.value : undefined;
    try {
      await this.bus.publish(
        {
          topic: Topics.handoffRequests,
          key: conversationId,
          value: create(HandoffRequestSchema, {
            handoffId,
            conversationId,
            priority: h?.priority,
            requiredSkills: h?.requiredSkills,
            language: h?.language,
            triggers: h?.triggers,
            priorityReasons: h?.priorityReasons,
            briefing: { ...briefing, summary, summaryGenerator: generator },
            requestedAt: requested.occurredAt,
            revision: 2,
            team: h?.team,
            triggerMessageId: h?.messageId,
          }),
          eventId: deterministicId('handoff-revision-2', handoffId),
          ...trace,
        },
        {
          topic: Topics.events,
          key: conversationId,
          value: summarized,
          eventId: summarized.eventId,
          ...trace,
        },
      );
      this.logger.log('briefing summarized', { conversationId, handoffId, generator, ...trace });
    } catch (err) {
      this.logger.error('could not publish the briefing summary', {
        conversationId,
        handoffId,
        error: (err as Error).message,
      });
    }
  }
}
