import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Bus, Topics } from '@support/bus';
import { Priority, Resolution } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { JsonLogger, loadConfig, REDIS } from '@support/service-kit';
import {
  customerMessageReceived,
  sleep,
  startServiceRig,
  waitForGroupToCatchUp,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema } from '../config';
import { Roster } from './db/roster';
import { Keys } from './load-store';
import { PresenceStore } from './presence';

jest.setTimeout(60_000);

const API_KEY = `itest-${randomUUID()}`;
const TTL_S = 5;

describe('agent presence decides who gets new handoffs (ROUTER_PRESENCE=required)', () => {
  let rig: ServiceRig<INestApplication>;
  let redis: Redis;
  const agentId = `itest-presence-${randomUUID().slice(0, 8)}`;
  const team = `itest-team-${randomUUID().slice(0, 8)}`;
  const skill = `presence-${randomUUID().slice(0, 8)}`;
  const conversationId = randomUUID();
  const handoffId = randomUUID();

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
    };
  };

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      ROUTER_API_KEYS: API_KEY,
      ROUTER_SEED_DEMO: 'false',
      ROUTER_PRESENCE: 'required',
      ROUTER_PRESENCE_TTL_S: String(TTL_S),
    });
    const logger = new JsonLogger('router', 'warn');
    rig = await startServiceRig({
      name: 'router-presence-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => NestFactory.create(AppModule.create(config, logger), { logger }),
      ready: {
        what: 'the router consumer to join its group',
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.events],
    });
    redis = rig.app.get<Redis>(REDIS);
    // Start from an empty queue: handoffs that earlier suites left on the shared log would
    // otherwise reach this test's agents through the router's any-agent fallback.
    await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
    await redis.del(Keys.queue, Keys.items, Keys.claimed);
    expect((await api('PUT', `/v1/teams/${team}`, {})).status).toBe(200);
    const put = await api('PUT', `/v1/agents/${agentId}`, {
      name: 'Pia Presence',
      team,
      skills: [skill],
      languages: ['en'],
      maxConcurrent: 2,
    });
    expect(put.status).toBe(200);
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      await rig
        .append(
          conversationEvent(conversationId, randomUUID(), 'conversationResolved', {
            resolution: Resolution.HUMAN,
            resolvedBy: 'agent',
            note: '',
          }),
        )
        .catch(() => undefined);
      await sleep(500);
      const roster = rig.app.get(Roster);
      await redis.del(Keys.load(agentId), PresenceStore.key(agentId));
      await roster.remove(agentId).catch(() => undefined);
      await roster.removeTeam(team).catch(() => undefined);
    }
    await rig?.close();
  });

  it('queues a handoff while its only agent is offline, and assigns it when the agent comes online', async () => {
    expect((await api('GET', `/v1/agents/${agentId}`)).body.presence).toBe('offline');
    await rig.append(
      customerMessageReceived(conversationId, { text: 'Hello', locale: 'en', messageId: 'm1' }),
    );
    await rig.append(
      conversationEvent(conversationId, randomUUID(), 'handoffRequested', {
        handoffId,
        messageId: 'm1',
        triggers: [{ rule: 'explicit_human_request', detail: 'asked', value: 1, threshold: 1 }],
        priority: Priority.NORMAL,
        requiredSkills: [skill],
        language: 'en',
        policyVersion: 'itest',
      }),
    );
    const [first] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === conversationId &&
        (r.value.payload.case === 'handoffQueued' || r.value.payload.case === 'agentAssigned'),
    );
    expect(first.value.payload.case).toBe('handoffQueued');

    const online = await api('PUT', `/v1/agents/${agentId}/presence`, { status: 'online' });
    expect(online.status).toBe(200);
    expect(online.body.presence).toBe('online');
    const [assigned] = await rig.watcher.waitFor(
      Topics.events,
      (r) => r.value.conversationId === conversationId && r.value.payload.case === 'agentAssigned',
    );
    if (assigned.value.payload.case !== 'agentAssigned') throw new Error('unreachable');
    expect(assigned.value.payload.value.agentId).toBe(agentId);
  });

  it('forgets an agent whose desk stops sending heartbeats, and says offline at once when told', async () => {
    await api('PUT', `/v1/agents/${agentId}/presence`, { status: 'away' });
    expect((await api('GET', `/v1/agents/${agentId}`)).body.presence).toBe('away');
    await sleep((TTL_S + 1) * 1000);
    expect((await api('GET', `/v1/agents/${agentId}`)).body.presence).toBe('offline');
    await api('PUT', `/v1/agents/${agentId}/presence`, { status: 'online' });
    await api('PUT', `/v1/agents/${agentId}/presence`, { status: 'offline' });
    expect((await api('GET', `/v1/agents/${agentId}`)).body.presence).toBe('offline');
  });

  it('rejects an unknown status naming the field, and an unknown agent', async () => {
    const bad = await api('PUT', `/v1/agents/${agentId}/presence`, { status: 'busy' });
    expect(bad.status).toBe(400);
    expect((bad.body.issues as { field: string }[])[0].field).toBe('status');
    expect((await api('PUT', '/v1/agents/nobody-here/presence', { status: 'online' })).status).toBe(
      404,
    );
  });
});
