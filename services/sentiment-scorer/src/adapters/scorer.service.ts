import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, Topics, deterministicId } from '@support/bus';
import { create, TrajectorySchema, type ConversationEvent } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { lazySentenceEncoder, vectorOf, type SentenceEncoder } from '@support/encoder';
import { JsonLogger, REDIS } from '@support/service-kit';
import { consumeConversationLog, type Applied } from '@support/stream';
import { EMOTION_MODEL } from '../domain/emotion-model.js';
import { assertTrainedOn } from '../domain/emotions.js';
import { scorerProjection, type ScorerState } from '../domain/projection.js';
import { scoreInConversation } from '../domain/score.js';
import { scoredTotal, signalsTotal } from './metrics.js';

/**
 * Scores every new customer message and appends MessageScored to the log, exactly once: the score
 * goes out in one Kafka transaction with the offset past its message (a score whose transaction
 * did not commit is never seen, and the message is scored again by whoever reads it next).
 */
@Injectable()
export class ScorerService implements OnApplicationBootstrap {
  private encoder!: SentenceEncoder;

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly logger: JsonLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.encoder = emotionEncoder();
    await consumeConversationLog(this.bus, this.redis, {
      projection: scorerProjection,
      react: (applied) => this.react(applied),
      exactlyOnce: true,
    });
  }

  private async react({
    event,
    after,
    record,
  }: Applied<ScorerState>): Promise<ConversationEvent[] | void> {
    if (event.payload.case !== 'customerMessageReceived') return;
    const { messageId, text, vector: given } = event.payload.value;
    const conversationId = event.conversationId;
    const context = { conversationId, messageId, correlationId: record.meta.correlationId };
    const earlier = after.messages.filter((m) => m.messageId !== messageId);
    // The vector ingest embedded the message with, when it is this encoder's; else embedded here.
    const vector = await vectorOf(this.encoder, text, given);
    const score = scoreInConversation(earlier, { messageId, text, vector });
    const scored = conversationEvent(
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
        frustration: score.frustration,
      },
    );
    await this.bus.publish({
      topic: Topics.events,
      key: conversationId,
      value: scored,
      eventId: scored.eventId,
      correlationId: record.meta.correlationId,
      causationId: record.meta.eventId,
    });
    scoredTotal.inc({ label: score.label });
    for (const signal of score.signals) signalsTotal.inc({ signal });
    const { emotions, ...logged } = score;
    this.logger.log('message scored', { ...context, ...logged, learned: emotions.frustration });
    // Its own score counts at once: the next message may already be in the log before it.
    return [scored];
  }
}

/**
 * The process's shared sentence encoder, which must be the one the emotion heads were trained
 * on. It is loaded only for a message that comes without ingest's vector of it (lazily).
 */
export function emotionEncoder(): SentenceEncoder {
  const encoder = lazySentenceEncoder();
  assertTrainedOn(EMOTION_MODEL, encoder.name);
  return encoder;
}
