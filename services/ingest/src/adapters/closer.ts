import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { Bus, Topics } from '@support/bus';
import { Resolution } from '@support/contracts';
import { JsonLogger, REDIS } from '@support/service-kit';
import { once } from '@support/stream';
import type { Closing } from '../domain/closing.js';

const resolutionsTotal = new Counter({
  name: 'ingest_resolutions_total',
  help: 'Conversations resolved through the HTTP API, the customer confirmation or the quiet window (each with a CSAT request; desk resolutions count in ingest_desk_actions_total), by resolution and whether it was assumed',
  labelNames: ['resolution', 'assumed'],
});

/** The once-key of appending one resolution (and its CSAT request). */
const closingKey = (resolutionEventId: string) => `ingest:closing:${resolutionEventId}`;

/**
 * Appends a resolution and its CSAT request to the log and sends the request
 * to the customer, in one request to Kafka, once per resolution event id:
 * the ids are derived from the conversation's state, so a retry, a second
 * replica or a second path (the customer confirming as the quiet window
 * passes) yields the same records, and downstream dedups them by id.
 */
@Injectable()
export class Closer {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly logger: JsonLogger,
  ) {}

  /** Whether this call appended it (false: appended before). */
  async close(
    closing: Closing,
    trace: { correlationId?: string; causationId?: string } = {},
  ): Promise<boolean> {
    const [resolved] = closing.events;
    const conversationId = resolved.conversationId;
    const appended = await once(this.redis, closingKey(resolved.eventId), async () => {
      await this.bus.publish(
        ...closing.events.map((event) => ({
          topic: Topics.events,
          key: conversationId,
          value: event,
          eventId: event.eventId,
          ...trace,
        })),
        {
          topic: Topics.outbound,
          key: conversationId,
          value: closing.outbound,
          eventId: closing.outbound.messageId,
          ...trace,
        },
      );
    });
    const r = resolved.payload.case === 'conversationResolved' ? resolved.payload.value : undefined;
    if (appended)
      resolutionsTotal.inc({
        resolution: r?.resolution === Resolution.HUMAN ? 'human' : 'ai',
        assumed: String(r?.assumed ?? false),
      });
    this.logger.log(appended ? 'conversation resolved' : 'resolution appended before', {
      conversationId,
      correlationId: trace.correlationId,
      eventId: resolved.eventId,
      resolvedBy: r?.resolvedBy,
      assumed: r?.assumed,
      csatRequestId: closing.requestId,
    });
    return appended;
  }
}
