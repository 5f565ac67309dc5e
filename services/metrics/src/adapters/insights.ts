import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { backgroundFetchWaitMs, Bus, Topics, type Incoming } from '@support/bus';
import type { ConversationEvent, ConversationEventSchema } from '@support/contracts';
import { invalidLogEvent } from '@support/conversation';
import { consumeRestorable } from '@support/stream';
import { REDIS } from '@support/service-kit';
import {
  churnRisk,
  concernsWatch,
  evolveWatch,
  initialWatch,
  recentEnough,
  type ConversationWatch,
} from '../domain/insights.js';
import { AlertPublisher, INSIGHTS_PREFIX, type AlertCause } from './alerts.js';
import { loadInsightSettings } from './insight-settings.js';
import { KnowledgeGaps } from './knowledge-gaps.js';

const WATCH_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Churn risk and knowledge gaps from the conversation log, in a consumer group of their own with
 * their state in Redis (what each conversation's account and sentiment are, handoffs per topic
 * and hour), apart from the read model. Alerts go to insights.alerts with stable ids and are
 * claimed in Redis before they are published, so replicas and redelivered records raise each
 * one once. The log is read from the beginning so the state can be rebuilt, but only events
 * of the last INSIGHT_ALERT_MAX_AGE_HOURS raise alerts.
 */
@Injectable()
export class InsightsService implements OnApplicationBootstrap {
  readonly settings = loadInsightSettings();

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly alerts: AlertPublisher,
    private readonly gaps: KnowledgeGaps,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The state is a copy of the log in Redis: lost, it comes back by itself from the log (libs/stream
    // restorable.ts), with no alert raised again by the restore.
    await consumeRestorable(this.bus, this.redis, {
      group: 'insights',
      topic: Topics.events,
      fromBeginning: true,
      // Alerts a quarter of a second later, for far fewer fetches: knowledge gaps are decided
      // apart from the order records are read in (KnowledgeGaps).
      fetchWaitMs: backgroundFetchWaitMs,
      validate: invalidLogEvent,
      handle: (record) => this.apply(record),
      restore: (event) => this.restore(event),
    });
    this.gaps.start(`${this.bus.service}.insights`);
  }

  private async apply(record: Incoming<typeof ConversationEventSchema>): Promise<void> {
    const event = record.value;
    const at = eventTime(event, record.meta.time);
    const alerting = recentEnough(at, new Date(), this.settings);
    // Most events leave the watch as it is: those need no round trip to Redis.
    const watch = concernsWatch(event) ? await this.keepWatch(event) : undefined;
    const churn = alerting && watch ? churnRisk(watch, event, at, this.settings) : undefined;
    if (churn) await this.alerts.raise('churnRisk', churn, causeOf(record), this.settings);
    await this.gaps.count(event, at, alerting ? record : undefined);
  }

  /** An event's part of the state, and nothing else (a restore after Redis lost the state). */
  private async restore(event: ConversationEvent): Promise<void> {
    if (invalidLogEvent(event)) return;
    if (concernsWatch(event)) await this.keepWatch(event);
    await this.gaps.count(event, eventTime(event));
  }

  /** The conversation's watch (account, sentiment) with the event folded in. */
  private async keepWatch(event: ConversationEvent): Promise<ConversationWatch> {
    const watchKey = `${INSIGHTS_PREFIX}conversation:${event.conversationId}`;
    const stored = await this.redis.get(watchKey);
    const before = stored ? (JSON.parse(stored) as ConversationWatch) : initialWatch;
    const watch = evolveWatch(before, event);
    if (watch !== before)
      await this.redis.set(watchKey, JSON.stringify(watch), 'EX', WATCH_TTL_SECONDS);
    return watch;
  }
}

/** The record an alert is raised on, for the alert's trace. */
function causeOf(record: Incoming<typeof ConversationEventSchema>): AlertCause {
  return {
    conversationId: record.value.conversationId,
    correlationId: record.meta.correlationId,
    causationId: record.value.eventId,
  };
}

/** When the event happened: its own time, else the record's, else now. */
function eventTime(event: ConversationEvent, recordTime?: string): Date {
  return (
    [event.occurredAt, recordTime]
      .map((t) => (t ? new Date(t) : undefined))
      .find((d) => d && !Number.isNaN(d.getTime())) ?? new Date()
  );
}
