import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, Topics, deterministicId } from '@support/bus';
import { create, TrajectorySchema, type ConversationEvent } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import {
  consumeConversationLog,
  JsonLogger,
  once,
  REDIS,
  type Applied,
} from '@support/service-kit';
import { scoreInConversation } from '../domain/score.js';
import { scoredTotal, signalsTotal } from './metrics.js';

/** Scores every new customer message and appends MessageScored to the log. */
@Injectable()
export class ScorerService implements OnApplicationBootstrap {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly logger: JsonLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await consumeConversationLog(this.bus, this.redis, { react: (applied) => this.react(applied) });
  }

  private async react({ event, after, record }: Applied): Promise<ConversationEvent[] | void> {
    if (event.payload.case !== 'customerMessageReceived') return;
    const { messageId, text } = event.payload.value;
    const conversationId = event.conversationId;
    const context = { conversationId, messageId, correlationId: record.meta.correlationId };
    const earlier = after.messages
      .filter((m) => m.messageId !== messageId)
      .map((m) => ({ messageId: m.messageId, text: m.text, valence: m.score?.valence }));
    let scored: ConversationEvent | undefined;
    const published = await once(this.redis, `sentiment-scorer:score:${messageId}`, async () => {
      const score = scoreInConversation(earlier, { messageId, text });
      const event = conversationEvent(
        conversationId,
        deterministicId('score', messageId),
        'messageScored',
        {
          messageId,
          valence: score.valence,
          label: score.label,
          signals: score.signals,
          trajectory: create(TrajectorySchema, score.trajectory),
          repeatsMessageId: score.repeats?.messageId ?? '',
          repeatSimilarity: score.repeats?.similarity ?? 0,
        },
      );
      scored = event;
      await this.bus.publish({
        topic: Topics.events,
        key: conversationId,
        value: event,
        eventId: event.eventId,
        correlationId: record.meta.correlationId,
        causationId: record.meta.eventId,
      });
      scoredTotal.inc({ label: score.label });
      for (const signal of score.signals) signalsTotal.inc({ signal });
      this.logger.log('message scored', { ...context, ...score });
    });
    if (!published) this.logger.log('score already published; redelivery ignored', context);
    // Its own score counts at once: the next message may already be in the log before it.
    return scored ? [scored] : undefined;
  }
}
