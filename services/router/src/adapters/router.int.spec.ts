import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Bus, Topics, deterministicId } from '@support/bus';
import { OutboundKind, type ConversationEvent } from '@support/contracts';
import { JsonLogger, loadConfig, REDIS } from '@support/service-kit';
import { AppModule } from '../app.module';
import { configSchema } from '../config';
import { conversationScript } from '../../test/events';
import { TopicWatch } from '../../test/topic-watch';
import { Roster, readSeed } from './db/roster';
import { Keys } from './load-store';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const testAgent = {
  id: `itest-agent-${randomUUID()}`,
  name: 'Tess Tester',
  team: 'QA',
  skills: [`itest-skill-${randomUUID().slice(0, 8)}`],
  languages: ['es'],
  maxConcurrent: 1,
  active: true,
};

describe('router against Kafka, Redis and PostgreSQL', () => {
  let app: INestApplication;
  let url: string;
  let bus: Bus;
  let watch: TopicWatch;
  let redis: Redis;
  let roster: Roster;
  const mine = new Set<string>();

  const publish = async (event: ConversationEvent, correlationId = randomUUID()) => {
    await bus.publish({
      topic: Topics.events,
      key: event.conversationId,
      value: event,
      eventId: event.eventId,
      correlationId,
    });
    return correlationId;
  };
  const assignedOn = (conversationId: string) =>
    watch.waitFor(
      Topics.events,
      (s) => s.value.conversationId === conversationId && s.value.payload.case === 'agentAssigned',
    );
  const newConversation = () => {
    const script = conversationScript(randomUUID());
    mine.add(script.conversationId);
    return script;
  };
  const waitUntil = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      ROUTER_API_KEYS: API_KEY,
      ROUTER_SEED_DEMO: 'true',
    });
    const logger = new JsonLogger('router', 'warn');
    app = await NestFactory.create(AppModule.create(config, logger), { logger });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    redis = app.get<Redis>(REDIS);
    roster = app.get(Roster);
    await roster.upsert([testAgent]);
    const appBus = app.get(Bus);
    await waitUntil(async () => appBus.health().ok, 'the router consumer to join its group');
    bus = new Bus({ service: 'router-itest', brokers: config.KAFKA_BROKERS, logger });
    watch = new TopicWatch(bus, [Topics.events, Topics.handoffAssignments, Topics.outbound], mine);
    await watch.start();
  }, 90_000);

  afterAll(async () => {
    await roster?.remove(testAgent.id);
    await redis?.del(Keys.load(testAgent.id));
    await watch?.close();
    await bus?.close();
    await app?.close();
  });

  it('answers /health once its consumer joined, and guards /v1/agents', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/v1/agents`)).status).toBe(401);
    const res = await fetch(`${url}/v1/agents`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { agents: { id: string; load: number }[]; queued: number };
    const seeded = (await readSeed()).map((a) => a.id);
    expect(body.agents.map((a) => a.id)).toEqual(expect.arrayContaining([...seeded, testAgent.id]));
    expect(typeof body.queued).toBe('number');
  });

  it('assigns a handoff to the seeded agent with the skill it needs and tells the customer', async () => {
    // The broker and Redis are shared with other tests, whose handoffs may hold some agents:
    // pick a seeded agent with room and a skill no other agent has, so the expected choice is certain.
    const seeded = await readSeed();
    const candidates = await Promise.all(
      seeded.map(async (agent) => ({
        agent,
        free: agent.maxConcurrent - (await redis.scard(Keys.load(agent.id))),
        skill: agent.skills.find((s) => seeded.every((o) => o === agent || !o.skills.includes(s))),
      })),
    );
    const pick = candidates.filter((c) => c.free > 0 && c.skill).sort((x, y) => y.free - x.free)[0];
    if (!pick)
      throw new Error('precondition: every seeded agent is at capacity with other conversations');
    const agent = pick.agent;

    const c = newConversation();
    await publish(c.received());
    const handoff = c.handoff([pick.skill!]);
    const correlationId = await publish(handoff);

    const assigned = await assignedOn(c.conversationId);
    expect(assigned.value.eventId).toBe(deterministicId('assigned', c.handoffId));
    expect(assigned.value.payload.value).toEqual(
      expect.objectContaining({
        handoffId: c.handoffId,
        agentId: agent.id,
        agentName: agent.name,
        team: agent.team,
      }),
    );
    expect(assigned.meta).toEqual(
      expect.objectContaining({ correlationId, causationId: handoff.eventId, producer: 'router' }),
    );

    const assignment = await watch.waitFor(
      Topics.handoffAssignments,
      (s) => s.value.conversationId === c.conversationId,
    );
    expect(assignment.value).toEqual(
      expect.objectContaining({ handoffId: c.handoffId, agentId: agent.id, team: agent.team }),
    );

    const notice = await watch.waitFor(
      Topics.outbound,
      (s) => s.value.conversationId === c.conversationId,
    );
    expect(notice.value).toEqual(
      expect.objectContaining({
        messageId: deterministicId('outbound-assigned', c.handoffId),
        kind: OutboundKind.SYSTEM,
        author: 'system',
        channel: 'web',
        externalConversationId: `ext-${c.conversationId}`,
        customerId: `cust-${c.conversationId}`,
        text: `${agent.name} from the ${agent.team} team has joined the conversation and can see everything so far.`,
      }),
    );
    expect(await redis.sismember(Keys.load(agent.id), c.handoffId)).toBe(1);

    await publish(c.resolved());
    await waitUntil(
      async () => (await redis.sismember(Keys.load(agent.id), c.handoffId)) === 0,
      'the agent to be released',
    );
  });

  it('queues a handoff when its agents are at capacity and assigns it when one is released', async () => {
    const a = newConversation();
    const b = newConversation();
    await publish(a.received());
    await publish(a.handoff(testAgent.skills));
    const first = await assignedOn(a.conversationId);
    expect(first.value.payload.value).toEqual(expect.objectContaining({ agentId: testAgent.id }));

    await publish(b.received());
    await publish(b.handoff(testAgent.skills));
    const queued = await watch.waitFor(
      Topics.events,
      (s) =>
        s.value.conversationId === b.conversationId && s.value.payload.case === 'handoffQueued',
    );
    expect(queued.value.payload.value).toEqual(
      expect.objectContaining({ handoffId: b.handoffId, queue: testAgent.skills[0] }),
    );
    const waitNotice = await watch.waitFor(
      Topics.outbound,
      (s) => s.value.conversationId === b.conversationId,
    );
    expect(waitNotice.value.messageId).toBe(deterministicId('outbound-queued', b.handoffId));
    expect(waitNotice.value.text).toMatch(/All our agents are busy right now/);
    expect(await redis.scard(Keys.load(testAgent.id))).toBe(1);

    const resolution = a.resolved();
    await publish(resolution);
    const second = await assignedOn(b.conversationId);
    expect(second.value.payload.value).toEqual(
      expect.objectContaining({
        handoffId: b.handoffId,
        agentId: testAgent.id,
        agentName: testAgent.name,
      }),
    );
    expect(second.meta.causationId).toBe(resolution.eventId);
    await watch.waitFor(
      Topics.handoffAssignments,
      (s) => s.value.conversationId === b.conversationId && s.value.agentId === testAgent.id,
    );
    await watch.waitFor(
      Topics.outbound,
      (s) => s.value.messageId === deterministicId('outbound-assigned', b.handoffId),
    );
    expect(await redis.smembers(Keys.load(testAgent.id))).toEqual([b.handoffId]);

    // Replaying the resolution (a redelivery) must not assign anything twice.
    await publish(resolution);
    await publish(b.resolved());
    await waitUntil(
      async () => (await redis.scard(Keys.load(testAgent.id))) === 0,
      'the test agent to be released',
    );
    const assignments = watch
      .all(Topics.events)
      .filter(
        (s) =>
          s.value.payload.case === 'agentAssigned' &&
          [a.conversationId, b.conversationId].includes(s.value.conversationId),
      );
    expect(assignments.map((s) => s.value.conversationId).sort()).toEqual(
      [a.conversationId, b.conversationId].sort(),
    );
  });
});
