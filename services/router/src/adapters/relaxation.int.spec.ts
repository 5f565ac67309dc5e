import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Bus, Topics } from '@support/bus';
import { Priority, Resolution, type AgentAssigned } from '@support/contracts';
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
import { Roster } from './db/roster';
import { Keys } from './load-store';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

describe('routing as data: a waiting handoff relaxes step by step, and every assignment says why', () => {
  const policyFile = join(mkdtempSync(join(tmpdir(), 'routing-')), 'routing.yaml');
  writeFileSync(
    policyFile,
    [
      'version: itest-routing',
      'reviewEverySeconds: 1',
      'steps:',
      '  - { name: specialist, afterSeconds: 0, skills: any, language: required }',
      '  - { name: generalist, afterSeconds: 2, skills: general }',
    ].join('\n'),
  );
  let rig: ServiceRig<INestApplication>;
  let redis: Redis;
  const team = unique('itest-team');
  const skill = unique('relax');
  const specialist = unique('itest-specialist');
  const generalist = unique('itest-generalist');
  const conversations: string[] = [];

  const api = async (method: string, path: string, body?: unknown) =>
    fetch(`${rig.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function handoff(language = 'en'): Promise<string> {
    const conversationId = randomUUID();
    conversations.push(conversationId);
    await rig.append(
      customerMessageReceived(conversationId, { messageId: 'm1', text: 'Hi', locale: language }),
    );
    await rig.append(
      conversationEvent(conversationId, randomUUID(), 'handoffRequested', {
        handoffId: randomUUID(),
        messageId: 'm1',
        triggers: [{ rule: 'explicit_human_request', detail: 'asked', value: 1, threshold: 1 }],
        priority: Priority.NORMAL,
        requiredSkills: [skill],
        language,
        policyVersion: 'itest',
      }),
    );
    return conversationId;
  }

  const decision = async (conversationId: string) => {
    const [r] = await rig.watcher.waitFor(
      Topics.events,
      (e) =>
        e.value.conversationId === conversationId &&
        (e.value.payload.case === 'agentAssigned' || e.value.payload.case === 'handoffQueued'),
    );
    return r.value.payload;
  };
  const assigned = async (conversationId: string): Promise<AgentAssigned> => {
    const [r] = await rig.watcher.waitFor(
      Topics.events,
      (e) => e.value.conversationId === conversationId && e.value.payload.case === 'agentAssigned',
    );
    if (r.value.payload.case !== 'agentAssigned') throw new Error('unreachable');
    return r.value.payload.value;
  };

  const waitUntilFree = (agentId: string) =>
    waitUntil(`${agentId} to be free`, async () => (await redis.scard(Keys.load(agentId))) === 0);

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      ROUTER_API_KEYS: API_KEY,
      ROUTER_SEED_DEMO: 'false',
      ROUTER_PRESENCE: 'ignored',
      ROUTER_POLICY_FILE: policyFile,
    });
    const logger = new JsonLogger('router', 'warn');
    rig = await startServiceRig({
      name: 'router-relaxation-itest',
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
    // Start from an empty queue (see directory-api.int.spec.ts).
    await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
    await redis.del(Keys.queue, Keys.items, Keys.claimed, Keys.acceptDue, Keys.acceptItems);
    expect((await api('PUT', `/v1/teams/${team}`, {})).status).toBe(200);
    expect((await api('PUT', `/v1/skills/${skill}`, {})).status).toBe(200);
    const put = (id: string, skills: unknown[], languages: string[]) =>
      api('PUT', `/v1/agents/${id}`, { name: id, team, skills, languages, maxConcurrent: 1 });
    expect((await put(specialist, [{ name: skill, level: 4 }], ['en'])).status).toBe(200);
    expect((await put(generalist, ['general'], ['en'])).status).toBe(200);
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      for (const c of conversations)
        await rig
          .append(
            conversationEvent(c, randomUUID(), 'conversationResolved', {
              resolution: Resolution.HUMAN,
              resolvedBy: 'agent',
              note: '',
            }),
          )
          .catch(() => undefined);
      const roster = rig.app.get(Roster);
      for (const id of [specialist, generalist]) {
        await redis.del(Keys.load(id));
        await roster.remove(id).catch(() => undefined);
      }
      await roster.removeTeam(team).catch(() => undefined);
      await roster.removeSkill(skill).catch(() => undefined);
    }
    await rig?.close();
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  it('gives the specialist the first handoff and records why, with the step and the policy version', async () => {
    const first = await handoff();
    const a = await assigned(first);
    expect(a.agentId).toBe(specialist);
    expect([a.routingStep, a.routingVersion]).toEqual(['specialist', 'itest-routing']);
    expect(a.reason).toContain(`has ${skill} (level 4)`);
    expect(a.reason).toContain('speaks en');
    const [desk] = await rig.watcher.waitFor(
      Topics.handoffAssignments,
      (r) => r.value.conversationId === first,
    );
    expect(desk.value.reason).toBe(a.reason);
  });

  it('queues the next one while the specialist is full, then relaxes to a generalist', async () => {
    const second = await handoff();
    expect((await decision(second)).case).toBe('handoffQueued');
    const a = await assigned(second);
    expect(a.agentId).not.toBe(specialist);
    expect(a.routingStep).toBe('generalist');
    expect(a.reason).toContain(`has none of ${skill}`);
  });

  it('holds a handoff in a language the free specialist does not speak until the step that only prefers it', async () => {
    // The specialist's first conversation ends, so they have room; the next customer writes French.
    await rig.append(
      conversationEvent(conversations[0]!, randomUUID(), 'conversationResolved', {
        resolution: Resolution.HUMAN,
        resolvedBy: 'agent',
        note: '',
      }),
    );
    await waitUntilFree(specialist);
    const french = await handoff('fr');
    expect((await decision(french)).case).toBe('handoffQueued');
    const a = await assigned(french);
    expect([a.agentId, a.routingStep]).toEqual([specialist, 'generalist']);
    expect(a.reason).toContain('does not speak fr');
  });
});
