import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, fetchTopicEnds, Topics, type Incoming } from '@support/bus';
import type { ConversationEvent, ConversationEventSchema } from '@support/contracts';
import { JsonLogger, REDIS } from '@support/service-kit';
import { groupPositions } from '@support/stream';
import {
  exampleQuestion,
  gapWindows,
  handoffTopic,
  hourOf,
  knowledgeGap,
  reachedMark,
  writtenBefore,
  type InsightDecision,
  type InsightSettings,
  type KnowledgeGapFields,
  type LogMark,
  type PendingGap,
} from '../domain/insights.js';
import { AlertPublisher, INSIGHTS_PREFIX } from './alerts.js';
import { loadInsightSettings } from './insight-settings.js';

const HOUR = 3600_000;
/** Per topic, its latest recent escalation not yet checked (JSON PendingGap). */
const PENDING_KEY = `${INSIGHTS_PREFIX}gap-pending`;
/** Held by the replica checking this round: one check at a time however many replicas run. */
const CHECK_LOCK_KEY = `${INSIGHTS_PREFIX}gap-check`;
/** Deletes a pending escalation only if it is still the one that was checked (a newer one stays). */
const DELETE_IF_SAME = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`;

/**
 * Knowledge gaps: a topic that escalates clearly more than in the window before. Each handoff
 * counts in its topic's hour in Redis (a hash of handoff id to the question, so a redelivered one
 * counts once); a recent one is noted as pending, and a check every INSIGHT_GAP_CHECK_MS decides
 * once the group has counted everything written before it (domain/insights.ts, "When to decide
 * on a knowledge gap"), so that the result does not depend on the order partitions are read in.
 */
@Injectable()
export class KnowledgeGaps implements OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  /** The round under way, if any. */
  private round?: Promise<void>;
  /** The log's ends at this replica's last check: what the group must reach before the next decides. */
  private mark?: LogMark;
  readonly settings: InsightSettings = loadInsightSettings();

  constructor(
    private readonly bus: Bus,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly alerts: AlertPublisher,
    private readonly logger: JsonLogger,
  ) {}

  /** Starts checking for the consumer group `groupId` (the insights'), one round at a time. */
  start(groupId: string): void {
    this.timer = setInterval(() => {
      if (this.round) return;
      this.round = this.check(groupId)
        .catch((err: Error) =>
          this.logger.warn('knowledge gap check failed; trying again', { error: err.message }),
        )
        .finally(() => (this.round = undefined));
    }, this.settings.gapCheckMs);
    this.timer.unref();
  }

  /** Stops checking, once the round under way (if any) has ended, or after 10 s (a broker gone). */
  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    let waited: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => (waited = setTimeout(resolve, 10_000)));
    await Promise.race([this.round, giveUp]);
    clearTimeout(waited);
  }

  /**
   * Counts a handoff in its topic's hour and, for a recent one (`record` given), notes it as
   * pending for the check. Old ones (a replay, a restore) are only counted.
   */
  async count(
    event: ConversationEvent,
    at: Date,
    record?: Incoming<typeof ConversationEventSchema>,
  ): Promise<void> {
    if (event.payload.case !== 'handoffRequested') return;
    const { handoffId, briefing } = event.payload.value;
    const topic = handoffTopic(briefing);
    if (!topic || !handoffId) return;
    const hour = hourOf(at);
    // A bucket matters until it has left the window before the recent one.
    const expiresAt = (hour + 2 * this.settings.gapWindowHours + 1) * HOUR;
    if (expiresAt <= Date.now()) return;
    const key = this.bucketKey(topic, hour);
    const writes = this.redis
      .multi()
      .hset(key, handoffId, exampleQuestion(briefing))
      .pexpireat(key, expiresAt);
    if (record) {
      const pending: PendingGap = {
        topic,
        hour,
        at: at.toISOString(),
        partition: record.partition,
        offset: record.offset,
        conversationId: event.conversationId,
        correlationId: record.meta.correlationId,
        causationId: event.eventId,
      };
      writes.hset(PENDING_KEY, topic, JSON.stringify(pending));
    }
    await writes.exec();
  }

  /**
   * One round: once the group has committed the ends of the last mark, decides on the pending
   * escalations written before it, and takes the next mark.
   */
  private async check(groupId: string): Promise<void> {
    const lockMs = Math.max(50, this.settings.gapCheckMs - 50);
    if ((await this.redis.set(CHECK_LOCK_KEY, '1', 'PX', lockMs, 'NX')) !== 'OK') return;
    const reached = await this.nextMark(groupId);
    if (reached) await this.decidePending(reached);
  }

  /**
   * The mark the group has now passed (undefined while it has not, or before the first), with the
   * next one taken in its place. The admin client is connected for the round only: kafkajs's
   * request queue polls every millisecond while a connection stays open.
   */
  private async nextMark(groupId: string): Promise<LogMark | undefined> {
    const admin = this.bus.kafka.admin();
    await admin.connect();
    try {
      if (this.mark && !reachedMark(this.mark, await groupPositions(this.bus, groupId)))
        return undefined;
      const reached = this.mark;
      this.mark = { ends: await fetchTopicEnds(admin, Topics.events.name) };
      return reached;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async decidePending(mark: LogMark): Promise<void> {
    const pending = await this.redis.hgetall(PENDING_KEY);
    for (const [topic, stored] of Object.entries(pending)) {
      const gap = JSON.parse(stored) as PendingGap;
      if (!writtenBefore(gap, mark)) continue;
      const decision = await this.decide(gap);
      if (decision) await this.alerts.raise('knowledgeGap', decision, gap, this.settings);
      await this.redis.eval(DELETE_IF_SAME, 1, PENDING_KEY, topic, stored);
    }
  }

  private bucketKey(topic: string, hour: number): string {
    return `${INSIGHTS_PREFIX}gap:${encodeURIComponent(topic)}:${hour}`;
  }

  /** The knowledge gap a topic's escalations make, as of its pending escalation's hour. */
  private async decide(gap: PendingGap): Promise<InsightDecision<KnowledgeGapFields> | undefined> {
    const { topic, hour } = gap;
    const at = new Date(gap.at);
    const window = this.settings.gapWindowHours;
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
}
