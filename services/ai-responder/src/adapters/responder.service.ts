import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, Topics, deterministicId } from '@support/bus';
import { create, CitationSchema } from '@support/contracts';
import { conversationEvent, isBotActive } from '@support/conversation';
import {
  CONFIG,
  consumeConversationLog,
  JsonLogger,
  once,
  REDIS,
  type Applied,
} from '@support/service-kit';
import type { Config } from '../config.js';
import { answer, searchTerms } from '../domain/answer.js';
import { KnowledgeBase } from './db/knowledge-base.js';
import { proposalConfidence, proposalsTotal, retrievalSeconds } from './metrics.js';

/** Proposes a reply, grounded in the knowledge base, to every new customer message the bot may answer. */
@Injectable()
export class ResponderService implements OnApplicationBootstrap {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: Config,
    private readonly kb: KnowledgeBase,
    private readonly logger: JsonLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await consumeConversationLog(this.bus, this.redis, { react: (applied) => this.react(applied) });
  }

  private async react({ event, after, record }: Applied): Promise<void> {
    if (event.payload.case !== 'customerMessageReceived' || !isBotActive(after)) return;
    const { messageId, text } = event.payload.value;
    const conversationId = event.conversationId;
    const context = { conversationId, messageId, correlationId: record.meta.correlationId };
    const published = await once(this.redis, `ai-responder:proposal:${messageId}`, async () => {
      const stopTimer = retrievalSeconds.startTimer();
      const articles = await this.kb.search(searchTerms(text), this.config.KB_TOP_K);
      stopTimer();
      const reply = answer(text, articles);
      const proposal = conversationEvent(
        conversationId,
        deterministicId('proposal', messageId),
        'aiReplyProposed',
        {
          messageId,
          replyId: deterministicId('reply', messageId),
          text: reply.text,
          confidence: reply.confidence,
          citations: reply.citations.map((c) => create(CitationSchema, c)),
          intent: reply.intent,
          articlesTried: reply.articlesTried,
        },
      );
      await this.bus.publish({
        topic: Topics.events,
        key: conversationId,
        value: proposal,
        eventId: proposal.eventId,
        correlationId: record.meta.correlationId,
        causationId: record.meta.eventId,
      });
      proposalsTotal.inc({ outcome: reply.citations.length ? 'answered' : 'no_match' });
      proposalConfidence.observe(reply.confidence);
      this.logger.log('reply proposed', {
        ...context,
        confidence: reply.confidence,
        intent: reply.intent,
        articlesTried: reply.articlesTried,
      });
    });
    if (!published) this.logger.log('proposal already published; redelivery ignored', context);
  }
}
