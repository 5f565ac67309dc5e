import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { AssignerProtocol } from 'kafkajs';
import { register } from 'prom-client';
import { Bus, Topics } from '@support/bus';
import { AssignmentStatus, Priority, Resolution, type AgentAssigned } from '@support/contracts';
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

jest.setTimeout(240_000);

const API_KEY = `itest-${randomUUID()}`;
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const HANDOFFS = 40;

interface Handoff {
  index: number;
  conversationId: string;
  handoffId: string;
  /** What the first agent it reaches does: accept, decline, or let the deadline pass. */
  first: 'accept' | 'decline' | 'ignore';
}

describe('two router replicas on one consumer group, Redis and database', () => {
  const policyFile = join(mkdtempSync(join(tmpdir(), 'routing-')), 'routing.yaml');
  writeFileSync(
    policyFile,
    [
      'version: itest-replicas',
      'reviewEverySeconds: 1',
      'updateEverySeconds: 0',
      'acceptWithinSeconds: 3',
      'steps:',
      '  - { name: specialist, afterSeconds: 0, skills: any }',
    ].join('\n'),
  );
  const config = loadConfig(configSchema, {
    ...process.env,
    ROUTER_API_KEYS: API_KEY,
    ROUTER_SEED_DEMO: 'false',
    ROUTER_PRESENCE: 'ignored',
    ROUTER_POLICY_FILE: policyFile,
  });
  const logger = new JsonLogger('router', 'warn');
  let rig: ServiceRig<INestApplication>;
  let second: INestApplication | undefined;
  let redis: Redis;
  const team = unique('itest-replicas-team');
  const skill = unique('busy');
  const agents = [
    { id: unique('itest-rep-a'), level: 5, maxConcurrent: 2 },
    { id: unique('itest-rep-b'), level: 4, maxConcurrent: 3 },
    { id: unique('itest-rep-c'), level: 3, maxConcurrent: 3 },
  ];
  const capacityOf = new Map(agents.map((a) => [a.id, a.maxConcurrent]));
  const handoffs: Handoff[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.text();
    return res.status;
  };

  beforeAll(async () => {
    rig = await startServiceRig({
      name: 'router-replicas-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => NestFactory.create(AppModule.create(config, logger), { logger }),
      ready: {
        what: 'the first router consumer to join its group',
        check: (app) => app.get(Bus).health().ok,
      },
      watch: [Topics.events, Topics.handoffAssignments],
    });
    redis = rig.app.get<Redis>(REDIS);
    // Start from an empty queue and no deadlines (see directory-api.int.spec.ts).
    await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
    await redis.del(Keys.queue, Keys.items, Keys.claimed, Keys.acceptDue, Keys.acceptItems);

    // The second replica: the same service, group, Redis and database, in this process.
    register.clear();
    second = await NestFactory.create(AppModule.create(config, logger), { logger });
    await second.listen(0, '127.0.0.1');
    await waitUntil(
      'the second router consumer to join its group',
      () => second!.get(Bus).health().ok,
    );
    // Both replicas hold partitions of the log.
    const admin = rig.bus.kafka.admin();
    await admin.connect();
    try {
      await waitUntil('both replicas to share the log', async () => {
        const {
          groups: [group],
        } = await admin.describeGroups(['router.log']);
        if (group?.state !== 'Stable' || group.members.length !== 2) return false;
        return group.members.every((m) => {
          const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
          return (decoded?.assignment[Topics.events.name]?.length ?? 0) > 0;
        });
      });
    } finally {
      await admin.disconnect();
    }

    expect(await api('PUT', `/v1/teams/${team}`, {})).toBe(200);
    expect(await api('PUT', `/v1/skills/${skill}`, {})).toBe(200);
    for (const a of agents)
      expect(
        await api('PUT', `/v1/agents/${a.id}`, {
          name: a.id,
          team,
          skills: [{ name: skill, level: a.level }],
          languages: ['en'],
          maxConcurrent: a.maxConcurrent,
        }),
      ).toBe(200);
  }, 180_000);

  afterAll(async () => {
    if (rig) {
      for (const h of handoffs)
        await rig
          .append(
            conversationEvent(h.conversationId, randomUUID(), 'conversationResolved', {
              resolution: Resolution.HUMAN,
              resolvedBy: 'agent',
              note: '',
            }),
          )
          .catch(() => undefined);
      await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name).catch(
        () => undefined,
      );
      const roster = rig.app.get(Roster);
      for (const a of agents) {
        await redis.del(Keys.load(a.id));
        await roster.remove(a.id).catch(() => undefined);
      }
      await roster.removeTeam(team).catch(() => undefined);
      await roster.removeSkill(skill).catch(() => undefined);
    }
    await second?.close();
    await rig?.close();
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  it(`routes ${HANDOFFS} concurrent handoffs among three agents of capacity 2-3 without ever overloading one, re-routes declines and timeouts, and serves the queue as slots free`, async () => {
    // Watch every agent's load in Redis all along.
    const highest = new Map(agents.map((a) => [a.id, 0]));
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const counts = await Promise.all(agents.map((a) => redis.scard(Keys.load(a.id))));
        agents.forEach((a, i) => highest.set(a.id, Math.max(highest.get(a.id)!, counts[i]!)));
        await sleep(10);
      }
    })();

    // Every fifth is declined by the first agent it reaches; some others are never accepted by theirs.
    const plan = (i: number): Handoff['first'] =>
      i % 5 === 0 ? 'decline' : i % 7 === 3 ? 'ignore' : 'accept';
    const created = await Promise.all(
      Array.from({ length: HANDOFFS }, async (_, index) => {
        const h: Handoff = {
          index,
          conversationId: randomUUID(),
          handoffId: randomUUID(),
          first: plan(index),
        };
        await rig.append(
          customerMessageReceived(h.conversationId, {
            messageId: 'm1',
            text: 'I need a person',
            locale: 'en',
          }),
        );
        await rig.append(
          conversationEvent(h.conversationId, randomUUID(), 'handoffRequested', {
            handoffId: h.handoffId,
            messageId: 'm1',
            triggers: [{ rule: 'explicit_human_request', detail: 'asked', value: 1, threshold: 1 }],
            priority: Priority.NORMAL,
            requiredSkills: [skill],
            language: 'en',
            policyVersion: 'itest',
          }),
        );
        return h;
      }),
    );
    handoffs.push(...created);
    const byHandoff = new Map(handoffs.map((h) => [h.handoffId, h]));

    // Before any desk acts, every handoff is assigned or queued: eight slots for forty.
    const firstDecision = new Map<string, string>();
    await waitUntil('every handoff to be assigned or queued', () => {
      for (const r of rig.watcher.records(Topics.events)) {
        const p = r.value.payload;
        if (p.case !== 'agentAssigned' && p.case !== 'handoffQueued') continue;
        if (byHandoff.has(p.value.handoffId) && !firstDecision.has(p.value.handoffId))
          firstDecision.set(p.value.handoffId, p.case);
      }
      return firstDecision.size === HANDOFFS;
    });
    const queuedFirst = [...firstDecision.values()].filter((c) => c === 'handoffQueued');
    // Only a deadline passing (one per ignored assignment) can have freed a slot meanwhile.
    const ignored = handoffs.filter((h) => h.first === 'ignore').length;
    expect(queuedFirst.length).toBeGreaterThanOrEqual(HANDOFFS - 8 - ignored);

    // The agents' desks: react to each assignment as planned; an accepted conversation is
    // resolved a moment later, which frees the slot for the queue.
    const seen = new Set<string>();
    const attempts = new Map<string, number>();
    const resolved = new Set<string>();
    const pending: Promise<unknown>[] = [];
    await waitUntil(
      'every conversation to be accepted and resolved',
      async () => {
        for (const r of rig.watcher.records(Topics.events)) {
          if (r.value.payload.case !== 'agentAssigned' || seen.has(r.value.eventId)) continue;
          const a = r.value.payload.value;
          const h = byHandoff.get(a.handoffId);
          if (!h) continue;
          seen.add(r.value.eventId);
          const n = (attempts.get(h.handoffId) ?? 0) + 1;
          attempts.set(h.handoffId, n);
          const action = n === 1 ? h.first : 'accept';
          if (action === 'ignore') continue;
          if (action === 'decline') {
            pending.push(
              rig.append(
                conversationEvent(h.conversationId, randomUUID(), 'agentDeclined', {
                  handoffId: h.handoffId,
                  agentId: a.agentId,
                  reason: 'busy',
                  actionId: randomUUID(),
                }),
              ),
            );
            continue;
          }
          pending.push(
            rig
              .append(
                conversationEvent(h.conversationId, randomUUID(), 'agentAccepted', {
                  handoffId: h.handoffId,
                  agentId: a.agentId,
                  actionId: randomUUID(),
                }),
              )
              .then(() => sleep(50 + Math.floor(Math.random() * 200)))
              .then(async () => {
                if (resolved.has(h.handoffId)) return;
                resolved.add(h.handoffId);
                await rig.append(
                  conversationEvent(h.conversationId, randomUUID(), 'conversationResolved', {
                    resolution: Resolution.HUMAN,
                    resolvedBy: 'agent',
                    note: '',
                  }),
                );
              }),
          );
        }
        return resolved.size === HANDOFFS;
      },
      { timeoutMs: 180_000, intervalMs: 50 },
    );
    await Promise.all(pending);
    await waitUntil(
      'every agent to be free again',
      async () =>
        (await Promise.all(agents.map((a) => redis.scard(Keys.load(a.id))))).every((n) => n === 0),
      { timeoutMs: 60_000 },
    );
    sampling = false;
    await sampler;
    await waitForGroupToCatchUp(rig.bus.kafka, 'router.log', Topics.events.name);
    // Read every topic to its end, then look at what was published.
    await rig.watcher.waitFor(
      Topics.events,
      (r) => r.value.conversationId === handoffs[0]!.conversationId,
    );

    // Redis never let an agent hold more than they can.
    for (const a of agents) expect(highest.get(a.id)).toBeLessThanOrEqual(a.maxConcurrent);
    expect(Math.max(...highest.values())).toBeGreaterThan(0);

    // Nor did the assignments desks read: replayed in the order they were published (a release
    // is published before its slot is freed), no agent ever held more than their capacity.
    const records = new Map<string, { agentId: string; at: string; delta: number }>();
    for (const r of rig.watcher.records(Topics.handoffAssignments)) {
      const v = r.value;
      if (!byHandoff.has(v.handoffId) || records.has(r.meta.eventId)) continue;
      if (v.status === AssignmentStatus.ASSIGNED)
        records.set(r.meta.eventId, { agentId: v.agentId, at: r.meta.time, delta: 1 });
      else if (v.status === AssignmentStatus.RELEASED)
        records.set(r.meta.eventId, { agentId: v.agentId, at: r.meta.time, delta: -1 });
    }
    const held = new Map(agents.map((a) => [a.id, 0]));
    const most = new Map(agents.map((a) => [a.id, 0]));
    for (const e of [...records.values()].sort(
      (x, y) => x.at.localeCompare(y.at) || x.delta - y.delta,
    )) {
      held.set(e.agentId, held.get(e.agentId)! + e.delta);
      most.set(e.agentId, Math.max(most.get(e.agentId)!, held.get(e.agentId)!));
    }
    for (const a of agents) {
      expect(most.get(a.id)).toBeLessThanOrEqual(capacityOf.get(a.id)!);
      expect(held.get(a.id)).toBe(0);
    }

    const events = rig.watcher.records(Topics.events).filter((r) => {
      const p = r.value.payload;
      return (
        'value' in p &&
        p.value &&
        'handoffId' in p.value &&
        byHandoff.has((p.value as { handoffId: string }).handoffId)
      );
    });
    const ofKind = (h: Handoff, kind: string) =>
      events.filter(
        (r) =>
          r.value.payload.case === kind &&
          (r.value.payload.value as { handoffId: string }).handoffId === h.handoffId,
      );
    for (const h of handoffs) {
      // Each assignment once (by id), and never to an agent who had it before.
      const assignments = [
        ...new Map(
          ofKind(h, 'agentAssigned').map((r) => [
            r.value.eventId,
            r.value.payload.value as AgentAssigned,
          ]),
        ).values(),
      ];
      const who = assignments.map((a) => a.agentId);
      expect(new Set(who).size).toBe(who.length);
      const passes = ofKind(h, 'agentDeclined').length + ofKind(h, 'acceptTimedOut').length;
      expect(assignments).toHaveLength(1 + passes);
      if (h.first === 'decline') expect(ofKind(h, 'agentDeclined')).toHaveLength(1);
      if (h.first === 'ignore') {
        // One timeout, published by one of the two replicas, once.
        const timeouts = ofKind(h, 'acceptTimedOut');
        expect(timeouts.length).toBeGreaterThanOrEqual(1);
        expect(timeouts[0]!.value.payload.value).toEqual(
          expect.objectContaining({ agentId: who[0] }),
        );
      }
      const perAgent = new Map<string, number>();
      for (const t of ofKind(h, 'acceptTimedOut')) {
        const agentId = (t.value.payload.value as { agentId: string }).agentId;
        perAgent.set(agentId, (perAgent.get(agentId) ?? 0) + 1);
      }
      for (const count of perAgent.values()) expect(count).toBe(1);
      // Queued ones were served when a slot freed.
      const queuedAt = ofKind(h, 'handoffQueued').map((r) => events.indexOf(r));
      if (queuedAt.length) {
        expect(ofKind(h, 'agentAssigned').some((r) => events.indexOf(r) > queuedAt[0]!)).toBe(true);
      }
      expect(ofKind(h, 'agentAccepted').length).toBeGreaterThanOrEqual(1);
    }
  });
});
