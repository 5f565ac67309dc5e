import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { Bus, deterministicId, Topics } from '@support/bus';
import {
  OutboundKind,
  Priority,
  Resolution,
  ReplyKind,
  type AgentAssigned,
  type FollowUpContactAdded,
  type FollowUpCreated,
  type HandoffQueued,
  type OutboundMessage,
} from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { notice, teamText, waitText, whenText } from '@support/notices';
import { JsonLogger, loadConfig, REDIS } from '@support/service-kit';
import {
  customerMessageReceived,
  startServiceRig,
  waitForGroupToCatchUp,
  waitUntil,
  type ServiceRig,
  type WatchedRecord,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, type Config } from '../config';
import { nextOnDuty, onDuty, WEEKDAYS, type WorkingHours } from '../domain/directory';
import { estimateWaitSeconds, qualifiedCapacity } from '../domain/waiting';
import { Roster } from './db/roster';
import { Keys } from './load-store';
import { QueueServer } from './queue-server';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
/** The handling time the estimates assume before any conversation was resolved. */
const DEFAULT_HANDLE_SECONDS = 3600;

/** A routing policy with a single step, so that nothing relaxes while the test waits. */
function writePolicy(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'routing-')), 'routing.yaml');
  writeFileSync(
    file,
    [
      'version: itest-waiting',
      'reviewEverySeconds: 1',
      'updateEverySeconds: 2',
      'steps:',
      '  - { name: specialist, afterSeconds: 0, skills: any }',
    ].join('\n'),
  );
  return file;
}

async function startRouter(name: string, env: Record<string, string>) {
  const config: Config = loadConfig(configSchema, {
    ...process.env,
    ROUTER_API_KEYS: API_KEY,
    ROUTER_SEED_DEMO: 'false',
    ROUTER_PRESENCE: 'ignored',
    ROUTER_DEFAULT_HANDLE_SECONDS: String(DEFAULT_HANDLE_SECONDS),
    ...env,
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
    watch: [Topics.events, Topics.outbound],
  });
  const redis = rig.app.get<Redis>(REDIS);
  // Start from an empty queue (see directory-api.int.spec.ts).
  await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
  await redis.del(Keys.queue, Keys.items, Keys.claimed, Keys.acceptDue, Keys.acceptItems);
  return { rig, redis };
}

/** The admin API of the router under test. */
const adminApi =
  (rig: () => ServiceRig<INestApplication>) =>
  async (method: string, path: string, body?: unknown): Promise<number> => {
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

/** A customer writes, and the decider hands the conversation off (optionally after the AI collected details). */
async function requestHandoff(
  rig: ServiceRig<INestApplication>,
  skill: string,
  language: string,
  details: { name: string; value: string }[] = [],
): Promise<Handoff> {
  const conversationId = randomUUID();
  const handoffId = randomUUID();
  await rig.append(
    customerMessageReceived(conversationId, {
      messageId: 'm1',
      text: 'I need a person',
      locale: language,
    }),
  );
  if (details.length)
    await rig.append(
      conversationEvent(conversationId, randomUUID(), 'aiReplyProposed', {
        messageId: 'm1',
        replyId: 'r1',
        text: 'Which invoice is it about?',
        confidence: 0.4,
        intent: 'billing',
        kind: ReplyKind.INTAKE,
        collectedDetails: details.map((d) => ({ ...d, messageId: 'm1' })),
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

const resolution = (conversationId: string) =>
  conversationEvent(conversationId, randomUUID(), 'conversationResolved', {
    resolution: Resolution.HUMAN,
    resolvedBy: 'agent',
    note: '',
  });

/** The first event of this kind on the log for the conversation. */
async function logEvent<C extends 'agentAssigned' | 'handoffQueued' | 'followUpCreated'>(
  rig: ServiceRig<INestApplication>,
  conversationId: string,
  kind: C,
) {
  const [r] = await rig.watcher.waitFor(
    Topics.events,
    (e) => e.value.conversationId === conversationId && e.value.payload.case === kind,
  );
  if (r.value.payload.case !== kind) throw new Error('unreachable');
  return {
    record: r,
    value: r.value.payload.value as {
      agentAssigned: AgentAssigned;
      handoffQueued: HandoffQueued;
      followUpCreated: FollowUpCreated;
    }[C],
  };
}

/** The customer's notice with this message id. */
async function outbound(
  rig: ServiceRig<INestApplication>,
  messageId: string,
): Promise<OutboundMessage> {
  const [r] = await rig.watcher.waitFor(Topics.outbound, (o) => o.value.messageId === messageId);
  return r.value;
}

const contactAddedOf = (rig: ServiceRig<INestApplication>, conversationId: string) =>
  rig.watcher
    .records(Topics.events)
    .filter(
      (e) =>
        e.value.conversationId === conversationId &&
        e.value.payload.case === 'followUpContactAdded',
    )
    .map((e) => e.value.payload.value as FollowUpContactAdded);

/**
 * Waits until the router has read everything on the log so far (its group's
 * commits reach the end), and until the watcher has read every topic as far:
 * what the router did in reaction is seen, and what it did not do did not happen.
 */
async function settle(rig: ServiceRig<INestApplication>, marker: Handoff): Promise<void> {
  await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
  // Any match will do: the watcher then reads every watched topic up to its current end.
  await rig.watcher.waitFor(Topics.events, (e) => e.value.conversationId === marker.conversationId);
}

describe('while a customer waits: the team, their place in line and the estimated wait', () => {
  const policyFile = writePolicy();
  let rig: ServiceRig<INestApplication>;
  let redis: Redis;
  const api = adminApi(() => rig);
  const team = unique('itest-waiting-team');
  const skill = unique('waiting');
  const agentId = unique('itest-waiting-agent');
  const agentName = 'Wanda Waits';
  let previousAverage: string | null = null;
  const handoffs: Handoff[] = [];
  let first: Handoff;
  let second: Handoff;
  let firstAssignedAt = '';
  let estimate = 0;

  const needs = { requiredSkills: [skill], language: 'de' };
  const updateIds = (h: Handoff) =>
    new Map(
      Array.from({ length: 200 }, (_, i) => [
        deterministicId(`outbound-queue-update-${i + 1}`, h.handoffId),
        i + 1,
      ]),
    );

  beforeAll(async () => {
    ({ rig, redis } = await startRouter('router-waiting-itest', {
      ROUTER_POLICY_FILE: policyFile,
    }));
    // Estimates start from the default handling time; the running average this test measures is put back afterwards.
    previousAverage = await redis.get(Keys.handleAverage);
    await redis.del(Keys.handleAverage);
    expect(await api('PUT', `/v1/teams/${team}`, {})).toBe(200);
    expect(await api('PUT', `/v1/skills/${skill}`, {})).toBe(200);
    expect(
      await api('PUT', `/v1/agents/${agentId}`, {
        name: agentName,
        team,
        skills: [{ name: skill, level: 4 }],
        languages: ['en', 'de'],
        maxConcurrent: 1,
      }),
    ).toBe(200);
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      for (const h of handoffs)
        await rig.append(resolution(h.conversationId)).catch(() => undefined);
      await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name).catch(
        () => undefined,
      );
      if (previousAverage === null) await redis.del(Keys.handleAverage);
      else await redis.set(Keys.handleAverage, previousAverage);
      for (const h of handoffs) {
        await redis.del(Keys.holder(h.handoffId));
        const updates = await redis.keys(`router:update:${h.handoffId}:*`);
        if (updates.length) await redis.del(...updates);
      }
      await redis.del(Keys.load(agentId));
      const roster = rig.app.get(Roster);
      await roster.remove(agentId).catch(() => undefined);
      await roster.removeTeam(team).catch(() => undefined);
      await roster.removeSkill(skill).catch(() => undefined);
    }
    await rig?.close();
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  it('queues the second handoff while the only specialist is busy, and tells the customer in German which team comes, their place and the wait', async () => {
    first = await requestHandoff(rig, skill, 'en');
    handoffs.push(first);
    const assigned = await logEvent(rig, first.conversationId, 'agentAssigned');
    expect(assigned.value.agentId).toBe(agentId);
    firstAssignedAt = assigned.record.value.occurredAt;

    second = await requestHandoff(rig, skill, 'de');
    handoffs.push(second);
    const queued = await logEvent(rig, second.conversationId, 'handoffQueued');
    // Nobody but this test's agent has the skill; the generalists on duty share the load too.
    const capacity = qualifiedCapacity(await rig.app.get(Roster).onDuty(), needs);
    expect(capacity).toBeGreaterThanOrEqual(1);
    estimate = estimateWaitSeconds(1, capacity, DEFAULT_HANDLE_SECONDS);
    expect(queued.value).toEqual(
      expect.objectContaining({
        handoffId: second.handoffId,
        position: 1,
        estimatedWaitSeconds: estimate,
        team,
      }),
    );
    expect(queued.value.estimatedWaitSeconds).toBeGreaterThan(0);

    const told = await outbound(rig, deterministicId('outbound-queued', second.handoffId));
    expect(told).toEqual(
      expect.objectContaining({
        conversationId: second.conversationId,
        kind: OutboundKind.SYSTEM,
        author: 'system',
        inReplyTo: 'm1',
      }),
    );
    expect(told.text).toBe(
      notice('queued', 'de', {
        team: teamText(team, 'de'),
        position: 1,
        wait: waitText(estimate, 'de'),
      }),
    );
    expect(told.text).toContain(`Eine Person aus dem Team ${team} meldet sich bei Ihnen.`);
    expect(told.text).toContain('Sie sind Nummer 1 in der Warteschlange');
    expect(told.text).toContain(`die geschätzte Wartezeit beträgt ${waitText(estimate, 'de')}.`);
    expect(await redis.zrank(Keys.queue, second.handoffId)).toBe(0);
  });

  it('sends the waiting customer an update every interval, in German, each once', async () => {
    const ids = updateIds(second);
    const updates = await rig.watcher.waitFor(
      Topics.outbound,
      (o) => o.value.conversationId === second.conversationId && ids.has(o.value.messageId),
      { count: 2 },
    );
    const expected = notice('update', 'de', { position: 1, wait: waitText(estimate, 'de') });
    for (const u of updates) {
      expect(u.value.text).toBe(expected);
      expect(u.value.text).toMatch(/^Sie sind jetzt Nummer 1; die geschätzte Wartezeit beträgt /);
      expect(u.value.kind).toBe(OutboundKind.SYSTEM);
    }
    const numbers = updates.map((u) => ids.get(u.value.messageId)!);
    expect(new Set(updates.map((u) => u.value.messageId)).size).toBe(updates.length);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(Math.min(...numbers)).toBeGreaterThanOrEqual(1);

    // Two replicas reviewing the queue at the same moment: the update of that interval goes out once.
    const service = rig.app.get(QueueServer);
    const item = JSON.parse((await redis.hget(Keys.items, second.handoffId)) ?? '{}') as {
      requestedAt: string;
    };
    const later = Date.parse(item.requestedAt) + 1000 * 2 * 1000 + 500; // update number 1000
    expect(await service.sendWaitUpdates(later)).toBe(1);
    expect(await service.sendWaitUpdates(later)).toBe(0);
    const id1000 = deterministicId('outbound-queue-update-1000', second.handoffId);
    const [u1000] = await rig.watcher.waitFor(Topics.outbound, (o) => o.value.messageId === id1000);
    expect(u1000.value.text).toBe(expected);
    expect(
      rig.watcher.records(Topics.outbound).filter((o) => o.value.messageId === id1000),
    ).toHaveLength(1);
  });

  it('measures the handling time when the first conversation ends, and gives the waiting one to the agent with a German notice', async () => {
    const resolved = resolution(first.conversationId);
    await rig.append(resolved);
    const assigned = await logEvent(rig, second.conversationId, 'agentAssigned');
    expect(assigned.value).toEqual(
      expect.objectContaining({ handoffId: second.handoffId, agentId, agentName, team }),
    );
    const joined = await outbound(rig, deterministicId('outbound-assigned', second.handoffId));
    expect(joined.conversationId).toBe(second.conversationId);
    expect(joined.text).toBe(
      notice('assigned', 'de', { agent: agentName, team: teamText(team, 'de') }),
    );
    expect(joined.text).toBe(
      `${agentName} aus dem Team ${team} ist dem Gespräch beigetreten und sieht alles Bisherige.`,
    );

    await waitUntil(
      'the average handling time',
      async () => !!(await redis.get(Keys.handleAverage)),
    );
    const average = Number(await redis.get(Keys.handleAverage));
    // The first sample is the average: from the assignment to the resolution, in whole seconds.
    expect(average).toBe(
      Math.round((Date.parse(resolved.occurredAt) - Date.parse(firstAssignedAt)) / 1000),
    );
    expect(average).toBeGreaterThan(0);

    // Nobody waits any more: no further updates.
    expect(await redis.zscore(Keys.queue, second.handoffId)).toBeNull();
    expect(await rig.app.get(QueueServer).sendWaitUpdates(Date.now() + 3_600_000)).toBe(0);
    // No update was sent twice for the same interval.
    const ids = updateIds(second);
    const sent = rig.watcher
      .records(Topics.outbound)
      .filter((o) => ids.has(o.value.messageId))
      .map((o) => o.value.messageId);
    expect(new Set(sent).size).toBe(sent.length);
  });
});

describe('off hours: nobody on duty, a follow-up is promised and an address collected', () => {
  const policyFile = writePolicy();
  // A database of its own, so that the roster holds only this test's agent: nobody else is on duty.
  const databaseUrl = new URL(
    process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support',
  );
  databaseUrl.pathname = `${databaseUrl.pathname}_offhours`;
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const dropDatabase = async () => {
    const pool = new Pool({ connectionString: adminUrl.toString(), max: 1 });
    try {
      const name = decodeURIComponent(databaseUrl.pathname.slice(1)).replace(/"/g, '""');
      await pool.query(`drop database if exists "${name}" with (force)`);
    } finally {
      await pool.end();
    }
  };

  let rig: ServiceRig<INestApplication>;
  let redis: Redis;
  const api = adminApi(() => rig);
  const team = unique('itest-offhours-team');
  const skill = unique('offhours');
  const agentId = unique('itest-offhours-agent');
  const handoffs: Handoff[] = [];
  // Hours only on the weekday three days from now (UTC): whatever the time, now is outside them.
  const now = new Date();
  const today = (now.getUTCDay() + 6) % 7; // 0 = Monday
  const workingHours: WorkingHours = { [WEEKDAYS[(today + 3) % 7]!]: [['00:00', '24:00']] };
  /** Midnight (UTC) starting that day: when the agent is next on duty. */
  const opening = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 3),
  ).toISOString();

  /** The running average the estimates use (nothing this test does changes it). */
  const averageHandle = async () =>
    Number((await redis.get(Keys.handleAverage)) ?? DEFAULT_HANDLE_SECONDS);
  const weekday = (lang: string, at: string) =>
    new Intl.DateTimeFormat(lang, { weekday: 'long', timeZone: 'UTC' }).format(new Date(at));
  const offHoursNotice = (lang: string, dueAt: string, second: string) =>
    `${notice('offHours', lang, {
      team: teamText(team, lang),
      when: whenText(new Date(dueAt), lang),
    })} ${second}`;

  beforeAll(async () => {
    // The second router of this process: the metrics of the first (closed) one are registered already.
    register.clear();
    await dropDatabase();
    ({ rig, redis } = await startRouter('router-offhours-itest', {
      ROUTER_POLICY_FILE: policyFile,
      DATABASE_URL: databaseUrl.toString(),
    }));
    expect(await api('PUT', `/v1/teams/${team}`, {})).toBe(200);
    expect(await api('PUT', `/v1/skills/${skill}`, {})).toBe(200);
    expect(
      await api('PUT', `/v1/agents/${agentId}`, {
        name: 'Otto Offhours',
        team,
        skills: [skill],
        languages: ['en', 'fr'],
        maxConcurrent: 2,
        workingHours,
        timeZone: 'UTC',
      }),
    ).toBe(200);
    const roster = rig.app.get(Roster);
    expect((await roster.active()).map((a) => a.id)).toEqual([agentId]);
    expect(await roster.onDuty()).toEqual([]);
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      for (const h of handoffs)
        await rig.append(resolution(h.conversationId)).catch(() => undefined);
      await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name).catch(
        () => undefined,
      );
      for (const h of handoffs) {
        await redis.zrem(Keys.queue, h.handoffId);
        await redis.hdel(Keys.items, h.handoffId);
        const keys = await redis.keys(`router:update:${h.handoffId}:*`);
        if (keys.length) await redis.del(...keys);
      }
      await redis.del(Keys.load(agentId));
      const roster = rig.app.get(Roster);
      await roster.remove(agentId).catch(() => undefined);
      await roster.removeTeam(team).catch(() => undefined);
      await roster.removeSkill(skill).catch(() => undefined);
    }
    await rig?.close();
    await dropDatabase().catch(() => undefined);
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  it('queues the handoff, promises a follow-up from the next opening, and asks for an address naming the day', async () => {
    expect(onDuty({ workingHours, timeZone: 'UTC' }, new Date())).toBe(false);
    const h = await requestHandoff(rig, skill, 'fr');
    handoffs.push(h);
    const queued = await logEvent(rig, h.conversationId, 'handoffQueued');
    // Off hours the estimate counts the capacity of every active agent who could take it.
    expect(queued.value).toEqual(
      expect.objectContaining({
        handoffId: h.handoffId,
        position: 1,
        estimatedWaitSeconds: estimateWaitSeconds(1, 2, await averageHandle()),
        team,
      }),
    );
    const followUp = await logEvent(rig, h.conversationId, 'followUpCreated');
    expect(followUp.value).toEqual(
      expect.objectContaining({ handoffId: h.handoffId, dueAt: opening, contact: '' }),
    );
    expect(followUp.value.dueAt).toBe(
      nextOnDuty([{ workingHours, timeZone: 'UTC' }], new Date())?.toISOString(),
    );

    const told = await outbound(rig, deterministicId('outbound-queued', h.handoffId));
    expect(told.text).toBe(offHoursNotice('fr', opening, notice('offHoursAskContact', 'fr')));
    expect(told.text).toContain(`Une personne de l'équipe ${team} vous répondra à partir de`);
    expect(told.text).toContain(weekday('fr', opening));
    expect(told.text).toContain('Laissez une adresse e-mail ici');

    // Off hours there is nothing new to tell the waiting customer.
    expect(await rig.app.get(QueueServer).sendWaitUpdates(Date.now() + 60_000)).toBe(0);
  });

  it('records the address the customer then writes and thanks them, once even if another follows', async () => {
    const h = handoffs[0]!;
    // Two messages with an address, one right after the other.
    await rig.append(
      customerMessageReceived(h.conversationId, {
        messageId: 'm2',
        text: 'Vous pouvez m’écrire à ana.lopez@example.com, merci',
        locale: 'fr',
      }),
    );
    await rig.append(
      customerMessageReceived(h.conversationId, {
        messageId: 'm3',
        text: 'ou plutôt à ana@corp.example',
        locale: 'fr',
      }),
    );
    const [added] = await rig.watcher.waitFor(
      Topics.events,
      (e) =>
        e.value.conversationId === h.conversationId &&
        e.value.payload.case === 'followUpContactAdded',
    );
    expect(added.value.payload.value).toEqual(
      expect.objectContaining({
        handoffId: h.handoffId,
        contact: 'ana.lopez@example.com',
        messageId: 'm2',
      }),
    );
    const thanks = await outbound(rig, deterministicId('outbound-follow-up-contact', 'm2'));
    expect(thanks.text).toBe(notice('contactNoted', 'fr', { contact: 'ana.lopez@example.com' }));
    expect(thanks.inReplyTo).toBe('m2');

    // Once the router has read both messages, there is one address and one thank-you.
    await settle(rig, h);
    expect(contactAddedOf(rig, h.conversationId)).toHaveLength(1);
    const contactNotices = (o: WatchedRecord<typeof Topics.outbound.schema>) =>
      o.value.conversationId === h.conversationId &&
      [
        deterministicId('outbound-follow-up-contact', 'm2'),
        deterministicId('outbound-follow-up-contact', 'm3'),
      ].includes(o.value.messageId);
    expect(rig.watcher.records(Topics.outbound).filter(contactNotices)).toHaveLength(1);
  });

  it('says it will also reply to the address the AI already collected, and records it on the follow-up', async () => {
    const h = await requestHandoff(rig, skill, 'en', [
      { name: 'account_email', value: 'x@example.com' },
      { name: 'invoice_or_order_number', value: 'INV-0042' },
    ]);
    handoffs.push(h);
    const queued = await logEvent(rig, h.conversationId, 'handoffQueued');
    // The first customer still waits ahead of this one.
    expect(queued.value).toEqual(
      expect.objectContaining({
        handoffId: h.handoffId,
        position: 2,
        estimatedWaitSeconds: estimateWaitSeconds(2, 2, await averageHandle()),
        team,
      }),
    );
    const followUp = await logEvent(rig, h.conversationId, 'followUpCreated');
    expect(followUp.value).toEqual(
      expect.objectContaining({ handoffId: h.handoffId, dueAt: opening, contact: 'x@example.com' }),
    );
    const told = await outbound(rig, deterministicId('outbound-queued', h.handoffId));
    expect(told.text).toBe(
      offHoursNotice(
        'en',
        opening,
        notice('offHoursContactKnown', 'en', { contact: 'x@example.com' }),
      ),
    );
    expect(told.text).toContain(
      `Someone from the ${team} team will answer from ${weekday('en', opening)}`,
    );
    expect(told.text).toMatch(/We will also reply to x@example\.com\.$/);
    expect(told.text).not.toContain('Leave an e-mail address');

    // The address is known: another one the customer writes is not taken as the follow-up's.
    await rig.append(
      customerMessageReceived(h.conversationId, {
        messageId: 'm2',
        text: 'my other address is x2@example.com',
        locale: 'en',
      }),
    );
    await settle(rig, h);
    expect(contactAddedOf(rig, h.conversationId)).toEqual([]);
  });
});
