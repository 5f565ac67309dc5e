import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Bus, Topics } from '@support/bus';
import { JsonLogger, loadConfig } from '@support/service-kit';
import { startServiceRig, type ServiceRig, type WatchedRecord } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema } from '../config';
import { Roster } from './db/roster';
import { PresenceStore } from './presence';

jest.setTimeout(60_000);

const API_KEY = `audit-itest-${randomUUID()}`;
const OTHER_KEY = `audit-itest-other-${randomUUID()}`;
const fingerprint = (key: string) =>
  `api-key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

type AuditRecordSeen = WatchedRecord<typeof Topics.audit.schema>;

/** A record as the test compares it: the detail parsed. */
const summary = (r: AuditRecordSeen) => ({
  service: r.value.service,
  actor: r.value.actor,
  action: r.value.action,
  resourceType: r.value.resourceType,
  resourceId: r.value.resourceId,
  detail: JSON.parse(r.value.detailJson) as Record<string, unknown>,
});

describe('the router records its admin changes on admin.audit (real Kafka, PostgreSQL, Redis)', () => {
  let rig: ServiceRig<INestApplication>;
  let roster: Roster;
  const agents = new Set<string>();
  const teams = new Set<string>();
  const skills = new Set<string>();

  async function api(method: string, path: string, body?: unknown, key: string | null = API_KEY) {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.text();
    return res.status;
  }

  /**
   * Waits for the record of `action` on the resource, then answers every record of the resource
   * seen so far (the watcher has then read everything written before it: a rejected request's
   * record, had there been one, would be among them).
   */
  async function recordsOf(resourceId: string, lastAction: string, count = 1) {
    await rig.watcher.waitFor(
      Topics.audit,
      (r) => r.value.resourceId === resourceId && r.value.action === lastAction,
      { count },
    );
    return rig.watcher.records(Topics.audit).filter((r) => r.value.resourceId === resourceId);
  }

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      ROUTER_API_KEYS: `${API_KEY},${OTHER_KEY}`,
      ROUTER_SEED_DEMO: 'false',
      ROUTER_PRESENCE: 'ignored',
    });
    const logger = new JsonLogger('router', 'warn');
    rig = await startServiceRig({
      name: 'router-audit-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => NestFactory.create(AppModule.create(config, logger), { logger }),
      ready: {
        what: 'the router consumer to join its group',
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.audit],
    });
    roster = rig.app.get(Roster);
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      const presence = rig.app.get(PresenceStore);
      for (const id of agents) {
        await presence.set(id, 'offline').catch(() => undefined);
        await roster.remove(id).catch(() => undefined);
      }
      for (const team of teams) await roster.removeTeam(team).catch(() => undefined);
      for (const skill of skills) await roster.removeSkill(skill).catch(() => undefined);
    }
    await rig?.close();
  });

  async function skillAndTeam() {
    const skill = unique('audit-skill');
    const team = unique('audit-team');
    skills.add(skill);
    teams.add(team);
    expect(await api('PUT', `/v1/skills/${skill}`, { description: 'Refunds' })).toBe(200);
    expect(await api('PUT', `/v1/teams/${team}`, { skills: [skill] })).toBe(200);
    return { skill, team };
  }

  it('records an agent created, updated and removed, with the key that did it, and nothing for rejected or repeated requests', async () => {
    const { skill, team } = await skillAndTeam();
    const id = unique('audit-agent');
    agents.add(id);
    const agent = {
      name: 'Ada Audit',
      team,
      email: 'ada.audit@example.com',
      skills: [{ name: skill, level: 4 }],
      languages: ['en'],
      maxConcurrent: 2,
    };

    // Rejected: no key, an unknown skill, a bad field; none of them stores anything
    expect(await api('PUT', `/v1/agents/${id}`, agent, null)).toBe(401);
    expect(await api('PUT', `/v1/agents/${id}`, { ...agent, skills: ['no-such-skill'] })).toBe(400);
    expect(await api('PUT', `/v1/agents/${id}`, { ...agent, maxConcurrent: -1 })).toBe(400);

    expect(await api('PUT', `/v1/agents/${id}`, agent)).toBe(200);
    // The same agent again: no change, no record
    expect(await api('PUT', `/v1/agents/${id}`, agent)).toBe(200);
    expect(await api('PATCH', `/v1/agents/${id}`, { maxConcurrent: 'many' })).toBe(400);
    expect(
      await api(
        'PATCH',
        `/v1/agents/${id}`,
        { maxConcurrent: 5, email: 'ada@new.example.com' },
        OTHER_KEY,
      ),
    ).toBe(200);
    expect(await api('PATCH', `/v1/agents/${id}`, { maxConcurrent: 5 })).toBe(200);
    expect(await api('DELETE', `/v1/agents/${id}`, undefined, null)).toBe(401);
    expect(await api('DELETE', `/v1/agents/${id}`)).toBe(204);
    expect(await api('DELETE', `/v1/agents/${id}`)).toBe(404);
    agents.delete(id);

    const records = await recordsOf(id, 'agent.removed');
    expect(records.map(summary)).toEqual([
      {
        service: 'router',
        actor: fingerprint(API_KEY),
        action: 'agent.created',
        resourceType: 'agent',
        resourceId: id,
        detail: {
          name: 'Ada Audit',
          team,
          skills: { [skill]: 4 },
          languages: ['en'],
          maxConcurrent: 2,
          active: true,
          timeZone: 'UTC',
        },
      },
      {
        service: 'router',
        actor: fingerprint(OTHER_KEY),
        action: 'agent.updated',
        resourceType: 'agent',
        resourceId: id,
        detail: { changed: ['email', 'maxConcurrent'], maxConcurrent: 5 },
      },
      {
        service: 'router',
        actor: fingerprint(API_KEY),
        action: 'agent.removed',
        resourceType: 'agent',
        resourceId: id,
        detail: { name: 'Ada Audit', team },
      },
    ]);
    for (const r of records) {
      const bytes = r.raw.toString('latin1');
      expect(bytes).not.toContain(API_KEY);
      expect(bytes).not.toContain(OTHER_KEY);
      expect(bytes).not.toContain('example.com');
      expect(r.key).toBe(`agent:${id}`);
    }
  });

  it('records a presence an admin set when it changed, not its heartbeat, nor one for an unknown agent', async () => {
    const { skill, team } = await skillAndTeam();
    const id = unique('audit-presence');
    agents.add(id);
    const agent = { name: 'Pre Sence', team, skills: [skill], languages: ['en'], maxConcurrent: 1 };
    expect(await api('PUT', `/v1/agents/${id}`, agent)).toBe(200);
    const unknown = unique('audit-nobody');

    expect(await api('PUT', `/v1/agents/${id}/presence`, { status: 'busy' })).toBe(400);
    expect(await api('PUT', `/v1/agents/${unknown}/presence`, { status: 'online' })).toBe(404);
    expect(await api('PUT', `/v1/agents/${id}/presence`, { status: 'online' })).toBe(200);
    expect(await api('PUT', `/v1/agents/${id}/presence`, { status: 'online' })).toBe(200);
    expect(await api('PUT', `/v1/agents/${id}/presence`, { status: 'away' }, OTHER_KEY)).toBe(200);

    const records = await recordsOf(id, 'agent.presence_changed', 2);
    expect(records.map(summary)).toEqual([
      expect.objectContaining({ action: 'agent.created' }),
      {
        service: 'router',
        actor: fingerprint(API_KEY),
        action: 'agent.presence_changed',
        resourceType: 'agent',
        resourceId: id,
        detail: { status: 'online', previous: 'offline' },
      },
      {
        service: 'router',
        actor: fingerprint(OTHER_KEY),
        action: 'agent.presence_changed',
        resourceType: 'agent',
        resourceId: id,
        detail: { status: 'away', previous: 'online' },
      },
    ]);
    expect(rig.watcher.records(Topics.audit).filter((r) => r.value.resourceId === unknown)).toEqual(
      [],
    );
  });

  it('records teams and skills created, updated and removed, and nothing for a refused removal', async () => {
    const skill = unique('audit-skill');
    const team = unique('audit-team');
    skills.add(skill);
    teams.add(team);

    expect(await api('PUT', `/v1/skills/${skill}`, { description: 'Chargebacks' })).toBe(200);
    expect(await api('PUT', `/v1/skills/${skill}`, { description: 'Chargebacks' })).toBe(200);
    expect(await api('PUT', `/v1/skills/${skill}`, { label: 'x' })).toBe(400);
    expect(await api('PUT', `/v1/teams/${team}`, { skills: ['no-such-skill'] })).toBe(400);
    expect(
      await api('PUT', `/v1/teams/${team}`, { description: 'Disputes', skills: [skill] }),
    ).toBe(200);
    expect(
      await api('PUT', `/v1/teams/${team}`, { description: 'Disputes', skills: [skill] }),
    ).toBe(200);
    // In use by the team: refused
    expect(await api('DELETE', `/v1/skills/${skill}`)).toBe(409);
    expect(
      await api('PUT', `/v1/teams/${team}`, { description: 'Disputes and chargebacks' }, OTHER_KEY),
    ).toBe(200);
    expect(await api('PUT', `/v1/skills/${skill}`, { description: 'Card chargebacks' })).toBe(200);
    expect(await api('DELETE', `/v1/teams/${team}`)).toBe(204);
    expect(await api('DELETE', `/v1/teams/${team}`)).toBe(404);
    expect(await api('DELETE', `/v1/skills/${skill}`)).toBe(204);
    teams.delete(team);
    skills.delete(skill);

    const skillRecords = (await recordsOf(skill, 'skill.removed')).map(summary);
    const teamRecords = (await recordsOf(team, 'team.removed')).map(summary);
    const actorOf = (key: string) => ({ service: 'router', actor: fingerprint(key) });
    expect(skillRecords).toEqual([
      {
        ...actorOf(API_KEY),
        action: 'skill.created',
        resourceType: 'skill',
        resourceId: skill,
        detail: { description: 'Chargebacks' },
      },
      {
        ...actorOf(API_KEY),
        action: 'skill.updated',
        resourceType: 'skill',
        resourceId: skill,
        detail: { changed: ['description'], description: 'Card chargebacks' },
      },
      {
        ...actorOf(API_KEY),
        action: 'skill.removed',
        resourceType: 'skill',
        resourceId: skill,
        detail: {},
      },
    ]);
    expect(teamRecords).toEqual([
      {
        ...actorOf(API_KEY),
        action: 'team.created',
        resourceType: 'team',
        resourceId: team,
        detail: { description: 'Disputes', skills: [skill] },
      },
      {
        ...actorOf(OTHER_KEY),
        action: 'team.updated',
        resourceType: 'team',
        resourceId: team,
        detail: {
          changed: ['description', 'skills'],
          description: 'Disputes and chargebacks',
          skills: [],
        },
      },
      {
        ...actorOf(API_KEY),
        action: 'team.removed',
        resourceType: 'team',
        resourceId: team,
        detail: { skills: [] },
      },
    ]);
  });
});
