import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Bus } from '@support/bus';
import { JsonLogger, loadConfig } from '@support/service-kit';
import {
  checkServedOpenApi,
  fetchChecked,
  startServiceRig,
  type OpenApiDoc,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema } from '../config';
import { Roster } from './db/roster';

jest.setTimeout(60_000);

const API_KEY = `openapi-itest-${randomUUID()}`;
const run = randomUUID().slice(0, 8);

describe("the router's OpenAPI document against its real answers", () => {
  let rig: ServiceRig<INestApplication>;
  let doc: OpenApiDoc;
  const agent = `oa-agent-${run}`;
  const team = `oa-team-${run}`;
  const skill = `oa-skill-${run}`;

  /** A call with the key (or `key`, none when null), checked against the document. */
  const call = (method: string, path: string, body?: unknown, key: string | null = API_KEY) =>
    fetchChecked(doc, rig.url, method, path, {
      body,
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
    });

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      ROUTER_API_KEYS: API_KEY,
      ROUTER_SEED_DEMO: 'false',
      ROUTER_PRESENCE: 'ignored',
      LOG_LEVEL: 'warn',
    });
    const logger = new JsonLogger('router', 'warn');
    rig = await startServiceRig({
      name: 'router-openapi-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => NestFactory.create(AppModule.create(config, logger), { logger }),
      ready: { what: 'the router consumer to join', check: (app) => app.get(Bus).health().ok },
      watch: [],
    });
    doc = await checkServedOpenApi(rig.app, rig.url);
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      const roster = rig.app.get(Roster);
      await roster.remove(agent).catch(() => undefined);
      await roster.removeTeam(team).catch(() => undefined);
      await roster.removeSkill(skill).catch(() => undefined);
    }
    await rig?.close();
  });

  it('documents every route it serves, and no other', () => {
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/agents/{id}', '/v1/teams/{name}', '/v1/skills/{name}']),
    );
  });

  it('answers the vocabulary and agent operations as documented', async () => {
    expect((await call('PUT', `/v1/skills/${skill}`, { description: 'OpenAPI test' })).status).toBe(
      200,
    );
    expect((await call('PUT', `/v1/teams/${team}`, { skills: [skill] })).status).toBe(200);
    const created = await call('PUT', `/v1/agents/${agent}`, {
      name: 'Olga OpenAPI',
      team,
      email: 'olga@example.com',
      skills: [{ name: skill, level: 4 }],
      languages: ['en', 'pt-BR'],
      // No capacity: waiting handoffs of other tests never land here.
      maxConcurrent: 0,
      workingHours: { mon: [['09:00', '17:00']] },
      timeZone: 'Europe/Lisbon',
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual(expect.objectContaining({ id: agent, available: 0 }));

    const listed = await call('GET', '/v1/agents');
    expect(listed.body.agents.map((a: { id: string }) => a.id)).toContain(agent);
    expect((await call('GET', `/v1/agents/${agent}`)).body.skills).toEqual([
      { name: skill, level: 4 },
    ]);
    const patched = await call('PATCH', `/v1/agents/${agent}`, {
      workingHours: null,
      active: false,
    });
    expect(patched.body).toEqual(expect.objectContaining({ workingHours: null, active: false }));
    const present = await call('PUT', `/v1/agents/${agent}/presence`, { status: 'away' });
    expect(present.body.presence).toBe('away');

    const teams = await call('GET', '/v1/teams');
    expect(teams.body.teams).toContainEqual(expect.objectContaining({ name: team, agents: 1 }));
    const skills = await call('GET', '/v1/skills');
    expect(skills.body.skills).toContainEqual(
      expect.objectContaining({ name: skill, agents: 1, teams: [team] }),
    );

    // Still in use: 409 naming who uses it.
    expect((await call('DELETE', `/v1/skills/${skill}`)).status).toBe(409);
    expect((await call('DELETE', `/v1/teams/${team}`)).status).toBe(409);

    expect((await call('DELETE', `/v1/agents/${agent}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/teams/${team}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/skills/${skill}`)).status).toBe(204);
    for (const path of [`/v1/agents/${agent}`, `/v1/teams/${team}`, `/v1/skills/${skill}`])
      expect((await call('DELETE', path)).status).toBe(404);
    expect((await call('GET', `/v1/agents/${agent}`)).status).toBe(404);
    expect((await call('PATCH', `/v1/agents/${agent}`, { maxConcurrent: 1 })).status).toBe(404);
    expect((await call('PUT', `/v1/agents/${agent}/presence`, { status: 'online' })).status).toBe(
      404,
    );
  });

  it('answers invalid input with the documented 400 naming field and rule', async () => {
    const bad = await call('PUT', `/v1/agents/${agent}`, {
      name: '',
      team: `no-such-team-${run}`,
      languages: [],
      maxConcurrent: 1000,
      extra: true,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { field: string }) => i.field)).toEqual(
      expect.arrayContaining(['name', 'languages', 'maxConcurrent']),
    );
    const unknownTeam = await call('PUT', `/v1/agents/${agent}`, {
      name: 'Nobody',
      team: `no-such-team-${run}`,
      languages: ['en'],
      maxConcurrent: 0,
    });
    expect(unknownTeam.status).toBe(400);
    expect(unknownTeam.body.issues).toEqual([
      expect.objectContaining({ field: 'team', rule: 'unknown_team' }),
    ]);
    expect((await call('PUT', `/v1/agents/${agent}/presence`, { status: 'asleep' })).status).toBe(
      400,
    );
    expect((await call('PUT', `/v1/skills/Not%20a%20skill`, {})).status).toBe(400);
    expect(
      (await call('PUT', `/v1/teams/${team}`, { skills: [`no-such-skill-${run}`] })).status,
    ).toBe(400);
  });

  it('answers the documented 401 without a valid key', async () => {
    expect((await call('GET', '/v1/agents', undefined, null)).status).toBe(401);
    expect((await call('PUT', `/v1/teams/${team}`, {}, 'wrong-key')).status).toBe(401);
    expect((await call('DELETE', `/v1/skills/${skill}`, undefined, null)).status).toBe(401);
  });
});
