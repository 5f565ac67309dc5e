import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, Topics } from '@support/bus';
import { Resolution, type InboundMessage } from '@support/contracts';
import { initialState, isResolved } from '@support/conversation';
import { REDIS } from '@support/service-kit';
import { consumeConversationLog, isDone, SnapshotStore } from '@support/stream';
import {
  confirmByCustomer,
  confirmRefusal,
  resolveNow,
  type ConfirmRefusal,
} from '../domain/closing.js';
import {
  conversationIdFor,
  messageFingerprint,
  messageIdFor,
  resolutionFor,
} from '../domain/ids.js';
import { Closer } from './closer.js';
import { claimFingerprint, IdempotencyConflict } from './fingerprints.js';
import { messageKey } from './inbound-appender.js';
import { OutboundHistory } from './outbound-history.js';
import { QuietWindow } from './quiet-window.js';
import { Ratings } from './ratings.js';

export class ConversationNotFound extends Error {}
export class AlreadyResolved extends Error {}
/** The customer may not resolve the conversation as answered (see confirmRefusal). */
export class ConfirmRefused extends Error {
  constructor(readonly refusal: ConfirmRefusal) {
    super(refusal.message);
  }
}

/** The conversations as channels and customers act on them: messages accepted, resolved, confirmed, rated. */
@Injectable()
export class IngestService implements OnApplicationBootstrap {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly history: OutboundHistory,
    private readonly store: SnapshotStore,
    private readonly closer: Closer,
    private readonly quiet: QuietWindow,
    private readonly ratings: Ratings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
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

  /** Appends CsatRated for a rating of the conversation, once per event id (Ratings.rate). */
  rate(...args: Parameters<Ratings['rate']>): ReturnType<Ratings['rate']> {
    return this.ratings.rate(...args);
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
