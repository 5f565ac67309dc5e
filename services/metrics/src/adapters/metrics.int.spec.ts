import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { inArray } from 'drizzle-orm';
import { Bus, Topics } from '@support/bus';
import { Priority, Resolution, type ConversationEvent } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { JsonLogger, loadConfig } from '@support/service-kit';
import { AppModule } from '../app.module';
import { configSchema } from '../config';
import { conversations, processedEvents } from './db/schema';
import { conversationRow } from './db/store';
import { ReadModelService } from './read-model.service';

jest.setTimeout(60_000);

// A window of time no other test uses, so that the summary over it counts only these conversations.
const base = Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 300 * 24 * 3600) * 1000;
const at = (s: number) => new Date(base + s * 1000).toISOString();
const range = `from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(3600))}`;

/** Events as the other services would write them; neutral text, so that nothing sharing the log escalates it. */
function script(conversationId: string) {
  const id = () => randomUUID();
  const messageId = id();
  const handoffId = id();
  return {
    received: (s: number) =>
      conversationEvent(
        conversationId,
        id(),
        'customerMessageReceived',
        {
          messageId,
          channel: 'web',
          externalConversationId: 'x',
          customerId: 'c',
          text: 'hello',
          locale: 'en',
          pageUrl: '',
          idempotencyKey: id(),
          accountId: '',
          sentAt: '',
        },
        at(s),
      ),
    released: (s: number) =>
      conversationEvent(
        conversationId,
        id(),
        'aiReplyReleased',
        { messageId, replyId: id(), text: 'a', confidence: 0.9, citations: [] },
        at(s),
      ),
    handoff: (s: number) =>
      conversationEvent(
        conversationId,
        id(),
        'handoffRequested',
        {
          handoffId,
          messageId,
          triggers: [],
          priority: Priority.NORMAL,
          requiredSkills: [],
          language: 'en',
          policyVersion: 'v',
        },
        at(s),
      ),
    assigned: (s: number) =>
      conversationEvent(
        conversationId,
        id(),
        'agentAssigned',
        { handoffId, agentId: 'ag', agentName: 'A', team: 'T' },
        at(s),
      ),
    scored: (s: number) =>
      conversationEvent(
        conversationId,
        id(),
        'messageScored',
        { messageId, valence: 0, label: 'neutral', signals: [] },
        at(s),
      ),
    resolved: (resolution: Resolution, s: number) =>
      conversationEvent(
        conversationId,
        id(),
        'conversationResolved',
        { resolution, resolvedBy: 'customer', note: '' },
        at(s),
      ),
  };
}

describe('metrics against Kafka and PostgreSQL', () => {
  let app: INestApplication;
  let url: string;
  let bus: Bus;
  let readModel: ReadModelService;
  const mine: string[] = [];

  const publish = async (...events: ConversationEvent[]) => {
    for (const event of events) {
      await bus.publish({
        topic: Topics.events,
        key: event.conversationId,
        value: event,
        eventId: event.eventId,
      });
    }
  };
  const getJson = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const waitUntil = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    const config = loadConfig(configSchema, process.env);
    const logger = new JsonLogger('metrics', 'warn');
    app = await NestFactory.create(AppModule.create(config, logger), { logger });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    readModel = app.get(ReadModelService);
    const appBus = app.get(Bus);
    await waitUntil(async () => appBus.health().ok, 'the read-model consumer to join its group');
    bus = new Bus({ service: 'metrics-itest', brokers: config.KAFKA_BROKERS, logger });
  }, 90_000);

  afterAll(async () => {
    if (readModel && mine.length)
      await readModel.db.db
        .delete(conversations)
        .where(inArray(conversations.conversationId, mine));
    await bus?.close();
    await app?.close();
  });

  it('answers /health once its consumer joined', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('counts conversations, replies, handoffs and resolutions, and a redelivered event once', async () => {
    const [aiId, humanId] = [randomUUID(), randomUUID()];
    mine.push(aiId, humanId);
    const ai = script(aiId);
    const human = script(humanId);
    const handoff = human.handoff(3);
    const released = ai.released(2);
    await publish(ai.received(1), released, ai.resolved(Resolution.AI, 4));
    // The handoff is delivered twice, as after a producer retry or a consumer rebalance.
    await publish(
      human.received(1),
      handoff,
      handoff,
      human.assigned(5),
      human.resolved(Resolution.HUMAN, 9),
    );

    const summary = async () => (await getJson(`/v1/metrics/summary?${range}`)).body;
    await waitUntil(async () => {
      const s = await summary();
      return Number(s.aiResolutions) + Number(s.humanResolutions) === 2;
    }, 'both resolutions to be counted');
    expect(await summary()).toEqual({
      from: at(0),
      to: at(3600),
      conversations: 2,
      aiReplies: 1,
      aiResolutions: 1,
      humanResolutions: 1,
      handoffs: 1,
      handoffRate: 0.5,
      automationRate: 0.5,
      assigned: 1,
    });
    expect(await conversationRow(readModel.db, humanId)).toEqual(
      expect.objectContaining({
        channel: 'web',
        startedAt: new Date(at(1)),
        handoffs: 1,
        firstHandoffAt: new Date(at(3)),
        assignedAt: expect.any(Date), // the router, sharing the log, may assign first
        status: 'resolved_by_human',
        resolvedAs: 'human',
        resolvedAt: new Date(at(9)),
      }),
    );

    // A late redelivery of the AI reply, then a marker event behind it in the same partition.
    const marker = ai.scored(10);
    await publish(released, marker);
    await waitUntil(async () => {
      const rows = await readModel.db.db
        .select()
        .from(processedEvents)
        .where(inArray(processedEvents.eventId, [marker.eventId]));
      return rows.length === 1;
    }, 'the marker event to be processed');
    expect((await conversationRow(readModel.db, aiId))?.aiReplies).toBe(1);
    expect((await summary()).aiReplies).toBe(1);
  });

  it('rejects an invalid date with a 400 naming the field', async () => {
    const bad = await getJson('/v1/metrics/summary?from=2026-01-01&to=not-a-date');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual(
      expect.objectContaining({
        issues: [expect.objectContaining({ field: 'to', rule: 'timestamp' })],
      }),
    );
    const empty = await getJson('/v1/metrics/summary?from=1990-01-01&to=1990-01-02');
    expect(empty.body).toEqual(
      expect.objectContaining({ conversations: 0, handoffRate: 0, automationRate: 0 }),
    );
  });
});
