import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Bus, DeadLetterTopics, Topics } from '@support/bus';
import {
  AgentPresenceSchema,
  create,
  PresenceStatus,
  Priority,
  Resolution,
  type DeadLetter,
} from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { JsonLogger, loadConfig, REDIS } from '@support/service-kit';
import {
  customerMessageReceived,
  sleep,
  startServiceRig,
  waitForGroupToCatchUp,
  waitUntil,
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
const presenceDeadLetters = DeadLetterTopics.find((t) => t.name === Topics.presence.deadLetter)!;

describe('agent presence decides who gets new handoffs (ROUTER_PRESENCE=required)', () => {
  let rig: ServiceRig<INestApplication>;
  let redis: Redis;
  const agentId = `itest-presence-${randomUUID().slice(0, 8)}`;
  const team = `itest-team-${randomUUID().slice(0, 8)}`;
  const skill = `presence-${randomUUID().slice(0, 8)}`;
  const conversationId = randomUUID();
  const handoffId = randomUUID();
  // An agent whose desk reports presence on the agent.presence topic, and the conversation they take.
  const deskAgentId = `itest-presence-desk-${randomUUID().slice(0, 8)}`;
  const deskSkill = `presence-desk-${randomUUID().slice(0, 8)}`;
  const deskConversationId = randomUUID();
  const deskHandoffId = randomUUID();

  /** Publishes a presence report as an agent desk does. */
  const report = (
    agentId: string,
    status: PresenceStatus,
    reportedAt = new Date().toISOString(),
    key = agentId,
  ) =>
    rig.bus.publish({
      topic: Topics.presence,
      key,
      value: create(AgentPresenceSchema, { agentId, status, reportedAt }),
    });
  const presenceOf = async (id: string) =>
    (await api('GET', `/v1/agents/${id}`)).body.presence as string;
  const deadLetter = async (key: string, reason: RegExp): Promise<DeadLetter> => {
    const [letter] = await rig.watcher.waitFor(
      presenceDeadLetters,
      (r) => Buffer.from(r.value.originalKey).toString() === key && reason.test(r.value.reason),
    );
    return letter.value;
  };

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
      watch: [Topics.events, presenceDeadLetters],
    });
    redis = rig.app.get<Redis>(REDIS);
    // Start from an empty queue: handoffs that earlier suites left on the shared log would
    // otherwise reach this test's agents through the router's any-agent fallback.
    await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
    await redis.del(Keys.queue, Keys.items, Keys.claimed, Keys.acceptDue, Keys.acceptItems);
    expect((await api('PUT', `/v1/teams/${team}`, {})).status).toBe(200);
    for (const name of [skill, deskSkill])
      expect((await api('PUT', `/v1/skills/${name}`, {})).status).toBe(200);
    const put = await api('PUT', `/v1/agents/${agentId}`, {
      name: 'Pia Presence',
      team,
      skills: [skill],
      languages: ['en'],
      maxConcurrent: 2,
    });
    expect(put.status).toBe(200);
    const deskPut = await api('PUT', `/v1/agents/${deskAgentId}`, {
      name: 'Dora Desk',
      team,
      skills: [deskSkill],
      languages: ['en'],
      maxConcurrent: 1,
    });
    expect(deskPut.status).toBe(200);
  }, 90_000);

  afterAll(async () => {
    if (rig) {
      for (const id of [conversationId, deskConversationId])
        await rig
          .append(
            conversationEvent(id, randomUUID(), 'conversationResolved', {
              resolution: Resolution.HUMAN,
              resolvedBy: 'agent',
              note: '',
            }),
          )
          .catch(() => undefined);
      await sleep(500);
      const roster = rig.app.get(Roster);
      for (const id of [agentId, deskAgentId]) {
        await redis.del(Keys.load(id), PresenceStore.key(id));
        await roster.remove(id).catch(() => undefined);
      }
      await roster.removeTeam(team).catch(() => undefined);
      for (const name of [skill, deskSkill]) await roster.removeSkill(name).catch(() => undefined);
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

  it('makes an agent available when their desk reports them online on the agent.presence topic, and offline again', async () => {
    expect(await presenceOf(deskAgentId)).toBe('offline');
    await rig.append(
      customerMessageReceived(deskConversationId, { text: 'Hi', locale: 'en', messageId: 'm1' }),
    );
    await rig.append(
      conversationEvent(deskConversationId, randomUUID(), 'handoffRequested', {
        handoffId: deskHandoffId,
        messageId: 'm1',
        triggers: [{ rule: 'explicit_human_request', detail: 'asked', value: 1, threshold: 1 }],
        priority: Priority.NORMAL,
        requiredSkills: [deskSkill],
        language: 'en',
        policyVersion: 'itest',
      }),
    );
    const decision = (r: { value: { conversationId: string; payload: { case?: string } } }) =>
      r.value.conversationId === deskConversationId &&
      (r.value.payload.case === 'handoffQueued' || r.value.payload.case === 'agentAssigned');
    const [first] = await rig.watcher.waitFor(Topics.events, decision);
    expect(first.value.payload.case).toBe('handoffQueued');

    await report(deskAgentId, PresenceStatus.ONLINE);
    const [assigned] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === deskConversationId && r.value.payload.case === 'agentAssigned',
    );
    if (assigned.value.payload.case !== 'agentAssigned') throw new Error('unreachable');
    expect(assigned.value.payload.value.agentId).toBe(deskAgentId);
    expect(await presenceOf(deskAgentId)).toBe('online');
    // The report holds for the time to live, like an HTTP heartbeat.
    const ttl = await redis.ttl(PresenceStore.key(deskAgentId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TTL_S);

    await report(deskAgentId, PresenceStatus.OFFLINE);
    await waitUntil(
      'the agent to be offline',
      async () => (await presenceOf(deskAgentId)) === 'offline',
    );
  });

  it('dead-letters presence records that are invalid or undecodable, and ignores reports too old to hold', async () => {
    expect(await presenceOf(deskAgentId)).toBe('offline');
    // Older than the time to live: it says nothing about now.
    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    await report(deskAgentId, PresenceStatus.ONLINE, old);
    // Same key, so read after the old report: once it is dead-lettered, the old one was handled.
    await report(deskAgentId, PresenceStatus.UNSPECIFIED);
    const letter = await deadLetter(deskAgentId, /status must be ONLINE, AWAY or OFFLINE/);
    expect(letter).toEqual(
      expect.objectContaining({
        originalTopic: Topics.presence.name,
        consumerGroup: 'router.presence',
      }),
    );
    expect(letter.reason).toMatch(/^invalid support\.v1\.AgentPresence: /);
    expect(await presenceOf(deskAgentId)).toBe('offline');

    const noAgent = `no-agent-${randomUUID().slice(0, 8)}`;
    await report('', PresenceStatus.ONLINE, new Date().toISOString(), noAgent);
    await deadLetter(noAgent, /agent_id is required/);
    const garbage = `garbage-${randomUUID().slice(0, 8)}`;
    await rig.bus.publishRaw(Topics.presence.name, garbage, Buffer.from([0xff, 0xff, 0xff]));
    await deadLetter(garbage, /^undecodable /);
    // The consumer goes on: a valid report after the bad ones still counts.
    await report(deskAgentId, PresenceStatus.AWAY);
    await waitUntil('the agent to be away', async () => (await presenceOf(deskAgentId)) === 'away');
  });
});
