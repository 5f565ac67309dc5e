import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Bus, Topics } from '@support/bus';
import { toJson, OutboundMessageSchema, type OutboundMessage } from '@support/contracts';
import { CONFIG, REDIS } from '@support/service-kit';
import { consumeRestorable } from '@support/stream';
import type { Config } from '../config.js';

export type OutboundJson = Record<string, unknown> & { messageId: string };

/**
 * How long a conversation's history stays in Redis after its latest outbound message: as long
 * as support.outbound keeps its records, which is all a restore could bring back. The whole
 * conversation stays in the log (GET /v1/conversations/:id).
 */
export const OUTBOUND_HISTORY_TTL_S = Math.round(Topics.outbound.retentionMs / 1000);

/**
 * Keeps each conversation's recent outbound messages in Redis (a durable
 * consumer group, so nothing is missed while no web client is connected; a quiet conversation's
 * expire with the topic's retention, OUTBOUND_HISTORY_TTL_S) and
 * fans them out over Redis pub/sub to whichever ingest replica holds the
 * customer's SSE connection.
 */
@Injectable()
export class OutboundHistory implements OnApplicationShutdown {
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<(m: OutboundJson) => void>>();

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async start(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('message', (channel: string, payload: string) => {
      const conversationId = channel.slice('outbound:'.length);
      const message = JSON.parse(payload) as OutboundJson;
      for (const listener of this.listeners.get(conversationId) ?? []) listener(message);
    });
    // The history is a copy of support.outbound in Redis: lost, it comes back by itself from the
    // topic (libs/stream restorable.ts), without announcements.
    await consumeRestorable(this.bus, this.redis, {
      group: 'outbound-history',
      topic: Topics.outbound,
      restore: async (value) => void (await this.keep(value)),
      handle: async ({ value }) => {
        const json = await this.keep(value);
        if (json)
          await this.redis.publish(`outbound:${value.conversationId}`, JSON.stringify(json));
      },
    });
  }

  /** Adds a message to its conversation's history once (a redelivery is not added again); null for a repeat. */
  private async keep(value: OutboundMessage): Promise<OutboundJson | null> {
    const json = toJson(OutboundMessageSchema, value) as OutboundJson;
    const seen = `outbound:seen:${value.conversationId}`;
    const fresh = await this.redis.hsetnx(seen, value.messageId, '1');
    if (!fresh) return null;
    const key = `outbound:history:${value.conversationId}`;
    await this.redis
      .multi()
      .rpush(key, JSON.stringify(json))
      .ltrim(key, -this.config.OUTBOUND_HISTORY, -1)
      .expire(key, OUTBOUND_HISTORY_TTL_S)
      .expire(seen, OUTBOUND_HISTORY_TTL_S)
      .exec();
    return json;
  }

  async history(conversationId: string): Promise<OutboundJson[]> {
    const items = await this.redis.lrange(`outbound:history:${conversationId}`, 0, -1);
    return items.map((i) => JSON.parse(i) as OutboundJson);
  }

  async subscribe(
    conversationId: string,
    listener: (m: OutboundJson) => void,
  ): Promise<() => Promise<void>> {
    let set = this.listeners.get(conversationId);
    if (!set) {
      set = new Set();
      this.listeners.set(conversationId, set);
      await this.subscriber!.subscribe(`outbound:${conversationId}`);
    }
    set.add(listener);
    return async () => {
      set!.delete(listener);
      if (set!.size === 0) {
        this.listeners.delete(conversationId);
        await this.subscriber!.unsubscribe(`outbound:${conversationId}`).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
  }

  /** The subscriber connection is this class's own: it goes with the application. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
