import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { Bus, deterministicId, Topics, type Incoming } from '@support/bus';
import {
  create,
  InsightAlertSchema,
  type ConversationEvent,
  type ConversationEventSchema,
} from '@support/contracts';
import { invalidLogEvent } from '@support/conversation';
import { consumeRestorable } from '@support/stream';
import { JsonLogger, loadConfig, REDIS } from '@support/service-kit';
import {
  churnRisk,
  concernsWatch,
  defaultInsightSettings as defaults,
  evolveWatch,
  exampleQuestion,
  gapWindows,
  handoffTopic,
  hourOf,
  initialWatch,
  knowledgeGap,
  recentEnough,
  type ChurnRiskFields,
  type ConversationWatch,
  type InsightDecision,
  type InsightSettings,
  type KnowledgeGapFields,
} from '../domain/insights.js';

const insightsConfigSchema = z.object({
  INSIGHT_CHURN_SENTIMENT: z.coerce.number().min(-1).max(1).default(defaults.churnSentiment),
  INSIGHT_CHURN_CHANGE: z.coerce.number().min(-2).max(0).default(defaults.churnChange),
  INSIGHT_CHURN_CSAT: z.coerce.number().int().min(1).max(5).default(defaults.churnCsat),
  INSIGHT_GAP_WINDOW_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(168)
    .default(defaults.gapWindowHours),
  INSIGHT_GAP_MIN: z.coerce.number().int().min(1).default(defaults.gapMin),
  INSIGHT_GAP_RATIO: z.coerce.number().min(1).default(defaults.gapRatio),
  INSIGHT_ALERT_MAX_AGE_HOURS: z.coerce.number().positive().default(defaults.alertMaxAgeHours),
});

/** The insights' settings from the environment (INSIGHT_*); an invalid one stops the service. */
export function loadInsightSettings(env: NodeJS.ProcessEnv = process.env): InsightSettings {
  const c = loadConfig(insightsConfigSchema, env);
  return {
    churnSentiment: c.INSIGHT_CHURN_SENTIMENT,
    churnChange: c.INSIGHT_CHURN_CHANGE,
    churnCsat: c.INSIGHT_CHURN_CSAT,
    gapWindowHours: c.INSIGHT_GAP_WINDOW_HOURS,
    gapMin: c.INSIGHT_GAP_MIN,
    gapRatio: c.INSIGHT_GAP_RATIO,
    alertMaxAgeHours: c.INSIGHT_ALERT_MAX_AGE_HOURS,
  };
}

/** Every key of the insights starts with this, apart from the read model's state. */
export const INSIGHTS_PREFIX = 'metrics:insights:';
const HOUR = 3600_000;
const WATCH_TTL_SECONDS = 30 * 24 * 3600;
/** How long a claim on an alert holds while it is being published; a crashed claim lapses. */
const CLAIM_SECONDS = 60;

const alertsRaised = new Counter({
  name: 'metrics_insight_alerts_total',
  help: 'Insight alerts published on insights.alerts, by kind',
  labelNames: ['kind'],
});

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
    private readonly logger: JsonLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The state is a copy of the log in Redis: lost, it comes back by itself from the log (libs/stream
    // restorable.ts), with no alert raised again by the restore.
    await consumeRestorable(this.bus, this.redis, {
      group: 'insights',
      topic: Topics.events,
      fromBeginning: true,
      // Fetched as soon as records arrive (no fetchWaitMs): held fetches bring several
      // partitions' records together, handled side by side, and a knowledge gap compares a
      // topic's escalations now with those of the window before as they are counted, so a burst
      // of both may be counted out of order (insights.int.spec.ts appends the window before
      // just ahead of now, and failed with it).
      validate: invalidLogEvent,
      handle: (record) => this.apply(record),
      restore: (event) => this.restore(event),
    });
  }

  private async apply(record: Incoming<typeof ConversationEventSchema>): Promise<void> {
    const event = record.value;
    const at = eventTime(event, record.meta.time);
    const alerting = recentEnough(at, new Date(), this.settings);
    // Most events leave the watch as it is: those need no round trip to Redis.
    const watch = concernsWatch(event) ? await this.keepWatch(event) : undefined;
    const churn = alerting && watch ? churnRisk(watch, event, at, this.settings) : undefined;
    if (churn) await this.raise('churnRisk', churn, record);

    if (event.payload.case === 'handoffRequested') {
      const gap = await this.countHandoff(event, at, alerting);
      if (gap) await this.raise('knowledgeGap', gap, record);
    }
  }

  /** An event's part of the state, and nothing else (a restore after Redis lost the state). */
  private async restore(event: ConversationEvent): Promise<void> {
    if (invalidLogEvent(event)) return;
    if (concernsWatch(event)) await this.keepWatch(event);
    await this.countHandoff(event, eventTime(event), false);
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

  private bucketKey(topic: string, hour: number): string {
    return `${INSIGHTS_PREFIX}gap:${encodeURIComponent(topic)}:${hour}`;
  }

  /**
   * Counts the handoff in its topic's hour (a hash of handoff id to the question, so a
   * redelivered handoff counts once) and, for a recent one, decides on a knowledge gap.
   */
  private async countHandoff(
    event: ConversationEvent,
    at: Date,
    alerting: boolean,
  ): Promise<InsightDecision<KnowledgeGapFields> | undefined> {
    if (event.payload.case !== 'handoffRequested') return undefined;
    const { handoffId, briefing } = event.payload.value;
    const topic = handoffTopic(briefing);
    if (!topic || !handoffId) return undefined;
    const hour = hourOf(at);
    const window = this.settings.gapWindowHours;
    // A bucket matters until it has left the window before the recent one.
    const expiresAt = (hour + 2 * window + 1) * HOUR;
    if (expiresAt <= Date.now()) return undefined;
    const key = this.bucketKey(topic, hour);
    await this.redis
      .multi()
      .hset(key, handoffId, exampleQuestion(briefing))
      .pexpireat(key, expiresAt)
      .exec();
    if (!alerting) return undefined;

    const { recent, previous } = gapWindows(hour, window);
    const counting = this.redis.pipeline();
    for (const h of [...recent, ...previous]) counting.hlen(this.bucketKey(topic, h));
    const lengths = ((await counting.exec()) ?? []).map(([err, n]) => {
      if (err) throw err;
      return Number(n);
    });
    const sum = (from: number, to: number) => lengths.slice(from, to).reduce((a, b) => a + b, 0);
    const counts = { recent: sum(0, window), previous: sum(window, 2 * window), examples: [] };
    const decision = knowledgeGap(topic, counts, hour, at, this.settings);
    if (!decision) return undefined;
    // Examples from the latest hours first: the questions escalating now.
    const examples: string[] = [];
    for (const h of [...recent].reverse()) {
      if (examples.length >= 3) break;
      examples.push(...(await this.redis.hvals(this.bucketKey(topic, h))).filter(Boolean));
    }
    return knowledgeGap(topic, { ...counts, examples }, hour, at, this.settings);
  }

  private async raise(
    kind: 'churnRisk' | 'knowledgeGap',
    decision: InsightDecision<ChurnRiskFields> | InsightDecision<KnowledgeGapFields>,
    cause: Incoming<typeof ConversationEventSchema>,
  ): Promise<void> {
    const doneKey = `${INSIGHTS_PREFIX}alert:${decision.alertId}`;
    // Another replica (or an earlier delivery of this record) raised it, or is raising it now.
    if ((await this.redis.set(doneKey, 'claimed', 'EX', CLAIM_SECONDS, 'NX')) !== 'OK') return;
    const payload =
      kind === 'churnRisk'
        ? { case: 'churnRisk' as const, value: decision.fields as ChurnRiskFields }
        : { case: 'knowledgeGap' as const, value: decision.fields as KnowledgeGapFields };
    try {
      await this.bus.publish({
        topic: Topics.insightAlerts,
        key: decision.key,
        eventId: deterministicId('insight-alert', decision.alertId),
        correlationId: cause.meta.correlationId,
        causationId: cause.value.eventId,
        value: create(InsightAlertSchema, {
          alertId: decision.alertId,
          occurredAt: decision.occurredAt,
          payload,
        }),
      });
    } catch (err) {
      // Not raised: let the redelivery of the record try again.
      await this.redis.del(doneKey).catch(() => undefined);
      throw err;
    }
    // Kept past the day or window the id stands for, and past the age at which alerts stop.
    const keepSeconds = Math.ceil(
      (Math.max(48, 2 * this.settings.gapWindowHours) + this.settings.alertMaxAgeHours) * 3600,
    );
    await this.redis.set(doneKey, 'raised', 'EX', keepSeconds);
    alertsRaised.inc({ kind });
    this.logger.log('insight alert raised', {
      alertId: decision.alertId,
      conversationId: cause.value.conversationId,
      correlationId: cause.meta.correlationId,
    });
  }
}

/** When the event happened: its own time, else the record's, else now. */
function eventTime(event: ConversationEvent, recordTime?: string): Date {
  return (
    [event.occurredAt, recordTime]
      .map((t) => (t ? new Date(t) : undefined))
      .find((d) => d && !Number.isNaN(d.getTime())) ?? new Date()
  );
}
