import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Bus, Topics, deterministicId } from '@support/bus';
import {
  AssignmentStatus,
  OutboundKind,
  Priority,
  Resolution,
  type ConversationEvent,
} from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { notice as noticeText, teamText } from '@support/notices';
import { JsonLogger, loadConfig, REDIS } from '@support/service-kit';
import {
  customerMessageReceived,
  startServiceRig,
  waitForGroupToCatchUp,
  waitUntil,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema } from '../config';
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

/** Log events as the other services would write them, for one conversation. */
function conversationScript(conversationId: string) {
  const messageId = randomUUID();
  const handoffId = randomUUID();
  return {
    conversationId,
    messageId,
    handoffId,
    received: (): ConversationEvent =>
      customerMessageReceived(conversationId, {
        messageId,
        // Neutral, so that the other services sharing the log have nothing to escalate.
        text: 'Hello, a question about my invoice',
        locale: 'es',
        accountId: 'acct-1',
      }),
    handoff: (requiredSkills: string[], priority = Priority.NORMAL): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'handoffRequested', {
        handoffId,
        messageId,
        triggers: [
          { rule: 'explicit_human_request', detail: 'asked for a person', value: 1, threshold: 1 },
        ],
        priority,
        requiredSkills,
        language: 'es',
        policyVersion: 'itest',
      }),
    /** The agent accepts at their desk (ingest writes this from the desk's action). */
    accepted: (agentId: string): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'agentAccepted', {
        handoffId,
        agentId,
        actionId: randomUUID(),
      }),
    resolved: (): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'conversationResolved', {
        resolution: Resolution.HUMAN,
        resolvedBy: 'agent',
        note: '',
      }),
  };
}

describe('router against Kafka, Redis and PostgreSQL', () => {
  let rig: ServiceRig<INestApplication>;
  let url: string;
  let redis: Redis;
  let roster: Roster;

  const publish = (event: ConversationEvent) => rig.append(event);
  const assignedOn = async (conversationId: string) =>
    (
      await rig.watcher.waitFor(
        Topics.events,
        (s) =>
          s.value.conversationId === conversationId && s.value.payload.case === 'agentAssigned',
      )
    )[0];
  const newConversation = () => conversationScript(randomUUID());

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      ROUTER_API_KEYS: API_KEY,
      ROUTER_SEED_DEMO: 'true',
      // These tests are about skills, capacity and the queue; presence has its own.
      ROUTER_PRESENCE: 'ignored',
    });
    const logger = new JsonLogger('router', 'warn');
    rig = await startServiceRig({
      name: 'router-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => NestFactory.create(AppModule.create(config, logger), { logger }),
      // Not GET /health: the first test checks that it answers 200 once the consumer joined.
      ready: {
        what: 'the router consumer to join its group',
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.events, Topics.handoffAssignments, Topics.outbound],
    });
    url = rig.url;
    redis = rig.app.get<Redis>(REDIS);
    roster = rig.app.get(Roster);
    // Start from an empty queue (see directory-api.int.spec.ts).
    await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
    await redis.del(Keys.queue, Keys.items, Keys.claimed, Keys.acceptDue, Keys.acceptItems);
    await roster.upsert([testAgent]);
  }, 90_000);

  afterAll(async () => {
    await roster?.remove(testAgent.id);
    await redis?.del(Keys.load(testAgent.id));
    await rig?.close();
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

  it('assigns a handoff to the seeded agent with the skill it needs, and tells the customer once the agent accepts', async () => {
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

    const [assignment] = await rig.watcher.waitFor(
      Topics.handoffAssignments,
      (s) => s.value.conversationId === c.conversationId,
    );
    expect(assignment.value).toEqual(
      expect.objectContaining({
        handoffId: c.handoffId,
        agentId: agent.id,
        team: agent.team,
        status: AssignmentStatus.ASSIGNED,
        // The shipped policy gives the agent 60 seconds to accept.
        acceptBy: new Date(Date.parse(assignment.value.assignedAt) + 60_000).toISOString(),
      }),
    );
    expect(assignment.value.assignedAt).toBe(assigned.value.occurredAt);
    // The customer hears who joined only once the agent accepts.
    expect(
      rig.watcher
        .records(Topics.outbound)
        .filter((s) => s.value.conversationId === c.conversationId),
    ).toEqual([]);

    await publish(c.accepted(agent.id));
    const [acceptance] = await rig.watcher.waitFor(
      Topics.handoffAssignments,
      (s) =>
        s.value.conversationId === c.conversationId && s.value.status === AssignmentStatus.ACCEPTED,
    );
    expect(acceptance.value).toEqual(
      expect.objectContaining({ handoffId: c.handoffId, agentId: agent.id, agentName: agent.name }),
    );
    const [notice] = await rig.watcher.waitFor(
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
        // The customer wrote Spanish: the notice is in Spanish.
        text: noticeText('assigned', 'es', { agent: agent.name, team: teamText(agent.team, 'es') }),
      }),
    );
    expect(await redis.sismember(Keys.load(agent.id), c.handoffId)).toBe(1);

    await publish(c.resolved());
    await waitUntil(
      'the agent to be released',
      async () => (await redis.sismember(Keys.load(agent.id), c.handoffId)) === 0,
    );
    const [released] = await rig.watcher.waitFor(
      Topics.handoffAssignments,
      (s) =>
        s.value.conversationId === c.conversationId && s.value.status === AssignmentStatus.RELEASED,
    );
    expect(released.value).toEqual(
      expect.objectContaining({ agentId: agent.id, endedReason: 'resolved' }),
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
    const [queued] = await rig.watcher.waitFor(
      Topics.events,
      (s) =>
        s.value.conversationId === b.conversationId && s.value.payload.case === 'handoffQueued',
    );
    expect(queued.value.payload.value).toEqual(
      expect.objectContaining({ handoffId: b.handoffId, queue: testAgent.skills[0] }),
    );
    const [waitNotice] = await rig.watcher.waitFor(
      Topics.outbound,
      (s) => s.value.conversationId === b.conversationId,
    );
    expect(waitNotice.value.messageId).toBe(deterministicId('outbound-queued', b.handoffId));
    expect(waitNotice.value.text).toMatch(
      /Es el número \d+ en la cola y la espera estimada es de /,
    );
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
    await rig.watcher.waitFor(
      Topics.handoffAssignments,
      (s) => s.value.conversationId === b.conversationId && s.value.agentId === testAgent.id,
    );
    await publish(b.accepted(testAgent.id));
    await rig.watcher.waitFor(
      Topics.outbound,
      (s) => s.value.messageId === deterministicId('outbound-assigned', b.handoffId),
    );
    expect(await redis.smembers(Keys.load(testAgent.id))).toEqual([b.handoffId]);

    // Replaying the resolution (a redelivery) must not assign anything twice.
    await publish(resolution);
    await publish(b.resolved());
    await waitUntil(
      'the test agent to be released',
      async () => (await redis.scard(Keys.load(testAgent.id))) === 0,
    );
    const assignments = rig.watcher
      .records(Topics.events)
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
