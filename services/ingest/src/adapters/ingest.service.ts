import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, Topics, deterministicId, type Incoming } from '@support/bus';
import {
  Resolution,
  validateInboundMessage,
  type InboundMessage,
  type InboundMessageSchema,
} from '@support/contracts';
import { conversationEvent, isResolved } from '@support/conversation';
import {
  consumeConversationLog,
  isDone,
  once,
  JsonLogger,
  REDIS,
  SnapshotStore,
} from '@support/service-kit';
import { conversationIdFor, messageIdFor, resolutionEvent, resolutionFor } from '../domain/ids.js';
import { OutboundHistory } from './outbound-history.js';

/** The once-key of appending one customer message to the log. */
const messageKey = (messageId: string) => `ingest:message:${messageId}`;

export class ConversationNotFound extends Error {}
export class AlreadyResolved extends Error {}

@Injectable()
export class IngestService implements OnApplicationBootstrap {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly history: OutboundHistory,
    private readonly logger: JsonLogger,
    private readonly store: SnapshotStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume({
      group: 'inbound',
      topic: Topics.inbound,
      validate: (m) => {
        const issues = validateInboundMessage(m);
        return issues.length ? issues.map((i) => `${i.field}: ${i.message}`).join('; ') : undefined;
      },
      handle: (record) => this.append(record),
    });
    // Ingest keeps the conversations' state to know, when one is resolved, whether the AI or a
    // person did it, and to check what agents do at their desks (DeskActionsConsumer).
    await consumeConversationLog(this.bus, this.redis, {
      store: this.store,
      react: async () => undefined,
    });
    await this.history.start();
  }

  /** Publishes an accepted HTTP message on support.inbound, like any channel adapter would. */
  async accept(
    message: InboundMessage,
    correlationId: string,
  ): Promise<{ conversationId: string; messageId: string; duplicate: boolean }> {
    const conversationId = conversationIdFor(message.channel, message.externalConversationId);
    const messageId = messageIdFor(message.channel, message.idempotencyKey);
    const duplicate = await isDone(this.redis, messageKey(messageId));
    if (!duplicate) {
      await this.bus.publish({
        topic: Topics.inbound,
        key: `${message.channel}:${message.externalConversationId}`,
        value: message,
        eventId: messageId,
        correlationId,
      });
    }
    return { conversationId, messageId, duplicate };
  }

  /** support.inbound -> CustomerMessageReceived on the log, once per idempotency key. */
  private async append(record: Incoming<typeof InboundMessageSchema>): Promise<void> {
    const m = record.value;
    const conversationId = conversationIdFor(m.channel, m.externalConversationId);
    const messageId = messageIdFor(m.channel, m.idempotencyKey);
    const appended = await once(this.redis, messageKey(messageId), async () => {
      const event = conversationEvent(
        conversationId,
        deterministicId('received', messageId),
        'customerMessageReceived',
        {
          messageId,
          channel: m.channel,
          externalConversationId: m.externalConversationId,
          customerId: m.customerId,
          text: m.text,
          locale: m.locale,
          pageUrl: m.pageUrl,
          idempotencyKey: m.idempotencyKey,
          accountId: m.accountId,
          sentAt: m.sentAt,
        },
      );
      await this.bus.publish({
        topic: Topics.events,
        key: conversationId,
        value: event,
        eventId: event.eventId,
        correlationId: record.meta.correlationId,
        causationId: record.meta.eventId,
      });
    });
    this.logger.log(appended ? 'customer message appended' : 'duplicate message dropped', {
      conversationId,
      messageId,
      correlationId: record.meta.correlationId,
    });
  }

  /** Appends ConversationResolved; the resolution (AI or human) follows from the conversation's state. */
  async resolve(
    conversationId: string,
    resolvedBy: string,
    note: string,
  ): Promise<{ resolution: 'ai' | 'human' }> {
    const state = await this.store.state(conversationId);
    if (state.status === 'new') throw new ConversationNotFound(conversationId);
    if (isResolved(state)) throw new AlreadyResolved(conversationId);
    const resolution = resolutionFor(state);
    const event = resolutionEvent(state, { resolution, resolvedBy, note });
    await this.bus.publish({
      topic: Topics.events,
      key: conversationId,
      value: event,
      eventId: event.eventId,
    });
    return { resolution: resolution === Resolution.HUMAN ? 'human' : 'ai' };
  }

  async state(conversationId: string) {
    return this.store.state(conversationId);
  }
}
