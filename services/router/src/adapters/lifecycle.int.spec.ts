import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { register } from 'prom-client';
import { Bus, deterministicId, Topics } from '@support/bus';
import {
  AssignmentStatus,
  OutboundKind,
  Priority,
  Resolution,
  type AgentAssigned,
  type AgentAssignment,
} from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { notice, teamText } from '@support/notices';
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
import type { HandoffTarget } from '../domain/handoff';
import { Roster } from './db/roster';
import { Keys, LoadStore } from './load-store';
import { attemptId } from './publisher';
import { QueueServer } from './queue-server';

jest.setTimeout(90_000);

const API_KEY = `itest-${randomUUID()}`;
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

type Rig = ServiceRig<INestApplication>;

/** A routing policy with one step (nobody relaxes in), reviewed every second. */
function writePolicy(version: string, acceptWithinSeconds: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'routing-')), 'routing.yaml');
  writeFileSync(
    file,
    [
      `version: ${version}`,
      'reviewEverySeconds: 1',
      'updateEverySeconds: 2',
      `acceptWithinSeconds: ${acceptWithinSeconds}`,
      'steps:',
      '  - { name: specialist, afterSeconds: 0, skills: any }',
    ].join('\n'),
  );
  return file;
}

async function startRouter(name: string, policyFile: string): Promise<{ rig: Rig; redis: Redis }> {
  // A second router in this process: the metrics of the first (closed) one are registered already.
  register.clear();
  const config = loadConfig(configSchema, {
    ...process.env,
    ROUTER_API_KEYS: API_KEY,
    ROUTER_SEED_DEMO: 'false',
    ROUTER_PRESENCE: 'ignored',
    ROUTER_POLICY_FILE: policyFile,
  });
  const logger = new JsonLogger('router', 'warn');
  const rig = await startServiceRig({
    name,
    brokers: config.KAFKA_BROKERS,
    logger,
    createApp: () => NestFactory.create(AppModule.create(config, logger), { logger }),
    ready: {
      what: 'the router consumer to join its group',
      check: (app) => app.get(Bus).health().ok,
    },
    watch: [Topics.events, Topics.handoffAssignments, Topics.outbound],
  });
  const redis = rig.app.get<Redis>(REDIS);
  // Start from an empty queue and no deadlines (see directory-api.int.spec.ts).
  await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
  await redis.del(Keys.queue, Keys.items, Keys.claimed, Keys.acceptDue, Keys.acceptItems);
  return { rig, redis };
}

const adminApi = (rig: () => Rig) => async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${rig().url}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.text();
  return res.status;
};

interface Handoff {
  conversationId: string;
  handoffId: string;
}

/** A customer writes, and the decider hands the conversation off. */
async function requestHandoff(rig: Rig, skill: string, language: string): Promise<Handoff> {
  const conversationId = randomUUID();
  const handoffId = randomUUID();
  await rig.append(
    customerMessageReceived(conversationId, {
      messageId: 'm1',
      text: 'I need a person',
      locale: language,
    }),
  );
  await rig.append(
    conversationEvent(conversationId, randomUUID(), 'handoffRequested', {
      handoffId,
      messageId: 'm1',
      triggers: [{ rule: 'explicit_human_request', detail: 'asked', value: 1, threshold: 1 }],
      priority: Priority.NORMAL,
      requiredSkills: [skill],
      language,
      policyVersion: 'itest',
    }),
  );
  return { conversationId, handoffId };
}

/** What an agent's desk does, as ingest writes it to the log. */
const desk = (h: Handoff) => ({
  accepted: (agentId: string) =>
    conversationEvent(h.conversationId, randomUUID(), 'agentAccepted', {
      handoffId: h.handoffId,
      agentId,
      actionId: randomUUID(),
    }),
  declined: (agentId: string) =>
    conversationEvent(h.conversationId, randomUUID(), 'agentDeclined', {
      handoffId: h.handoffId,
      agentId,
      reason: 'in a call',
      actionId: randomUUID(),
    }),
  handedBack: (agentId: string, agentName: string) =>
    conversationEvent(h.conversationId, randomUUID(), 'handedBack', {
      handoffId: h.handoffId,
      agentId,
      agentName,
      note: 'refund issued',
    }),
  resolved: () =>
    conversationEvent(h.conversationId, randomUUID(), 'conversationResolved', {
      resolution: Resolution.HUMAN,
      resolvedBy: 'agent',
      note: '',
    }),
});

/** The n-th (1-based) AgentAssigned of the handoff on the log, with its record. */
async function nthAssignment(rig: Rig, h: Handoff, n: number) {
  const records = await rig.watcher.waitFor(
    Topics.events,
    (e) =>
      e.value.payload.case === 'agentAssigned' && e.value.payload.value.handoffId === h.handoffId,
    { count: n },
  );
  const record = records[n - 1]!;
  return { record, value: record.value.payload.value as AgentAssigned };
}

const assignmentsOf = (rig: Rig, h: Handoff) =>
  rig.watcher
    .records(Topics.events)
    .filter(
      (e) =>
        e.value.payload.case === 'agentAssigned' && e.value.payload.value.handoffId === h.handoffId,
    )
    .map((e) => e.value.payload.value as AgentAssigned);

/** The assignment record desks read for the handoff, the agent and the status. */
async function deskRecord(
  rig: Rig,
  h: Handoff,
  agentId: string,
  status: AssignmentStatus,
): Promise<AgentAssignment> {
  const [r] = await rig.watcher.waitFor(
    Topics.handoffAssignments,
    (a) =>
      a.value.handoffId === h.handoffId && a.value.agentId === agentId && a.value.status === status,
  );
  return r.value;
}

const outboundOf = (rig: Rig, h: Handoff) =>
  rig.watcher.records(Topics.outbound).filter((o) => o.value.conversationId === h.conversationId);

/** Until the router has read the whole log so far, and the watcher every watched topic as far. */
async function settle(rig: Rig, h: Handoff): Promise<void> {
  await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
  await rig.watcher.waitFor(Topics.events, (e) => e.value.conversationId === h.conversationId);
}

describe('an assignment until the agent accepts, declines or hands back (30 s to accept)', () => {
  const policyFile = writePolicy('itest-lifecycle', 30);
  let rig: Rig;
  let redis: Redis;
  const api = adminApi(() => rig);
  const team = unique('itest-lifecycle-team');
  const skill = unique('desk');
  const rare = unique('rare');
  const ada = { id: unique('itest-ada'), name: 'Ada Lovelace' };
  const ben = { id: unique('itest-ben'), name: 'Ben Okafor' };
  const cy = { id: unique('itest-cy'), name: 'Cy Laurent' };
  const handoffs: Handoff[] = [];
  const loads = () => rig.app.get(LoadStore);

  beforeAll(async () => {
    ({ rig, redis } = await startRouter('router-lifecycle-itest', policyFile));
    expect(await api('PUT', `/v1/teams/${team}`, {})).toBe(200);
    // Skills are known names: declared before an agent may have them.
    for (const name of [skill, rare]) expect(await api('PUT', `/v1/skills/${name}`, {})).toBe(200);
    // For the same skill Ada ranks first (English, level 5), then Ben (English, level 4), then Cy (French only).
    const agents: [typeof ada, unknown[], string[], number][] = [
      [ada, [{ name: skill, level: 5 }, rare], ['en'], 1],
      [ben, [{ name: skill, level: 4 }], ['en', 'de'], 2],
      [cy, [{ name: skill, level: 2 }], ['fr'], 1],
    ];
    for (const [a, skills, languages, maxConcurrent] of agents)
      expect(
        await api('PUT', `/v1/agents/${a.id}`, {
          name: a.name,
          team,
          skills,
          languages,
          maxConcurrent,
        }),
      ).toBe(200);
  }, 120_000);

  afterAll(async () => {
    if (rig) {
      for (const h of handoffs) await rig.append(desk(h).resolved()).catch(() => undefined);
      await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name).catch(
        () => undefined,
      );
      const roster = rig.app.get(Roster);
      for (const a of [ada, ben, cy]) {
        await redis.del(Keys.load(a.id));
        await roster.remove(a.id).catch(() => undefined);
      }
      await roster.removeTeam(team).catch(() => undefined);
      for (const name of [skill, rare]) await roster.removeSkill(name).catch(() => undefined);
    }
    await rig?.close();
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  it('routes a declined handoff to the next best agent each time, never back to one who declined, then queues it with the customer still hearing updates', async () => {
    const h = await requestHandoff(rig, skill, 'en');
    handoffs.push(h);

    const first = await nthAssignment(rig, h, 1);
    expect(first.value.agentId).toBe(ada.id);
    expect(first.record.value.eventId).toBe(deterministicId('assigned', h.handoffId));
    const assigned = await deskRecord(rig, h, ada.id, AssignmentStatus.ASSIGNED);
    expect(assigned).toEqual(
      expect.objectContaining({
        agentName: ada.name,
        team,
        assignedAt: first.record.value.occurredAt,
        acceptBy: new Date(Date.parse(first.record.value.occurredAt) + 30_000).toISOString(),
      }),
    );
    await waitUntil('the deadline to be kept', async () =>
      Boolean(await loads().pendingAcceptance(h.handoffId, ada.id)),
    );
    // Nobody has accepted: the customer has not been told anyone joined.
    expect(outboundOf(rig, h)).toEqual([]);

    await rig.append(desk(h).declined(ada.id));
    const released = await deskRecord(rig, h, ada.id, AssignmentStatus.RELEASED);
    expect(released.endedReason).toBe('declined');
    const second = await nthAssignment(rig, h, 2);
    expect(second.value.agentId).toBe(ben.id);
    expect(second.record.value.eventId).toBe(attemptId('assigned', h.handoffId, 1));
    expect(await redis.sismember(Keys.load(ada.id), h.handoffId)).toBe(0);
    expect(await loads().pendingAcceptance(h.handoffId, ada.id)).toBeUndefined();
    expect(await redis.smembers(Keys.load(ben.id))).toEqual([h.handoffId]);

    await rig.append(desk(h).declined(ben.id));
    const third = await nthAssignment(rig, h, 3);
    // Ada is free and speaks English, but she declined: Cy, who does not, gets it.
    expect(third.value.agentId).toBe(cy.id);
    expect(third.value.reason).toContain('does not speak en');

    await rig.append(desk(h).declined(cy.id));
    const [queued] = await rig.watcher.waitFor(
      Topics.events,
      (e) =>
        e.value.conversationId === h.conversationId && e.value.payload.case === 'handoffQueued',
    );
    expect(queued.value.eventId).toBe(attemptId('queued', h.handoffId, 3));
    const [told] = await rig.watcher.waitFor(
      Topics.outbound,
      (o) => o.value.messageId === attemptId('outbound-queued', h.handoffId, 3),
    );
    expect(told.value.kind).toBe(OutboundKind.SYSTEM);
    const item = JSON.parse((await redis.hget(Keys.items, h.handoffId)) ?? '{}') as HandoffTarget;
    expect(item.passedBy).toEqual([ada.id, ben.id, cy.id]);

    // The queue is reviewed every second and the customer updated every two: an update proves a
    // review ran while Ada was free, and the handoff still waits for someone who did not decline.
    const updates = new Set(
      Array.from({ length: 100 }, (_, i) =>
        deterministicId(`outbound-queue-update-${i + 1}`, h.handoffId),
      ),
    );
    await rig.watcher.waitFor(Topics.outbound, (o) => updates.has(o.value.messageId));
    await rig.app.get(QueueServer).serveQueue({ correlationId: '', causationId: '' });
    await settle(rig, h);
    expect(assignmentsOf(rig, h).map((a) => a.agentId)).toEqual([ada.id, ben.id, cy.id]);
    expect(await redis.zscore(Keys.queue, h.handoffId)).not.toBeNull();
    for (const a of [ada, ben, cy]) expect(await redis.scard(Keys.load(a.id))).toBe(0);
    const releases = rig.watcher
      .records(Topics.handoffAssignments)
      .filter(
        (r) => r.value.handoffId === h.handoffId && r.value.status === AssignmentStatus.RELEASED,
      );
    expect(releases.map((r) => [r.value.agentId, r.value.endedReason])).toEqual([
      [ada.id, 'declined'],
      [ben.id, 'declined'],
      [cy.id, 'declined'],
    ]);
  });

  it('tells the customer who joined once the agent accepts, and drops the deadline', async () => {
    // German: Ben speaks it.
    const h = await requestHandoff(rig, skill, 'de');
    handoffs.push(h);
    const first = await nthAssignment(rig, h, 1);
    expect(first.value.agentId).toBe(ben.id);
    await deskRecord(rig, h, ben.id, AssignmentStatus.ASSIGNED);
    await waitUntil('the deadline to be kept', async () =>
      Boolean(await loads().pendingAcceptance(h.handoffId, ben.id)),
    );
    expect(outboundOf(rig, h)).toEqual([]);

    await rig.append(desk(h).accepted(ben.id));
    const accepted = await deskRecord(rig, h, ben.id, AssignmentStatus.ACCEPTED);
    expect(accepted).toEqual(
      expect.objectContaining({ agentName: ben.name, team, conversationId: h.conversationId }),
    );
    const [joined] = await rig.watcher.waitFor(
      Topics.outbound,
      (o) => o.value.messageId === deterministicId('outbound-assigned', h.handoffId),
    );
    expect(joined.value).toEqual(
      expect.objectContaining({
        conversationId: h.conversationId,
        kind: OutboundKind.SYSTEM,
        text: notice('assigned', 'de', { agent: ben.name, team: teamText(team, 'de') }),
      }),
    );
    await waitUntil(
      'the deadline to be dropped',
      async () => (await loads().pendingAcceptance(h.handoffId, ben.id)) === undefined,
    );
    expect(await redis.zscore(Keys.acceptDue, `${h.handoffId} ${ben.id}`)).toBeNull();

    // Long after the deadline, nothing times out: the agent keeps the conversation.
    expect(await rig.app.get(QueueServer).expireAcceptances(Date.now() + 3_600_000)).toBe(0);
    await settle(rig, h);
    expect(
      rig.watcher
        .records(Topics.events)
        .filter(
          (e) =>
            e.value.conversationId === h.conversationId &&
            e.value.payload.case === 'acceptTimedOut',
        ),
    ).toEqual([]);
    expect(await redis.sismember(Keys.load(ben.id), h.handoffId)).toBe(1);
    // One notice of who joined.
    expect(outboundOf(rig, h).map((o) => o.value.messageId)).toEqual([joined.value.messageId]);
  });

  it('frees the slot of an agent who hands back, so that a queued conversation is served, and tells the customer', async () => {
    // Only Ada has the rare skill: the first conversation takes her only slot, the second waits.
    const held = await requestHandoff(rig, rare, 'en');
    handoffs.push(held);
    expect((await nthAssignment(rig, held, 1)).value.agentId).toBe(ada.id);
    await rig.append(desk(held).accepted(ada.id));
    await deskRecord(rig, held, ada.id, AssignmentStatus.ACCEPTED);
    const waiting = await requestHandoff(rig, rare, 'fr');
    handoffs.push(waiting);
    await rig.watcher.waitFor(
      Topics.events,
      (e) =>
        e.value.conversationId === waiting.conversationId &&
        e.value.payload.case === 'handoffQueued',
    );

    await rig.append(desk(held).handedBack(ada.id, ada.name));
    const released = await deskRecord(rig, held, ada.id, AssignmentStatus.RELEASED);
    expect(released.endedReason).toBe('handed_back');
    const [told] = await rig.watcher.waitFor(
      Topics.outbound,
      (o) => o.value.messageId === deterministicId('outbound-handed-back', held.handoffId),
    );
    expect(told.value).toEqual(
      expect.objectContaining({
        conversationId: held.conversationId,
        kind: OutboundKind.SYSTEM,
        text: notice('handedBack', 'en', { agent: ada.name }),
      }),
    );
    const served = await nthAssignment(rig, waiting, 1);
    expect(served.value.agentId).toBe(ada.id);
    await waitUntil(
      'Ada to hold only the waiting conversation',
      async () => (await redis.smembers(Keys.load(ada.id))).join() === waiting.handoffId,
    );
  });

  it('lets an agent go at once when their assignment reaches the log after the conversation was handed back or resolved', async () => {
    // A conversation handed back (the previous test's), and one resolved now.
    const handedBack = handoffs[2]!;
    const resolved = handoffs[1]!;
    await rig.append(desk(resolved).resolved());
    await deskRecord(rig, resolved, ben.id, AssignmentStatus.RELEASED);

    // Another replica's assignments, taken in Redis and published late.
    for (const h of [handedBack, resolved]) {
      expect(await loads().assign(h.handoffId, cy.id, 1)).toBe(cy.id);
      await rig.append(
        conversationEvent(h.conversationId, randomUUID(), 'agentAssigned', {
          handoffId: h.handoffId,
          agentId: cy.id,
          agentName: cy.name,
          team,
        }),
      );
      const released = await deskRecord(rig, h, cy.id, AssignmentStatus.RELEASED);
      expect(released.endedReason).toBe(h === handedBack ? 'handed_back' : 'resolved');
      await waitUntil(
        'Cy to be let go',
        async () => (await redis.sismember(Keys.load(cy.id), h.handoffId)) === 0,
      );
      expect(await redis.get(Keys.holder(h.handoffId))).toBeNull();
      expect(await loads().pendingAcceptance(h.handoffId, cy.id)).toBeUndefined();
    }
  });
});

describe('an assignment nobody accepts in time (1 s to accept)', () => {
  const policyFile = writePolicy('itest-timeout', 1);
  let rig: Rig;
  let redis: Redis;
  const api = adminApi(() => rig);
  const team = unique('itest-timeout-team');
  const skill = unique('slow');
  const dan = { id: unique('itest-dan'), name: 'Dan Idle' };
  const eve = { id: unique('itest-eve'), name: 'Eve Away' };
  const handoffs: Handoff[] = [];

  beforeAll(async () => {
    ({ rig, redis } = await startRouter('router-timeout-itest', policyFile));
    expect(await api('PUT', `/v1/teams/${team}`, {})).toBe(200);
    expect(await api('PUT', `/v1/skills/${skill}`, {})).toBe(200);
    for (const [a, level] of [
      [dan, 5],
      [eve, 3],
    ] as const)
      expect(
        await api('PUT', `/v1/agents/${a.id}`, {
          name: a.name,
          team,
          skills: [{ name: skill, level }],
          languages: ['en'],
          maxConcurrent: 1,
        }),
      ).toBe(200);
  }, 120_000);

  afterAll(async () => {
    if (rig) {
      for (const h of handoffs) await rig.append(desk(h).resolved()).catch(() => undefined);
      await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name).catch(
        () => undefined,
      );
      const roster = rig.app.get(Roster);
      for (const a of [dan, eve]) {
        await redis.del(Keys.load(a.id));
        await roster.remove(a.id).catch(() => undefined);
      }
      await roster.removeTeam(team).catch(() => undefined);
      await roster.removeSkill(skill).catch(() => undefined);
    }
    await rig?.close();
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  const timeoutsOf = (h: Handoff) =>
    rig.watcher
      .records(Topics.events)
      .filter(
        (e) =>
          e.value.conversationId === h.conversationId && e.value.payload.case === 'acceptTimedOut',
      );

  it('times the assignment out once, routes the handoff to the next agent, and queues it when nobody else is left', async () => {
    const h = await requestHandoff(rig, skill, 'en');
    handoffs.push(h);
    const first = await nthAssignment(rig, h, 1);
    expect(first.value.agentId).toBe(dan.id);

    const [timeout] = await rig.watcher.waitFor(
      Topics.events,
      (e) =>
        e.value.conversationId === h.conversationId && e.value.payload.case === 'acceptTimedOut',
    );
    expect(timeout.value.eventId).toBe(deterministicId('accept-timed-out', h.handoffId, dan.id));
    expect(timeout.value.payload.value).toEqual(
      expect.objectContaining({ handoffId: h.handoffId, agentId: dan.id }),
    );
    if (timeout.value.payload.case !== 'acceptTimedOut') throw new Error('unreachable');
    expect(timeout.value.payload.value.waitedSeconds).toBeGreaterThanOrEqual(1);
    expect(timeout.meta).toEqual(
      expect.objectContaining({ producer: 'router', causationId: first.record.value.eventId }),
    );
    expect((await deskRecord(rig, h, dan.id, AssignmentStatus.RELEASED)).endedReason).toBe(
      'timeout',
    );

    const second = await nthAssignment(rig, h, 2);
    expect(second.value.agentId).toBe(eve.id);
    const [queued] = await rig.watcher.waitFor(
      Topics.events,
      (e) =>
        e.value.conversationId === h.conversationId && e.value.payload.case === 'handoffQueued',
    );
    expect(queued.value.eventId).toBe(attemptId('queued', h.handoffId, 2));
    const item = JSON.parse((await redis.hget(Keys.items, h.handoffId)) ?? '{}') as HandoffTarget;
    expect(item.passedBy).toEqual([dan.id, eve.id]);

    await settle(rig, h);
    // One timeout per agent, however many reviews ran; nobody was offered it twice.
    expect(
      timeoutsOf(h).map((t) => (t.value.payload.value as { agentId: string }).agentId),
    ).toEqual([dan.id, eve.id]);
    expect(assignmentsOf(rig, h).map((a) => a.agentId)).toEqual([dan.id, eve.id]);
    for (const a of [dan, eve]) expect(await redis.scard(Keys.load(a.id))).toBe(0);
    // Nobody accepted: the customer heard no one joined.
    const sent = outboundOf(rig, h).map((o) => o.value.messageId);
    expect(sent).not.toContain(deterministicId('outbound-assigned', h.handoffId));
    expect(sent).not.toContain(attemptId('outbound-assigned', h.handoffId, 1));
    expect(sent).toContain(attemptId('outbound-queued', h.handoffId, 2));
  });

  it('publishes one timeout when two replicas review the same overdue assignment at once', async () => {
    const h = await requestHandoff(rig, skill, 'en');
    handoffs.push(h);
    const first = await nthAssignment(rig, h, 1);
    expect(first.value.agentId).toBe(dan.id);
    const service = rig.app.get(QueueServer);
    const later = Date.now() + 3_600_000;
    const published = await Promise.all([
      service.expireAcceptances(later),
      service.expireAcceptances(later),
    ]);
    // The router's own review may have been first; either way, never twice.
    expect(published[0]! + published[1]!).toBeLessThanOrEqual(1);
    expect((await nthAssignment(rig, h, 2)).value.agentId).toBe(eve.id);
    await settle(rig, h);
    expect(
      timeoutsOf(h).filter(
        (t) => (t.value.payload.value as { agentId: string }).agentId === dan.id,
      ),
    ).toHaveLength(1);
  });
});
