import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Bus, Topics } from '@support/bus';
import { Priority, Resolution, type ConversationEvent } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
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
import { onDuty, WEEKDAYS, type WorkingHours } from '../domain/directory';
import { Roster } from './db/roster';
import { Keys } from './load-store';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

interface FieldIssue {
  field: string;
  rule: string;
  message: string;
}
interface AgentView {
  id: string;
  name: string;
  team: string;
  email: string;
  skills: { name: string; level: number }[];
  languages: string[];
  maxConcurrent: number;
  active: boolean;
  workingHours: WorkingHours | null;
  timeZone: string;
  load: number;
  available: number;
}

/** A conversation as the other services would write it to the log. */
function conversationScript() {
  const conversationId = randomUUID();
  const messageId = randomUUID();
  const handoffId = randomUUID();
  return {
    conversationId,
    handoffId,
    received: (): ConversationEvent =>
      customerMessageReceived(conversationId, {
        messageId,
        text: 'Hello, a question about my invoice',
        locale: 'en',
        accountId: 'acct-1',
      }),
    handoff: (requiredSkills: string[]): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'handoffRequested', {
        handoffId,
        messageId,
        triggers: [
          { rule: 'explicit_human_request', detail: 'asked for a person', value: 1, threshold: 1 },
        ],
        priority: Priority.NORMAL,
        requiredSkills,
        language: 'en',
        policyVersion: 'itest',
      }),
    resolved: (): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'conversationResolved', {
        resolution: Resolution.HUMAN,
        resolvedBy: 'agent',
        note: '',
      }),
  };
}
type Conversation = ReturnType<typeof conversationScript>;

describe('the agents directory admin API against PostgreSQL, Redis and Kafka', () => {
  let rig: ServiceRig<INestApplication>;
  let redis: Redis;
  let roster: Roster;
  const agentsToRemove = new Set<string>();
  const teamsToRemove = new Set<string>();
  const conversationsToResolve: Conversation[] = [];

  async function api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    key: string | null = API_KEY,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  /** The agent as the API shows it; fields added later (e.g. presence) are not this test's concern. */
  const view = (expected: AgentView) => expect.objectContaining(expected) as AgentView;
  const issuesOf = (res: { body: unknown }) =>
    (res.body as { error: string; issues: FieldIssue[] }).issues;

  async function createTeam(): Promise<string> {
    const team = unique('itest-team');
    teamsToRemove.add(team);
    expect(
      (await api('PUT', `/v1/teams/${team}`, { description: 'integration test' })).status,
    ).toBe(200);
    return team;
  }

  async function putAgent(id: string, body: Record<string, unknown>) {
    agentsToRemove.add(id);
    return api<AgentView>('PUT', `/v1/agents/${id}`, body);
  }

  /** Starts a conversation and asks for a person with these skills. */
  async function requestHandoff(skills: string[]): Promise<Conversation> {
    const c = conversationScript();
    conversationsToResolve.push(c);
    await rig.append(c.received());
    await rig.append(c.handoff(skills));
    return c;
  }

  /** The router's first decision on the conversation's handoff: assigned (to whom) or queued. */
  async function firstDecision(conversationId: string) {
    const [record] = await rig.watcher.waitFor(
      Topics.events,
      (s) =>
        s.value.conversationId === conversationId &&
        (s.value.payload.case === 'agentAssigned' || s.value.payload.case === 'handoffQueued'),
    );
    const { payload } = record.value;
    return payload.case === 'agentAssigned'
      ? { case: 'agentAssigned' as const, agentId: payload.value.agentId }
      : { case: payload.case };
  }

  const assignedTo = async (conversationId: string) => {
    const [record] = await rig.watcher.waitFor(
      Topics.events,
      (s) => s.value.conversationId === conversationId && s.value.payload.case === 'agentAssigned',
    );
    return record.value.payload.case === 'agentAssigned' ? record.value.payload.value : undefined;
  };

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      ROUTER_API_KEYS: API_KEY,
      ROUTER_SEED_DEMO: 'false',
      // Nobody's desk reports presence here: on duty is enough to take a handoff.
      ROUTER_PRESENCE: 'ignored',
    });
    const logger = new JsonLogger('router', 'warn');
    rig = await startServiceRig({
      name: 'router-directory-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => NestFactory.create(AppModule.create(config, logger), { logger }),
      ready: {
        what: 'the router consumer to join its group',
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.events, Topics.handoffAssignments],
    });
    redis = rig.app.get<Redis>(REDIS);
    roster = rig.app.get(Roster);
    // Start from an empty queue: handoffs that earlier suites left on the shared log would
    // otherwise reach this test's agents through the router's any-agent fallback.
    await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
    await redis.del(Keys.queue, Keys.items, Keys.claimed, Keys.acceptDue, Keys.acceptItems);
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      for (const c of conversationsToResolve) await rig.append(c.resolved()).catch(() => undefined);
      // Whoever took them (also an agent outside this test, by the fallback) is released.
      const handoffs = conversationsToResolve.map((c) => c.handoffId);
      await waitUntil('the test handoffs to be released', async () => {
        for (const h of handoffs) {
          if ((await redis.exists(Keys.holder(h))) || (await redis.zscore(Keys.queue, h)) !== null)
            return false;
        }
        return true;
      }).catch((err: Error) => console.warn(err.message));
      for (const id of agentsToRemove) {
        await roster.remove(id).catch(() => undefined);
        await redis.del(Keys.load(id)).catch(() => undefined);
      }
      for (const team of teamsToRemove) await roster.removeTeam(team).catch(() => undefined);
    }
    await rig?.close();
  });

  it('answers 401 without a valid API key', async () => {
    const id = unique('itest-agent');
    expect((await api('GET', '/v1/agents', undefined, null)).status).toBe(401);
    expect((await api('GET', '/v1/agents', undefined, 'wrong-key')).status).toBe(401);
    expect((await api('GET', '/v1/teams', undefined, null)).status).toBe(401);
    expect((await api('PUT', `/v1/teams/${unique('itest-team')}`, {}, null)).status).toBe(401);
    expect(
      (
        await api(
          'PUT',
          `/v1/agents/${id}`,
          { name: 'X', team: 'Support', languages: ['en'], maxConcurrent: 1 },
          null,
        )
      ).status,
    ).toBe(401);
    expect((await api('DELETE', `/v1/agents/${id}`, undefined, null)).status).toBe(401);
    expect(await roster.get(id)).toBeUndefined();
  });

  it('creates, reads, patches and deletes an agent in a team that must exist first', async () => {
    const id = unique('itest-agent');
    const team = unique('itest-team');
    teamsToRemove.add(team);
    const skill = unique('skill');
    const body = {
      name: 'Dana Directory',
      team,
      email: 'dana@example.com',
      skills: ['general', { name: skill, level: 5 }, { name: 'Billing', level: 1 }],
      languages: ['en', 'de-AT'],
      maxConcurrent: 2,
      workingHours: { mon: [['09:00', '17:00']], sat: [] },
      timeZone: 'Europe/Berlin',
    };

    // The team does not exist yet: a mistake to report, and nothing is stored.
    const unknownTeam = await putAgent(id, body);
    expect(unknownTeam.status).toBe(400);
    expect(unknownTeam.body).toEqual({
      error: 'validation_failed',
      issues: [expect.objectContaining({ field: 'team', rule: 'unknown_team' })],
    });
    expect((await api('GET', `/v1/agents/${id}`)).status).toBe(404);

    const createdTeam = await api('PUT', `/v1/teams/${team}`, { description: 'Directory tests' });
    expect(createdTeam).toEqual({
      status: 200,
      body: { name: team, description: 'Directory tests' },
    });

    const created = await putAgent(id, body);
    expect(created.status).toBe(200);
    const expected: AgentView = {
      id,
      name: 'Dana Directory',
      team,
      email: 'dana@example.com',
      skills: [
        { name: 'general', level: 3 },
        { name: skill, level: 5 },
        { name: 'billing', level: 1 },
      ],
      languages: ['en', 'de-AT'],
      maxConcurrent: 2,
      active: true,
      workingHours: { mon: [['09:00', '17:00']], sat: [] },
      timeZone: 'Europe/Berlin',
      load: 0,
      available: 2,
    };
    expect(created.body).toEqual(view(expected));
    expect(await api('GET', `/v1/agents/${id}`)).toEqual({ status: 200, body: view(expected) });
    const list = await api<{ agents: AgentView[]; queued: number }>('GET', '/v1/agents');
    expect(list.status).toBe(200);
    expect(list.body.agents.find((a) => a.id === id)).toEqual(view(expected));
    expect(typeof list.body.queued).toBe('number');

    // Only what the patch names changes.
    const patched = await api<AgentView>('PATCH', `/v1/agents/${id}`, { maxConcurrent: 5 });
    expect(patched).toEqual({
      status: 200,
      body: view({ ...expected, maxConcurrent: 5, available: 5 }),
    });
    expect(await api('GET', `/v1/agents/${id}`)).toEqual({
      status: 200,
      body: view({ ...expected, maxConcurrent: 5, available: 5 }),
    });
    const inactive = await api<AgentView>('PATCH', `/v1/agents/${id}`, { active: false });
    expect(inactive.body).toEqual(
      expect.objectContaining({ active: false, maxConcurrent: 5, available: 0 }),
    );
    expect(
      (await api('PATCH', `/v1/agents/${unique('itest-nobody')}`, { active: true })).status,
    ).toBe(404);

    // Replacing the agent (PUT again) drops what the new body leaves out.
    const replaced = await putAgent(id, {
      name: 'Dana Directory',
      team,
      languages: ['fr'],
      maxConcurrent: 1,
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual(
      view({
        ...expected,
        email: '',
        skills: [],
        languages: ['fr'],
        maxConcurrent: 1,
        available: 1,
        workingHours: null,
        timeZone: 'UTC',
      }),
    );

    const teams = await api<{ teams: { name: string; description: string; agents: number }[] }>(
      'GET',
      '/v1/teams',
    );
    expect(teams.status).toBe(200);
    expect(teams.body.teams.find((t) => t.name === team)).toEqual(
      expect.objectContaining({ name: team, description: 'Directory tests', agents: 1 }),
    );

    // A team with agents stays; an agent who holds a conversation stays.
    expect((await api('DELETE', `/v1/teams/${team}`)).status).toBe(409);
    const heldHandoff = randomUUID();
    await redis.sadd(Keys.load(id), heldHandoff);
    try {
      expect((await api('DELETE', `/v1/agents/${id}`)).status).toBe(409);
      expect((await api<AgentView>('GET', `/v1/agents/${id}`)).body.load).toBe(1);
    } finally {
      await redis.srem(Keys.load(id), heldHandoff);
    }

    expect((await api('DELETE', `/v1/agents/${id}`)).status).toBe(204);
    expect((await api('GET', `/v1/agents/${id}`)).status).toBe(404);
    expect((await api('DELETE', `/v1/agents/${id}`)).status).toBe(404);
    expect(await roster.get(id)).toBeUndefined();

    const emptied = await api<{ teams: { name: string; agents: number }[] }>('GET', '/v1/teams');
    expect(emptied.body.teams.find((t) => t.name === team)?.agents).toBe(0);
    expect((await api('DELETE', `/v1/teams/${team}`)).status).toBe(204);
    expect((await api('DELETE', `/v1/teams/${team}`)).status).toBe(404);
    const gone = await api<{ teams: { name: string }[] }>('GET', '/v1/teams');
    expect(gone.body.teams.map((t) => t.name)).not.toContain(team);
  });

  it('answers 400 naming each wrong field, and stores nothing', async () => {
    const team = await createTeam();
    const id = unique('itest-agent');
    const valid = { name: 'Val Idation', team, languages: ['en'], maxConcurrent: 1 };
    const invalid = async (body: unknown) => {
      const res = await putAgent(id, body as Record<string, unknown>);
      expect(res.status).toBe(400);
      expect((res.body as unknown as { error: string }).error).toBe('validation_failed');
      return issuesOf(res);
    };

    expect(await invalid({ ...valid, workingHours: { mon: [['09:00', '25:00']] } })).toEqual([
      expect.objectContaining({ field: 'workingHours.mon[0][1]', rule: 'invalid_format' }),
    ]);
    expect(await invalid({ ...valid, workingHours: { fri: [['18:00', '09:00']] } })).toEqual([
      expect.objectContaining({ field: 'workingHours.fri[0]' }),
    ]);
    expect(await invalid({ ...valid, workingHours: { funday: [['09:00', '17:00']] } })).toEqual([
      expect.objectContaining({ field: 'workingHours.funday', rule: 'unknown_field' }),
    ]);
    expect(await invalid({ ...valid, timeZone: 'Mars/Base' })).toEqual([
      expect.objectContaining({ field: 'timeZone' }),
    ]);
    expect(await invalid({ ...valid, languages: ['en', 'not a tag'] })).toEqual([
      expect.objectContaining({ field: 'languages[1]' }),
    ]);
    expect(await invalid({ ...valid, skills: ['refunds', 'REFUNDS'] })).toEqual([
      expect.objectContaining({ field: 'skills', message: 'a skill appears twice' }),
    ]);
    expect(await invalid({ ...valid, skills: [{ name: 'refunds', level: 6 }] })).toEqual([
      expect.objectContaining({ field: 'skills[0].level', rule: 'too_big' }),
    ]);
    expect(await invalid({ ...valid, nickname: 'V' })).toEqual([
      { field: 'nickname', rule: 'unknown_field', message: 'unknown field: nickname' },
    ]);
    const several = await invalid({ ...valid, maxConcurrent: -1, timeZone: 'Nowhere/Land' });
    expect(several.map((i) => i.field).sort()).toEqual(['maxConcurrent', 'timeZone']);

    // A bad id in the path is named as "id".
    const badId = await api('PUT', `/v1/agents/${encodeURIComponent('bad id!')}`, valid);
    expect(badId.status).toBe(400);
    expect(issuesOf(badId)).toEqual([expect.objectContaining({ field: 'id' })]);
    expect(await roster.get(id)).toBeUndefined();

    // A patch is checked the same way, and leaves the agent as it was.
    expect((await putAgent(id, valid)).status).toBe(200);
    const badPatch = await api('PATCH', `/v1/agents/${id}`, {
      maxConcurrent: 'many',
      workingHours: { tue: [['08:00', '8:30']] },
    });
    expect(badPatch.status).toBe(400);
    expect(
      issuesOf(badPatch)
        .map((i) => i.field)
        .sort(),
    ).toEqual(['maxConcurrent', 'workingHours.tue[0][1]']);
    expect((await api<AgentView>('GET', `/v1/agents/${id}`)).body).toEqual(
      expect.objectContaining({ maxConcurrent: 1, workingHours: null }),
    );
    const badTeam = await api('PATCH', `/v1/agents/${id}`, { team: unique('itest-no-team') });
    expect(badTeam.status).toBe(400);
    expect(issuesOf(badTeam)).toEqual([expect.objectContaining({ field: 'team' })]);
    expect((await api<AgentView>('GET', `/v1/agents/${id}`)).body.team).toBe(team);

    const badTeamBody = await api('PUT', `/v1/teams/${unique('itest-team')}`, { lead: 'x' });
    expect(badTeamBody.status).toBe(400);
    expect(issuesOf(badTeamBody)).toEqual([expect.objectContaining({ field: 'lead' })]);
  });

  it('gives a handoff waiting in the queue to an agent created with its skill', async () => {
    const team = await createTeam();
    const skill = unique('skill');
    const first = unique('itest-agent');
    const second = unique('itest-agent');
    expect(
      (
        await putAgent(first, {
          name: 'First',
          team,
          skills: [skill],
          languages: ['en'],
          maxConcurrent: 1,
        })
      ).status,
    ).toBe(200);

    // The only agent with the skill takes the first handoff...
    const a = await requestHandoff([skill]);
    expect(await firstDecision(a.conversationId)).toEqual({
      case: 'agentAssigned',
      agentId: first,
    });
    // ...and is then at capacity, so the second one waits for that skill.
    const b = await requestHandoff([skill]);
    expect(await firstDecision(b.conversationId)).toEqual({ case: 'handoffQueued' });
    expect((await api<{ queued: number }>('GET', '/v1/agents')).body.queued).toBeGreaterThan(0);

    // A new agent with the skill: the PUT itself serves the queue.
    const created = await putAgent(second, {
      name: 'Second',
      team,
      skills: [{ name: skill, level: 4 }],
      languages: ['en'],
      maxConcurrent: 3,
    });
    expect(created.status).toBe(200);
    expect(await redis.sismember(Keys.load(second), b.handoffId)).toBe(1);
    expect(created.body.load).toBeGreaterThanOrEqual(1);

    expect(await assignedTo(b.conversationId)).toEqual(
      expect.objectContaining({
        handoffId: b.handoffId,
        agentId: second,
        agentName: 'Second',
        team,
      }),
    );
    const [assignment] = await rig.watcher.waitFor(
      Topics.handoffAssignments,
      (s) => s.value.conversationId === b.conversationId,
    );
    expect(assignment.value).toEqual(
      expect.objectContaining({ handoffId: b.handoffId, agentId: second, team }),
    );
    // The first agent still holds only the first conversation.
    expect(await redis.smembers(Keys.load(first))).toEqual([a.handoffId]);
  });

  it('passes over an agent outside working hours, and not once the hours are lifted', async () => {
    const team = await createTeam();
    const skill = unique('skill');
    const id = unique('itest-agent');
    // Hours only on the weekday three days from now (UTC): whatever the time, now is outside them.
    const now = new Date();
    const today = (now.getUTCDay() + 6) % 7; // 0 = Monday
    const workingHours: WorkingHours = { [WEEKDAYS[(today + 3) % 7]!]: [['00:00', '24:00']] };
    expect(onDuty({ workingHours, timeZone: 'UTC' }, now)).toBe(false);

    const created = await putAgent(id, {
      name: 'Off Duty',
      team,
      skills: [skill],
      languages: ['en'],
      maxConcurrent: 3,
      workingHours,
      timeZone: 'UTC',
    });
    expect(created.status).toBe(200);
    expect(created.body.workingHours).toEqual(workingHours);

    // The only agent with the skill is off duty: the handoff goes to someone else or waits.
    const early = await requestHandoff([skill]);
    const decision = await firstDecision(early.conversationId);
    expect(decision).not.toEqual({ case: 'agentAssigned', agentId: id });
    expect(await redis.sismember(Keys.load(id), early.handoffId)).toBe(0);

    // Without fixed hours, the same agent is on duty and takes the next one.
    const lifted = await api<AgentView>('PATCH', `/v1/agents/${id}`, { workingHours: null });
    expect(lifted.status).toBe(200);
    expect(lifted.body.workingHours).toBeNull();
    const late = await requestHandoff([skill]);
    expect(await assignedTo(late.conversationId)).toEqual(
      expect.objectContaining({ handoffId: late.handoffId, agentId: id }),
    );
    expect(await redis.sismember(Keys.load(id), late.handoffId)).toBe(1);
  });
});
