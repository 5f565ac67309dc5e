import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { Bus, deterministicId, Topics } from '@support/bus';
import { create, InsightAlertSchema } from '@support/contracts';
import { JsonLogger, REDIS } from '@support/service-kit';
import type {
  ChurnRiskFields,
  InsightDecision,
  InsightSettings,
  KnowledgeGapFields,
} from '../domain/insights.js';

/** Every key of the insights starts with this, apart from the read model's state. */
export const INSIGHTS_PREFIX = 'metrics:insights:';
/** How long a claim on an alert holds while it is being published; a crashed claim lapses. */
const CLAIM_SECONDS = 60;

const alertsRaised = new Counter({
  name: 'metrics_insight_alerts_total',
  help: 'Insight alerts published on insights.alerts, by kind',
  labelNames: ['kind'],
});

/** The log record an alert comes from, for its trace. */
export interface AlertCause {
  conversationId: string;
  correlationId: string;
  causationId: string;
}

/**
 * Publishes insight alerts on insights.alerts with stable ids, each claimed in Redis before it is
 * published, so that replicas, redelivered records and repeated checks raise each one once.
 */
@Injectable()
export class AlertPublisher {
  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly logger: JsonLogger,
  ) {}

  async raise(
    kind: 'churnRisk' | 'knowledgeGap',
    decision: InsightDecision<ChurnRiskFields> | InsightDecision<KnowledgeGapFields>,
    cause: AlertCause,
    settings: InsightSettings,
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
        correlationId: cause.correlationId,
        causationId: cause.causationId,
        value: create(InsightAlertSchema, {
          alertId: decision.alertId,
          occurredAt: decision.occurredAt,
          payload,
        }),
      });
    } catch (err) {
      // Not raised: let the redelivery of the record (or the next check) try again.
      await this.redis.del(doneKey).catch(() => undefined);
      throw err;
    }
    // Kept past the day or window the id stands for, and past the age at which alerts stop.
    const keepSeconds = Math.ceil(
      (Math.max(48, 2 * settings.gapWindowHours) + settings.alertMaxAgeHours) * 3600,
    );
    await this.redis.set(doneKey, 'raised', 'EX', keepSeconds);
    alertsRaised.inc({ kind });
    this.logger.log('insight alert raised', {
      alertId: decision.alertId,
      conversationId: cause.conversationId,
      correlationId: cause.correlationId,
    });
  }
}
