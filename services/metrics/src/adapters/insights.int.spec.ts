import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Bus, Topics } from '@support/bus';
import { Speaker, type ConversationEvent } from '@support/contracts';
import { conversationEvent, type PayloadInitOf } from '@support/conversation';
import {
  createServiceApp,
  JsonLogger,
  loadConfig,
  REDIS,
  ServiceKitModule,
} from '@support/service-kit';
import {
  startServiceRig,
  waitForGroupToCatchUp,
  waitUntil,
  type ServiceRig,
  type WatchedRecord,
} from '@support/testing';
import { configSchema, SERVICE } from '../config';
import { AlertPublisher, INSIGHTS_PREFIX } from './alerts';
import { InsightsService } from './insights';
import { KnowledgeGaps } from './knowledge-gaps';

jest.setTimeout(90_000);
// Knowledge gaps checked often, so that the test need not wait for the default 5 s.
process.env.INSIGHT_GAP_CHECK_MS = '300';

/** The insights alone, on the service's kit: apart from the read model, as they run in the service. */
@Module({})
class InsightsOnly {
  static create(): DynamicModule {
    const config = loadConfig(configSchema, { ...process.env, LOG_LEVEL: 'error' });
    const logger = new JsonLogger(SERVICE, 'error');
    return {
      module: InsightsOnly,
      imports: [ServiceKitModule.forRoot({ service: SERVICE, config, logger, apiKeys: [] })],
      providers: [InsightsService, AlertPublisher, KnowledgeGaps],
    };
  }
}

const run = randomUUID().slice(0, 8);
const GROUP = `${SERVICE}.insights`;

describe('insights: churn risk and knowledge gaps from the log (Kafka, Redis)', () => {
  let rig: ServiceRig<INestApplication>;
  const published: ConversationEvent[] = [];

  const append = async (...events: ConversationEvent[]) => {
    for (const e of events) {
      await rig.append(e);
      published.push(e);
    }
  };
  let n = 0;
  const event = <K extends Parameters<typeof conversationEvent>[2]>(
    conversationId: string,
    kind: K,
    value: PayloadInitOf<K>,
    occurredAt = new Date(Date.now() - 60_000).toISOString(),
  ) => conversationEvent(conversationId, `itest-${run}-${n++}`, kind, value, occurredAt);

  const alerts = () =>
    rig.watcher.records(Topics.insightAlerts).filter((r) => r.value.alertId.includes(run));
  /** Waits until the insights have read everything on the log, then for the alerts on the topic. */
  const settled = async (
    predicate: (r: WatchedRecord<typeof Topics.insightAlerts.schema>) => boolean,
  ) => {
    await waitForGroupToCatchUp(rig.bus.kafka, GROUP, Topics.events.name);
    return rig.watcher.waitFor(Topics.insightAlerts, predicate);
  };
  /** Waits until the insights have read everything on the log and checked the topic for a knowledge gap. */
  const checked = async (topic: string) => {
    await waitForGroupToCatchUp(rig.bus.kafka, GROUP, Topics.events.name);
    const redis = rig.app.get<Redis>(REDIS);
    await waitUntil(
      `the knowledge gap check of ${topic}`,
      async () => !(await redis.hexists(`${INSIGHTS_PREFIX}gap-pending`, topic)),
      { timeoutMs: 20_000 },
    );
  };
  /** A handoff of `topic` in a conversation of its own (or `conversationId`'s), at `occurredAt`. */
  const handoff = (
    topic: string,
    question: string,
    occurredAt: number,
    conversationId: string = randomUUID(),
  ) =>
    event(
      conversationId,
      'handoffRequested',
      {
        handoffId: randomUUID(),
        messageId: randomUUID(),
        briefing: {
          topic,
          transcript: [
            { speaker: Speaker.CUSTOMER, text: 'Hello' },
            { speaker: Speaker.CUSTOMER, text: question },
            { speaker: Speaker.AI, text: 'Let me get someone.' },
          ],
        },
      },
      new Date(occurredAt).toISOString(),
    );
  const gaps = (topic: string) =>
    alerts().filter(
      (r) => r.value.payload.case === 'knowledgeGap' && r.value.payload.value.topic === topic,
    );

  beforeAll(async () => {
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'metrics-insights-itest',
      brokers: loadConfig(configSchema).KAFKA_BROKERS,
      createApp: () => createServiceApp(InsightsOnly.create(), logger),
      ready: { what: 'the insights consumer to join', check: (app) => app.get(Bus).health().ok },
      watch: [Topics.insightAlerts],
    });
    await waitForGroupToCatchUp(rig.bus.kafka, GROUP, Topics.events.name);
  }, 120_000);

  afterAll(async () => {
    if (rig) {
      const redis = rig.app.get<Redis>(REDIS);
      const keys = await redis.keys(`${INSIGHTS_PREFIX}*${run}*`);
      if (keys.length) await redis.del(...keys);
    }
    await rig?.close();
  });

  it('raises churn risk once per account and day, with its reasons, and not again on redelivery', async () => {
    const accountId = `acct-${run}`;
    const account = {
      accountId,
      name: 'Acme',
      tier: 'enterprise',
      monthlyValue: 4000,
      currency: 'EUR',
      vip: false,
      atRisk: true,
      owner: 'Maria Rossi',
    };
    // Given a conversation of an account at risk whose sentiment falls
    const first = randomUUID();
    const scored = (conversationId: string, smoothed: number, start: number) =>
      event(conversationId, 'messageScored', {
        messageId: randomUUID(),
        valence: smoothed,
        label: smoothed < 0 ? 'negative' : 'neutral',
        signals: [],
        trajectory: { smoothed, start, change: smoothed - start, shift: true, messages: 2 },
      });
    const released = (conversationId: string) =>
      event(conversationId, 'aiReplyReleased', {
        messageId: randomUUID(),
        replyId: randomUUID(),
        text: 'Here is how',
        confidence: 0.8,
        citations: [],
        context: { account, accountLookup: 'found' },
      });
    await append(scored(first, 0.2, 0.2), released(first), scored(first, -0.7, 0.2));

    // Then a churn risk reaches insights.alerts, keyed by the account
    const [alert] = await rig.watcher.waitFor(
      Topics.insightAlerts,
      (r) => r.value.payload.case === 'churnRisk' && r.value.payload.value.accountId === accountId,
    );
    const today = new Date(Date.now() - 60_000).toISOString().slice(0, 10);
    expect(alert.key).toBe(accountId);
    expect(alert.value.alertId).toBe(`churn:${accountId}:${today}`);
    expect(alert.value.payload.value).toMatchObject({
      accountId,
      accountName: 'Acme',
      tier: 'enterprise',
      monthlyValue: 4000,
      currency: 'EUR',
      owner: 'Maria Rossi',
      conversationId: first,
      reasons: [
        'flagged at risk in the CRM',
        'enterprise account',
        'sentiment fell from 0.2 to -0.7',
      ],
      sentiment: -0.7,
    });

    // When another conversation of the account turns bad the same day, and the first one's
    // records are delivered again
    const second = randomUUID();
    await append(released(second), scored(second, -0.8, 0));
    for (const e of published.filter((p) => p.conversationId === first)) await rig.append(e);

    // Then there is still one alert for the account
    await settled((r) => r.value.alertId === alert.value.alertId);
    expect(alerts().filter((r) => r.value.payload.case === 'churnRisk')).toHaveLength(1);
  });

  it('raises a knowledge gap when a topic escalates more than before, once per window', async () => {
    const topic = `itest-topic-${run}`;
    const now = Date.now() - 60_000;
    // Given 4 escalations of the topic in the window before (30 hours ago: counted, too old to alert)
    for (let i = 0; i < 4; i++)
      await append(handoff(topic, `Old question ${i}`, now - 30 * 3600_000));
    // and 5 now: not 1.5 times as many
    for (let i = 1; i <= 5; i++) await append(handoff(topic, `Why was I charged ${i} times?`, now));
    await checked(topic);
    expect(gaps(topic)).toEqual([]);

    // And Redis loses the counts, with the mark that says the insights' copy of the log is whole
    const redis = rig.app.get<Redis>(REDIS);
    const lost = [
      ...(await redis.keys(`${INSIGHTS_PREFIX}gap:${topic}:*`)),
      ...(await redis.keys('restorable:*:insights')),
    ];
    expect(lost.length).toBeGreaterThanOrEqual(3);
    await redis.del(...lost);

    // When a sixth comes in (the counts come back from the log first)
    await append(handoff(topic, 'Why was I charged 6 times?', now));
    const [gap] = await rig.watcher.waitFor(
      Topics.insightAlerts,
      (r) => r.value.payload.case === 'knowledgeGap' && r.value.payload.value.topic === topic,
    );
    // Then the gap is raised with the counts and the latest questions
    expect(gap.key).toBe(topic);
    expect(gap.value.alertId).toMatch(new RegExp(`^gap:${topic}:\\d{4}-\\d\\d-\\d\\dT\\d\\d:24h$`));
    expect(gap.value.payload.value).toMatchObject({
      topic,
      escalations: 6,
      previousEscalations: 4,
      windowHours: 24,
    });
    const examples =
      gap.value.payload.case === 'knowledgeGap' ? gap.value.payload.value.examples : [];
    expect(examples).toHaveLength(3);
    for (const e of examples) expect(e).toMatch(/^Why was I charged \d times\?$/);

    // and neither a seventh escalation in the window nor every handoff delivered again raises it twice
    await append(handoff(topic, 'Why was I charged 7 times?', now));
    for (const e of published.filter((p) => p.payload.case === 'handoffRequested'))
      await rig.append(e);
    await settled((r) => r.value.alertId === gap.value.alertId);
    expect(alerts().filter((r) => r.value.payload.case === 'knowledgeGap')).toHaveLength(1);
  });

  it('decides a knowledge gap on the window before as the log holds it, however its partitions are read', async () => {
    const topic = `itest-order-${run}`;
    const now = Date.now() - 60_000;
    // Given a conversation whose partition has a long backlog, and behind it 5 escalations of the
    // topic from the window before (30 hours ago)
    const slow = randomUUID();
    const backlog = Array.from({ length: 1500 }, (_, i) =>
      event(slow, 'messageScored', {
        messageId: randomUUID(),
        valence: 0,
        label: 'neutral',
        signals: [],
        trajectory: { smoothed: 0, start: 0, change: 0, shift: false, messages: i + 1 },
      }),
    );
    await rig.bus.publish(
      ...backlog.map((e) => ({
        topic: Topics.events,
        key: e.conversationId,
        value: e,
        eventId: e.eventId,
      })),
    );
    for (let i = 0; i < 5; i++)
      await append(handoff(topic, `Old question ${i}`, now - 30 * 3600_000, slow));
    // When 7 escalate now, in conversations on other partitions (read while the backlog is)
    for (let i = 1; i <= 7; i++) await append(handoff(topic, `Where is parcel ${i}?`, now));
    // Then no gap: 7 is not 1.5 times 5, though the 7 were read before the 5
    await checked(topic);
    expect(gaps(topic)).toEqual([]);
  });
});
