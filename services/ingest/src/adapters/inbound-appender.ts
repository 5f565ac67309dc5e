import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, InvalidRecordError, Topics, deterministicId, type Incoming } from '@support/bus';
import {
  validateInboundMessage,
  type CsatRating,
  type InboundMessage,
  type InboundMessageSchema,
} from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { CONFIG, JsonLogger, REDIS } from '@support/service-kit';
import type { Config } from '../config.js';
import { conversationIdFor, messageFingerprint, messageIdFor } from '../domain/ids.js';
import { Appending } from './appending.js';
import { claimFingerprint, IdempotencyConflict } from './fingerprints.js';
import { MessageVectors, type MessageVectorInit } from './message-vectors.js';
import { RatingRejected, Ratings } from './ratings.js';

/** The once-key of appending one customer message to the log. */
export const messageKey = (messageId: string) => `ingest:message:${messageId}`;

/**
 * support.inbound -> the conversation log: each channel message once per idempotency key
 * (CustomerMessageReceived, with its vector), a rating as CsatRated; messages waiting together
 * appended together. At least once with done marks by default, exactly once in Kafka
 * transactions with INGEST_INBOUND_TRANSACTIONS=on (appending.ts).
 */
@Injectable()
export class InboundAppender implements OnApplicationBootstrap {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly appending: Appending,
    private readonly ratings: Ratings,
    private readonly vectors: MessageVectors,
    private readonly logger: JsonLogger,
    @Inject(CONFIG) private readonly config: Config,
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
      // Messages waiting together are appended together: their Redis checks and marks in one
      // round trip each, their events in one produce request.
      handleBatch: (records) => this.appendAll(records),
      // With transactions, each CustomerMessageReceived (or CsatRated) goes to the log in one
      // transaction with the offset past its inbound record; either way a repeat is dropped
      // (appending.ts).
      exactlyOnce: this.config.INGEST_INBOUND_TRANSACTIONS === 'on',
      onAssignment: () => this.appending.forget(),
    });
  }

  /**
   * support.inbound -> CustomerMessageReceived on the log, once per
   * idempotency key; a record with `csat` is a rating instead (CsatRated).
   * A key reused for a different message is dead-lettered naming idempotencyKey.
   */
  private async append(record: Incoming<typeof InboundMessageSchema>): Promise<void> {
    const m = record.value;
    const conversationId = conversationIdFor(m.channel, m.externalConversationId);
    const messageId = messageIdFor(m.channel, m.idempotencyKey);
    if ((await claimFingerprint(this.redis, messageId, messageFingerprint(m))) === 'conflict') {
      this.logger.warn('idempotency key reused for a different message', {
        conversationId,
        correlationId: record.meta.correlationId,
        field: 'idempotencyKey',
      });
      throw new InvalidRecordError(
        `rejected ${Topics.inbound.schema.typeName}: idempotencyKey (reused): ${new IdempotencyConflict(m.idempotencyKey).message}`,
      );
    }
    if (m.csat) return this.appendRating(record, m.csat, conversationId, messageId);
    const key = messageKey(messageId);
    const [appended] = await this.appending.claim([{ key, at: record }]);
    if (appended)
      await this.appending.append([key], () =>
        this.publishReceived(record, conversationId, messageId),
      );
    this.logger.log(appended ? 'customer message appended' : 'duplicate message dropped', {
      conversationId,
      messageId,
      correlationId: record.meta.correlationId,
    });
  }

  /**
   * Several inbound messages at once, as `append` does each. A rating, or an idempotency key
   * reused for a different message, sends the batch through `append` one record at a time (the
   * bus does that when this throws), where a reused key is dead-lettered.
   */
  private async appendAll(records: Incoming<typeof InboundMessageSchema>[]): Promise<void> {
    if (records.some((r) => r.value.csat)) {
      for (const r of records) await this.append(r);
      return;
    }
    const items = records.map((record) => {
      const m = record.value;
      return {
        record,
        conversationId: conversationIdFor(m.channel, m.externalConversationId),
        messageId: messageIdFor(m.channel, m.idempotencyKey),
      };
    });
    const claims = await Promise.all(
      items.map((i) =>
        claimFingerprint(this.redis, i.messageId, messageFingerprint(i.record.value)),
      ),
    );
    if (claims.includes('conflict')) throw new Error('an idempotency key reused in the batch');
    const seen = new Set<string>();
    const firsts = items.filter((i) => !seen.has(i.messageId) && seen.add(i.messageId));
    const claimed = await this.appending.claim(
      firsts.map(({ messageId, record }) => ({ key: messageKey(messageId), at: record })),
    );
    const todo = firsts.filter((_, k) => claimed[k]);
    // Each message goes out as soon as its vector is made: the encoder takes the batch's messages
    // a few dozen at a time, and the first are not held back for the last.
    await this.appending.append(
      todo.map((i) => messageKey(i.messageId)),
      () =>
        Promise.all(
          todo.map(({ record, conversationId, messageId }) =>
            this.publishReceived(record, conversationId, messageId),
          ),
        ),
    );
    for (const i of items)
      this.logger.log(
        todo.includes(i) ? 'customer message appended' : 'duplicate message dropped',
        {
          conversationId: i.conversationId,
          messageId: i.messageId,
          correlationId: i.record.meta.correlationId,
        },
      );
  }

  /** CustomerMessageReceived for an inbound message, with the message's vector, on the log. */
  private async publishReceived(
    record: Incoming<typeof InboundMessageSchema>,
    conversationId: string,
    messageId: string,
  ): Promise<void> {
    const [vector] = await this.vectors.of([record.value.text]);
    const event = receivedEvent(conversationId, messageId, record.value, vector);
    await this.bus.publish({
      topic: Topics.events,
      key: conversationId,
      value: event,
      eventId: event.eventId,
      correlationId: record.meta.correlationId,
      causationId: record.meta.eventId,
    });
  }

  /** A rating from a channel: CsatRated, or a dead letter naming the field that does not fit. */
  private async appendRating(
    record: Incoming<typeof InboundMessageSchema>,
    rating: CsatRating,
    conversationId: string,
    messageId: string,
  ): Promise<void> {
    const eventId = deterministicId('csat-rated', messageId);
    const trace = { correlationId: record.meta.correlationId, causationId: record.meta.eventId };
    try {
      await this.ratings.rate(conversationId, rating, eventId, trace, record);
    } catch (err) {
      if (!(err instanceof RatingRejected)) throw err;
      const { rejection: r } = err;
      // Named as in the inbound message: its conversation, or a field of its rating.
      const field =
        r.field === 'conversationId'
          ? 'externalConversationId'
          : r.field === 'csat'
            ? 'csat'
            : `csat.${r.field}`;
      this.logger.warn('rating rejected', {
        conversationId,
        correlationId: record.meta.correlationId,
        field,
        rule: r.rule,
      });
      throw new InvalidRecordError(
        `rejected ${Topics.inbound.schema.typeName}: ${field} (${r.rule}): ${r.message}`,
      );
    }
  }
}

/** The log event of an inbound customer message (its id derived from the message's), with its vector when there is one. */
function receivedEvent(
  conversationId: string,
  messageId: string,
  m: InboundMessage,
  vector?: MessageVectorInit,
) {
  return conversationEvent(
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
      customerIdentity: m.customerIdentity,
      vector,
    },
  );
}
