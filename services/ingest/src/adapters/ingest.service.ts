import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, InvalidRecordError, Topics, deterministicId, type Incoming } from '@support/bus';
import {
  Resolution,
  validateInboundMessage,
  type CsatRating,
  type InboundMessage,
  type InboundMessageSchema,
} from '@support/contracts';
import {
  conversationEvent,
  initialState,
  isResolved,
  type ConversationState,
} from '@support/conversation';
import { CONFIG, JsonLogger, REDIS } from '@support/service-kit';
import { consumeConversationLog, isDone, SnapshotStore } from '@support/stream';
import { Appending, type RecordAt } from './appending.js';
import type { Config } from '../config.js';
import {
  confirmByCustomer,
  confirmRefusal,
  decideRating,
  resolveNow,
  type ConfirmRefusal,
  type RatingRejection,
} from '../domain/closing.js';
import {
  conversationIdFor,
  messageFingerprint,
  messageIdFor,
  resolutionFor,
} from '../domain/ids.js';
import { Closer } from './closer.js';
import { claimFingerprint, IdempotencyConflict } from './fingerprints.js';
import { OutboundHistory } from './outbound-history.js';
import { QuietWindow } from './quiet-window.js';
import { MessageVectors, type MessageVectorInit } from './message-vectors.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The once-key of appending one customer message to the log. */
const messageKey = (messageId: string) => `ingest:message:${messageId}`;

/** The once-key of appending one rating to the log. */
const ratingKey = (eventId: string) => `ingest:csat:${eventId}`;

export class ConversationNotFound extends Error {}
export class AlreadyResolved extends Error {}
/** The customer may not resolve the conversation as answered (see confirmRefusal). */
export class ConfirmRefused extends Error {
  constructor(readonly refusal: ConfirmRefusal) {
    super(refusal.message);
  }
}
/** A rating that does not fit the conversation (see decideRating). */
export class RatingRejected extends Error {
  constructor(readonly rejection: RatingRejection) {
    super(`${rejection.field} (${rejection.rule}): ${rejection.message}`);
  }
}

@Injectable()
export class IngestService implements OnApplicationBootstrap {
  /** What support.inbound records are appending now, and the done marks (appending.ts). */
  private readonly appending: Appending;

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly history: OutboundHistory,
    private readonly logger: JsonLogger,
    private readonly store: SnapshotStore,
    private readonly closer: Closer,
    private readonly quiet: QuietWindow,
    @Inject(CONFIG) private readonly config: Config,
    private readonly vectors: MessageVectors,
  ) {
    this.appending = new Appending(redis);
  }

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
    // Ingest keeps the conversations' state to know, when one is resolved, whether the AI or a
    // person did it, to check what agents do at their desks (DeskActionsConsumer) and which
    // conversations wait in their quiet window (QuietWindow).
    await consumeConversationLog(this.bus, this.redis, {
      store: this.store,
      react: async ({ before, after }) => this.quiet.track(before, after),
      // Snapshots Redis lost come back from the log, and the quiet window's candidates with them.
      onRestored: async (snapshots) => {
        for (const { state } of snapshots)
          await this.quiet.track(initialState(state.conversationId), state);
      },
    });
    await this.history.start();
  }

  /**
   * Publishes an accepted HTTP message on support.inbound, like any channel adapter would.
   * A repeat of an idempotency key is the same message (duplicate, once appended); the key
   * repeated for a different message throws IdempotencyConflict and nothing is published.
   */
  async accept(
    message: InboundMessage,
    correlationId: string,
  ): Promise<{ conversationId: string; messageId: string; duplicate: boolean }> {
    const conversationId = conversationIdFor(message.channel, message.externalConversationId);
    const messageId = messageIdFor(message.channel, message.idempotencyKey);
    const claim = await claimFingerprint(this.redis, messageId, messageFingerprint(message));
    if (claim === 'conflict') throw new IdempotencyConflict(message.idempotencyKey);
    // Not yet appended (a retry after a failed publish, or one racing the first): published
    // again, and appended once.
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
      await this.rate(conversationId, rating, eventId, trace, record);
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

  /**
   * Appends CsatRated for a rating of the conversation (once per event id),
   * or throws RatingRejected. The conversation's request may have reached
   * the log a moment before the snapshot: a rejection is checked again for
   * up to DESK_CATCH_UP_MS. `at`: the support.inbound record it comes from, if any.
   */
  async rate(
    conversationId: string,
    rating: Pick<CsatRating, 'requestId' | 'score' | 'comment'>,
    eventId: string,
    trace: { correlationId?: string; causationId?: string } = {},
    at?: RecordAt,
  ): Promise<{ requestId: string; duplicate: boolean }> {
    const decision = await this.withCatchUp(conversationId, (state) =>
      decideRating(state, rating, eventId),
    );
    if (decision.kind === 'reject') throw new RatingRejected(decision.rejection);
    const { event } = decision;
    const key = ratingKey(eventId);
    const [appended] = await this.appending.claim([{ key, at }]);
    if (appended)
      await this.appending.append([key], () =>
        this.bus.publish({
          topic: Topics.events,
          key: conversationId,
          value: event,
          eventId,
          ...trace,
        }),
      );
    this.logger.log(appended ? 'rating appended' : 'duplicate rating dropped', {
      conversationId,
      correlationId: trace.correlationId,
      eventId,
    });
    const requestId = event.payload.case === 'csatRated' ? event.payload.value.requestId : '';
    return { requestId, duplicate: !appended };
  }

  /** A decision on the snapshot, taken again with growing pauses while it is a rejection. */
  private async withCatchUp<D extends { kind: string }>(
    conversationId: string,
    decide: (state: ConversationState) => D,
  ): Promise<D> {
    const budget = this.config.DESK_CATCH_UP_MS;
    let waited = 0;
    let pause = 50;
    for (;;) {
      const decision = decide(await this.store.state(conversationId));
      if (decision.kind !== 'reject' || waited >= budget) return decision;
      const step = Math.min(pause, budget - waited);
      await sleep(step);
      waited += step;
      pause = Math.min(pause * 2, 1_000);
    }
  }

  /**
   * Appends ConversationResolved and the CSAT request; the resolution (AI or
   * human) follows from the conversation's state.
   */
  async resolve(
    conversationId: string,
    resolvedBy: string,
    note: string,
  ): Promise<{ resolution: 'ai' | 'human'; csatRequestId: string }> {
    const state = await this.store.state(conversationId);
    if (state.status === 'new') throw new ConversationNotFound(conversationId);
    if (isResolved(state)) throw new AlreadyResolved(conversationId);
    const closing = resolveNow(state, { resolvedBy, note });
    await this.closer.close(closing);
    return {
      resolution: resolutionFor(state) === Resolution.HUMAN ? 'human' : 'ai',
      csatRequestId: closing.requestId,
    };
  }

  /**
   * The customer says the AI's answer resolved their question: resolved as
   * the AI's (resolved_by "customer"), with the CSAT request; ConfirmRefused
   * when a person has or awaits the conversation, or it is resolved already.
   */
  async confirm(
    conversationId: string,
    correlationId?: string,
  ): Promise<{ resolution: 'ai'; csatRequestId: string }> {
    const state = await this.store.state(conversationId);
    const refusal = confirmRefusal(state);
    if (refusal) throw new ConfirmRefused(refusal);
    const closing = confirmByCustomer(state);
    await this.closer.close(closing, { correlationId });
    return { resolution: 'ai', csatRequestId: closing.requestId };
  }

  async state(conversationId: string) {
    return this.store.state(conversationId);
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
