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
    handoff: (requiredSkills: string[], team = ''): ConversationEvent =>
      conversationEvent(conversationId, randomUUID(), 'handoffRequested', {
        handoffId,
        messageId,
        team,
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
  const skillsToRemove = new Set<string>();
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

  /** A new skill, declared in the vocabulary (agents may only have known skills). */
  async function createSkill(prefix = 'skill'): Promise<string> {
    const skill = unique(prefix);
    skillsToRemove.add(skill);
    expect(
      (await api('PUT', `/v1/skills/${skill}`, { description: 'integration test' })).status,
    ).toBe(200);
    return skill;
  }

  async function putAgent(id: string, body: Record<string, unknown>) {
    agentsToRemove.add(id);
    return api<AgentView>('PUT', `/v1/agents/${id}`, body);
  }

  /** Starts a conversation and asks for a person with these skills. */
  async function requestHandoff(skills: string[], team = ''): Promise<Conversation> {
    const c = conversationScript();
    conversationsToResolve.push(c);
    await rig.append(c.received());
    await rig.append(c.handoff(skills, team));
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
      watch: [Topics.events, Topics.handoffAssignments, Topics.directoryTeams],
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
      for (const skill of skillsToRemove) await roster.removeSkill(skill).catch(() => undefined);
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

  it('creates, reads, patches and deletes an agent whose team and skills must exist first', async () => {
    const id = unique('itest-agent');
    const team = unique('itest-team');
    teamsToRemove.add(team);
    const skill = unique('skill');
    const other = unique('billing');
    skillsToRemove.add(skill).add(other);
    const body = {
      name: 'Dana Directory',
      team,
      email: 'dana@example.com',
      skills: ['general', { name: skill, level: 5 }, { name: other.toUpperCase(), level: 1 }],
      languages: ['en', 'de-AT'],
      maxConcurrent: 2,
      workingHours: { mon: [['09:00', '17:00']], sat: [] },
      timeZone: 'Europe/Berlin',
    };

    // Neither the team nor two of the skills exist yet: mistakes to report, each named with
    // the names that are known, and nothing is stored.
    const unknown = await putAgent(id, body);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      error: 'validation_failed',
      issues: [
        {
          field: 'team',
          rule: 'unknown_team',
          message: expect.stringMatching(new RegExp(`unknown team "${team}"; known teams: .+`)),
        },
        {
          field: 'skills[1].name',
          rule: 'unknown_skill',
          message: expect.stringMatching(
            new RegExp(`unknown skill "${skill}"; known skills: .*\\bgeneral\\b`),
          ),
        },
        expect.objectContaining({ field: 'skills[2].name', rule: 'unknown_skill' }),
      ],
    });
    expect((await api('GET', `/v1/agents/${id}`)).status).toBe(404);

    const createdTeam = await api('PUT', `/v1/teams/${team}`, { description: 'Directory tests' });
    expect(createdTeam).toEqual({
      status: 200,
      body: { name: team, description: 'Directory tests', skills: [] },
    });
    // The team alone is not enough: the skills are still unknown.
    expect(issuesOf(await putAgent(id, body)).map((i) => i.field)).toEqual([
      'skills[1].name',
      'skills[2].name',
    ]);
    for (const name of [skill, other])
      expect((await api('PUT', `/v1/skills/${name}`, {})).status).toBe(200);

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
        { name: other, level: 1 },
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
    const skill = await createSkill();
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
    const skill = await createSkill();
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

  it('keeps teams and skills as data: a team covers known skills, and every change is published on directory.teams', async () => {
    const skill = await createSkill();
    const team = unique('itest-team');
    teamsToRemove.add(team);
    const missing = unique('nope');

    // A team may only cover known skills.
    const bad = await api('PUT', `/v1/teams/${team}`, { skills: [skill, missing] });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad)).toEqual([
      expect.objectContaining({
        field: 'skills[1]',
        rule: 'unknown_skill',
        message: expect.stringContaining(`unknown skill "${missing}"`),
      }),
    ]);
    expect((await api<{ teams: { name: string }[] }>('GET', '/v1/teams')).body.teams).not.toEqual(
      expect.arrayContaining([expect.objectContaining({ name: team })]),
    );

    const created = await api('PUT', `/v1/teams/${team}`, {
      description: 'Chargebacks',
      skills: [skill, 'general'],
    });
    expect(created).toEqual({
      status: 200,
      body: { name: team, description: 'Chargebacks', skills: [skill, 'general'] },
    });
    const teams = await api<{ teams: { name: string; skills: string[] }[] }>('GET', '/v1/teams');
    expect(teams.body.teams.find((t) => t.name === team)?.skills).toEqual([skill, 'general']);
    const skills = await api<{ skills: { name: string; teams: string[]; agents: number }[] }>(
      'GET',
      '/v1/skills',
    );
    expect(skills.body.skills.find((k) => k.name === skill)).toEqual(
      expect.objectContaining({
        name: skill,
        description: 'integration test',
        teams: [team],
        agents: 0,
      }),
    );

    // The vocabulary other services check names against: the whole of it, on one key.
    const [published] = await rig.watcher.waitFor(Topics.directoryTeams, (r) =>
      r.value.teams.some((t) => t.name === team),
    );
    expect(published.key).toBe('vocabulary');
    expect(published.value.teams.find((t) => t.name === team)).toEqual(
      expect.objectContaining({
        name: team,
        description: 'Chargebacks',
        skills: [skill, 'general'],
      }),
    );
    expect(published.value.skills.map((k) => k.name)).toEqual(
      expect.arrayContaining([skill, 'general']),
    );

    // A skill a team covers stays; once no team covers it, it goes, and the topic says so.
    const inUse = await api('DELETE', `/v1/skills/${skill}`);
    expect(inUse.status).toBe(409);
    expect(JSON.stringify(inUse.body)).toContain(`team ${team}`);
    expect((await api('PUT', `/v1/teams/${team}`, { skills: ['general'] })).status).toBe(200);
    expect((await api('DELETE', `/v1/skills/${skill}`)).status).toBe(204);
    expect((await api('DELETE', `/v1/skills/${skill}`)).status).toBe(404);
    await rig.watcher.waitFor(
      Topics.directoryTeams,
      (r) =>
        r.value.teams.some((t) => t.name === team && t.skills.join() === 'general') &&
        !r.value.skills.some((k) => k.name === skill),
    );
    const badName = await api('PUT', `/v1/skills/${encodeURIComponent('Not A Skill!')}`, {});
    expect(badName.status).toBe(400);
    expect(issuesOf(badName)).toEqual([expect.objectContaining({ field: 'name' })]);
  });

  it('offers a handoff that names a team to that team first, over a better skilled agent elsewhere', async () => {
    const skill = await createSkill();
    const [elsewhere, meantFor] = [await createTeam(), await createTeam()];
    const [expert, member] = [unique('itest-agent'), unique('itest-agent')];
    for (const [id, team, level] of [
      [expert, elsewhere, 5],
      [member, meantFor, 1],
    ] as const)
      expect(
        (
          await putAgent(id, {
            name: id,
            team,
            skills: [{ name: skill, level }],
            languages: ['en'],
            maxConcurrent: 2,
          })
        ).status,
      ).toBe(200);

    const withoutTeam = await requestHandoff([skill]);
    expect(await assignedTo(withoutTeam.conversationId)).toEqual(
      expect.objectContaining({ agentId: expert }),
    );
    const forTeam = await requestHandoff([skill], meantFor);
    const assigned = await assignedTo(forTeam.conversationId);
    expect(assigned).toEqual(expect.objectContaining({ agentId: member, team: meantFor }));
    expect(assigned?.reason).toContain(`in team ${meantFor}, as asked`);
  });
});
