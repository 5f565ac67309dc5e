import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { register } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { Topics } from '@support/bus';
import { ReplyKind } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  customerMessageReceived,
  startServiceRig,
  waitUntil,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DEFAULT_POLICY_FILE } from '../domain/decide';
import { parsePolicy } from '../domain/policy';

jest.setTimeout(120_000);

const KEY = `key-${randomUUID()}`;
/** A policy set of this run only: no other test (or earlier run) has activated anything in it. */
const POLICY_SET = `itest-${randomUUID().slice(0, 8)}`;

/** The parts of the decider's answers these tests read. */
interface Answer {
  version: string;
  message: string;
  candidateVersion: string;
  candidate: { rules: Record<string, number> };
  flipped: { toHuman: string[] };
  document: { thresholds: Record<string, number> };
  issues: { field: string; rule: string; policyRule?: string; message: string }[];
  active: string;
  versions: VersionBody[];
  activations: { kind: string; actor: string; version: string }[];
}

interface VersionBody {
  version: string;
  name: string;
  status: string;
  origin: string;
  author: string;
  created?: boolean;
  activations: { actor: string; kind: string }[];
}

describe('escalation-decider: the policy API, on two replicas', () => {
  const shipped = readFileSync(DEFAULT_POLICY_FILE, 'utf8');
  const seedVersion = parsePolicy(shipped).version;
  /** Answers under 0.99 go to a person: an answer the shipped policy releases is handed off. */
  const strictYaml = shipped
    .replace(/^version: .*$/m, 'version: strict-1')
    .replace(/minConfidence: [0-9.]+/, 'minConfidence: 0.99')
    // No review band: answers under the stricter threshold are handed off.
    .replace(/reviewMinConfidence: [0-9.]+/, 'reviewMinConfidence: 0.99');
  const strictVersion = parsePolicy(strictYaml).version;
  const config = loadConfig(configSchema, {
    ...process.env,
    LOG_LEVEL: 'error',
    LLM_PROVIDER: 'extractive',
    DECIDER_POLICY_FILE: '',
    DECIDER_POLICY_SET: POLICY_SET,
    CRM_LOOKUP_URL: '',
    DECIDER_API_KEYS: KEY,
  });
  const logger = new JsonLogger(SERVICE, 'error');
  let rig: ServiceRig<INestApplication>;
  let second: INestApplication | undefined;
  let secondUrl = '';

  beforeAll(async () => {
    rig = await startServiceRig({
      name: 'escalation-decider-policy-int-test',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.events, Topics.policyVersions],
    });
    // The second replica: the same service, policy set, consumer groups and Redis, in this process.
    register.clear();
    second = await createServiceApp(AppModule.create(config, logger), logger);
    await second.listen(0, '127.0.0.1');
    secondUrl = await second.getUrl();
    await waitUntil('the second replica to be healthy', async () => {
      try {
        return (await fetch(`${secondUrl}/health`)).ok;
      } catch {
        return false;
      }
    });
  });

  afterAll(async () => {
    await second?.close();
    await rig?.close();
  });

  const call = async (
    method: 'GET' | 'POST',
    path: string,
    {
      key = KEY,
      body,
      type,
      actor,
      base = rig.url,
    }: { key?: string | null; body?: string; type?: string; actor?: string; base?: string } = {},
  ) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(type ? { 'content-type': type } : {}),
        ...(actor ? { 'x-actor': actor } : {}),
      },
      body,
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Answer };
  };
  const activeOn = async (base: string) => (await call('GET', '/v1/policy', { base })).body.version;
  const policyRecords = () =>
    rig.watcher.records(Topics.policyVersions).filter((r) => r.value.policySet === POLICY_SET);

  /** One customer message answered by the AI at `confidence`, calm: the decision on it from the log. */
  async function decide(confidence: number) {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId, text: 'Invoices?' }));
    await rig.append(
      conversationEvent(conversationId, `proposal-${messageId}`, 'aiReplyProposed', {
        messageId,
        replyId: `reply-${messageId}`,
        text: 'Open Settings, then Billing.',
        confidence,
        intent: 'billing',
        kind: ReplyKind.ANSWER,
        citations: [],
      }),
    );
    await rig.append(
      conversationEvent(conversationId, `score-${messageId}`, 'messageScored', {
        messageId,
        valence: 0,
        label: 'neutral',
        signals: [],
      }),
    );
    const [record] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === conversationId &&
        (r.value.payload.case === 'aiReplyReleased' || r.value.payload.case === 'handoffRequested'),
    );
    const p = record.value.payload;
    if (p.case !== 'aiReplyReleased' && p.case !== 'handoffRequested')
      throw new Error('unreachable');
    return {
      kind: p.case,
      policyVersion: p.value.policyVersion,
      rules: p.case === 'handoffRequested' ? p.value.triggers.map((t) => t.rule) : [],
    };
  }

  it('refuses every policy route without a valid key (401)', async () => {
    for (const [method, path] of [
      ['GET', '/v1/policy'],
      ['GET', '/v1/policy/versions'],
      ['POST', '/v1/policy/versions'],
      ['GET', `/v1/policy/versions/${seedVersion}`],
      ['POST', `/v1/policy/versions/${seedVersion}/whatif`],
      ['POST', `/v1/policy/versions/${seedVersion}/activate`],
      ['POST', '/v1/policy/rollback'],
    ] as const) {
      const body = method === 'POST' ? strictYaml : undefined;
      for (const key of [null, 'not-a-key', `${KEY}x`]) {
        const { status } = await call(method, path, { key, body, type: body && 'text/yaml' });
        expect([method, path, status]).toEqual([method, path, 401]);
      }
    }
  });

  it('starts with the policy file in force on both replicas, from no activation', async () => {
    for (const base of [rig.url, secondUrl]) {
      const { body } = await call('GET', '/v1/policy', { base });
      expect(body).toMatchObject({
        version: seedVersion,
        policySet: POLICY_SET,
        source: expect.stringMatching(/^file:.*default\.yaml$/),
        activation: null,
      });
    }
  });

  it('refuses a policy that does not validate with 400 naming the rule and the field; stores nothing', async () => {
    const res = await call('POST', '/v1/policy/versions', {
      body: strictYaml.replace('{ threshold: vipMinConfidence }', '{ threshold: noSuchThreshold }'),
      type: 'text/yaml',
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_policy',
      issues: [
        expect.objectContaining({
          field: 'rules[vip_account].when.all[1].value',
          rule: 'unknown_threshold',
          policyRule: 'vip_account',
          message: expect.stringContaining('noSuchThreshold'),
        }),
      ],
    });
    const unknownFact = await call('POST', '/v1/policy/versions', {
      body: JSON.stringify({
        ...(parseYaml(strictYaml) as object),
        rules: [
          {
            name: 'moody',
            detail: 'x',
            when: { all: [{ fact: 'mood', operator: 'equal', value: 1 }] },
          },
        ],
      }),
      type: 'application/json',
    });
    expect(unknownFact.status).toBe(400);
    expect(unknownFact.body.issues).toEqual([
      expect.objectContaining({ field: 'rules[moody].when.all[0].fact', policyRule: 'moody' }),
    ]);
    const empty = await call('POST', '/v1/policy/versions', { body: '', type: 'text/yaml' });
    expect(empty.status).toBe(400);
    expect(empty.body.issues).toEqual([
      expect.objectContaining({ field: 'body', rule: 'required' }),
    ]);
    const versions = await call('GET', '/v1/policy/versions');
    expect(versions.body.versions.map((v: VersionBody) => v.version)).toEqual([seedVersion]);
    expect(policyRecords()).toHaveLength(0);
  });

  it('stores a valid candidate as an immutable version: the same document again is the same version', async () => {
    const res = await call('POST', '/v1/policy/versions', {
      body: strictYaml,
      type: 'text/yaml',
      actor: 'ana@example.com',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      created: true,
      version: strictVersion,
      name: 'strict-1',
      status: 'candidate',
      origin: 'api',
      author: 'ana@example.com',
    });
    // The same document as JSON, without comments: the same version, nothing new stored.
    const again = await call('POST', '/v1/policy/versions', {
      body: JSON.stringify(parseYaml(strictYaml)),
      type: 'application/json',
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, version: strictVersion });
    const one = await call('GET', `/v1/policy/versions/${encodeURIComponent(strictVersion)}`);
    expect(one.body).toMatchObject({ version: strictVersion, source: strictYaml });
    expect(one.body.document.thresholds.minConfidence).toBe(0.99);
    // Stored, but not in force: decisions are still the file's.
    expect(await activeOn(rig.url)).toBe(seedVersion);
  });

  it('replays the log under a stored candidate (what-if), and 404 for an unknown version', async () => {
    const released = await decide(0.95);
    expect(released).toMatchObject({ kind: 'aiReplyReleased', policyVersion: seedVersion });
    const res = await call(
      'POST',
      `/v1/policy/versions/${encodeURIComponent(strictVersion)}/whatif`,
    );
    expect(res.status).toBe(200);
    expect(res.body.candidateVersion).toBe(strictVersion);
    expect(res.body.candidate.rules.low_confidence).toBeGreaterThanOrEqual(1);
    expect(res.body.flipped.toHuman.length).toBeGreaterThanOrEqual(1);
    expect((await call('POST', '/v1/policy/versions/nope@12345678/whatif')).status).toBe(404);
  });

  it('activates it: answered once applied here, and the other replica switches without a restart', async () => {
    const res = await call(
      'POST',
      `/v1/policy/versions/${encodeURIComponent(strictVersion)}/activate`,
      {
        body: JSON.stringify({ reason: 'fewer wrong answers' }),
        type: 'application/json',
        actor: 'ana@example.com',
      },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      changed: true,
      active: strictVersion,
      activation: {
        version: strictVersion,
        previousVersion: seedVersion,
        kind: 'activate',
        actor: 'ana@example.com',
        reason: 'fewer wrong answers',
      },
    });
    // This replica answered only after applying it.
    expect(await activeOn(rig.url)).toBe(strictVersion);
    await waitUntil(
      'the second replica to switch',
      async () => (await activeOn(secondUrl)) === strictVersion,
    );
    const { body } = await call('GET', '/v1/policy', { base: secondUrl });
    expect(body).toMatchObject({
      source: 'policy.versions',
      activation: { version: strictVersion },
    });
    expect(body.document.thresholds.minConfidence).toBe(0.99);
    // Whichever replica holds the conversation decides under the new version, and says so.
    for (let i = 0; i < 3; i++)
      expect(await decide(0.95)).toEqual({
        kind: 'handoffRequested',
        policyVersion: strictVersion,
        rules: ['low_confidence'],
      });
    // Activating what is in force changes nothing.
    const again = await call(
      'POST',
      `/v1/policy/versions/${encodeURIComponent(strictVersion)}/activate`,
    );
    expect(again.body).toEqual({ changed: false, active: strictVersion });
  });

  it('lists the versions: the one in force, the file it replaced (stored so it can come back), who and when', async () => {
    const { body } = await call('GET', '/v1/policy/versions', { base: secondUrl });
    expect(body.active).toBe(strictVersion);
    expect(body.versions).toEqual([
      expect.objectContaining({
        version: strictVersion,
        status: 'active',
        author: 'ana@example.com',
      }),
      expect.objectContaining({
        version: seedVersion,
        status: 'previous',
        origin: expect.stringMatching(/^file:/),
      }),
    ]);
    expect(body.versions[0].activations).toEqual([
      expect.objectContaining({
        actor: 'ana@example.com',
        kind: 'activate',
        at: expect.any(String),
      }),
    ]);
    expect(body.activations).toHaveLength(1);
  });

  it('a replica started later reads the activation at start-up, and decides nothing before', async () => {
    register.clear();
    const late = await createServiceApp(AppModule.create(config, logger), logger);
    try {
      // init() returns once the replica has read policy.versions to its end.
      await late.listen(0, '127.0.0.1');
      const { body } = await call('GET', '/v1/policy', { base: await late.getUrl() });
      expect(body).toMatchObject({ version: strictVersion, source: 'policy.versions' });
    } finally {
      await late.close();
    }
  });

  it('refuses a rollback to a version never in force (409), to an unknown one (404), and a bad X-Actor (400)', async () => {
    const candidate = shipped.replace(/^version: .*$/m, 'version: never-1');
    const { body } = await call('POST', '/v1/policy/versions', {
      body: candidate,
      type: 'text/yaml',
    });
    const never = await call('POST', '/v1/policy/rollback', {
      body: JSON.stringify({ version: body.version }),
      type: 'application/json',
    });
    expect(never.status).toBe(409);
    expect(never.body.message).toContain('never in force');
    const unknown = await call('POST', '/v1/policy/rollback', {
      body: JSON.stringify({ version: 'nope@12345678' }),
      type: 'application/json',
    });
    expect(unknown.status).toBe(404);
    expect((await call('POST', '/v1/policy/versions/nope@12345678/activate')).status).toBe(404);
    const badActor = await call('POST', '/v1/policy/rollback', { actor: 'x'.repeat(201) });
    expect(badActor.status).toBe(400);
    expect(badActor.body.issues).toEqual([expect.objectContaining({ field: 'header.x-actor' })]);
    expect(await activeOn(rig.url)).toBe(strictVersion);
  });

  it('rolls back to the version in force before, as a new activation, on both replicas', async () => {
    const res = await call('POST', '/v1/policy/rollback', {
      base: secondUrl,
      actor: 'ben@example.com',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      changed: true,
      active: seedVersion,
      activation: {
        kind: 'rollback',
        version: seedVersion,
        previousVersion: strictVersion,
        actor: 'ben@example.com',
      },
    });
    expect(await activeOn(secondUrl)).toBe(seedVersion);
    await waitUntil(
      'the first replica to roll back',
      async () => (await activeOn(rig.url)) === seedVersion,
    );
    expect(await decide(0.95)).toEqual({
      kind: 'aiReplyReleased',
      policyVersion: seedVersion,
      rules: [],
    });
    const { body } = await call('GET', '/v1/policy/versions');
    expect(
      body.activations.map((a: { kind: string; version: string }) => [a.kind, a.version]),
    ).toEqual([
      ['rollback', seedVersion],
      ['activate', strictVersion],
    ]);
  });
});
