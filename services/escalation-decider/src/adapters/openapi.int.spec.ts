import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { Topics } from '@support/bus';
import { create, DirectoryVocabularySchema, ReplyKind } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  checkServedOpenApi,
  customerMessageReceived,
  fetchChecked,
  startServiceRig,
  waitUntil,
  type OpenApiDoc,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DEFAULT_POLICY_FILE } from '../domain/decide';
import { parsePolicy, type PolicyDocument } from '../domain/policy';
import { DirectoryVocabularyStore } from './directory';

jest.setTimeout(120_000);

const KEY = `openapi-itest-${randomUUID()}`;
const run = randomUUID().slice(0, 8);
/** A policy set of this run only: no other test (or earlier run) has activated anything in it. */
const POLICY_SET = `oa-${run}`;
/** A team only this run's directory has, for a while. */
const TEAM = `OpenApi-${run}`;

/** The router's vocabulary as the other suites leave it, with this run's team or without. */
function vocabulary(withTeam: boolean) {
  // Every skill the shipped policy names (its routing rules: legal, contracts, account_management).
  const skills = ['general', 'account', 'billing', 'refunds', 'retention', 'technical'].concat([
    'security',
    'legal',
    'contracts',
    'account_management',
  ]);
  return create(DirectoryVocabularySchema, {
    teams: [
      { name: 'Billing', skills: ['billing', 'refunds', 'retention'] },
      { name: 'Disputes', skills: ['billing'] },
      { name: 'Support', skills: ['general', 'account'] },
      { name: 'Technical', skills: ['technical'] },
      { name: 'Account Management', skills: ['account_management', 'contracts'] },
      { name: 'Legal', skills: ['legal', 'contracts'] },
      ...(withTeam ? [{ name: TEAM, skills: ['billing'] }] : []),
    ],
    skills: skills.map((name) => ({ name })),
    publishedAt: new Date().toISOString(),
  });
}

describe("the escalation decider's OpenAPI document against its real answers", () => {
  const shippedYaml = readFileSync(DEFAULT_POLICY_FILE, 'utf8');
  const shipped = parseYaml(shippedYaml) as PolicyDocument;
  const seedVersion = parsePolicy(shippedYaml).version;
  /** Answers under 0.99 go to a person: an answer the shipped policy releases is handed off. */
  const strictYaml = shippedYaml
    .replace(/^version: .*$/m, `version: oa-strict-${run}`)
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
  const startedAt = new Date().toISOString();
  let rig: ServiceRig<INestApplication>;
  let doc: OpenApiDoc;

  /** A call with the key (or `key`, none when null), checked against the document; a string body as `type`. */
  const call = (
    method: string,
    path: string,
    {
      body,
      type,
      actor,
      key = KEY,
    }: { body?: unknown; type?: string; actor?: string; key?: string | null } = {},
  ) =>
    fetchChecked(doc, rig.url, method, path, {
      body,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(type ? { 'content-type': type } : {}),
        ...(actor ? { 'x-actor': actor } : {}),
      },
    });
  const versionPath = (version: string) => `/v1/policy/versions/${encodeURIComponent(version)}`;

  /** Publishes a vocabulary as the router does, and waits until the decider has it. */
  async function publish(withTeam: boolean) {
    await rig.bus.publish({
      topic: Topics.directoryTeams,
      key: 'vocabulary',
      value: vocabulary(withTeam),
    });
    const store = rig.app.get(DirectoryVocabularyStore);
    await waitUntil(
      `the decider to see the vocabulary ${withTeam ? 'with' : 'without'} ${TEAM}`,
      async () => store.current.teams.some((t) => t.name === TEAM) === withTeam,
    );
  }

  /** One calm customer message the AI answers at 0.95: the shipped policy releases the reply. */
  async function released() {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId, text: 'Invoices?' }));
    await rig.append(
      conversationEvent(conversationId, `proposal-${messageId}`, 'aiReplyProposed', {
        messageId,
        replyId: `reply-${messageId}`,
        text: 'Open Settings, then Billing.',
        confidence: 0.95,
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
    await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === conversationId && r.value.payload.case === 'aiReplyReleased',
    );
    return conversationId;
  }

  beforeAll(async () => {
    rig = await startServiceRig({
      name: 'escalation-decider-openapi-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.events],
    });
    doc = await checkServedOpenApi(rig.app, rig.url);
    await publish(true);
  }, 120_000);

  afterAll(async () => {
    // Leave the vocabulary the other suites expect (the shipped policy passes it).
    if (rig) await publish(false).catch(() => undefined);
    await rig?.close();
  });

  it('answers the policy routes as documented', async () => {
    const current = await call('GET', '/v1/policy');
    expect(current.body).toEqual(
      expect.objectContaining({ version: seedVersion, policySet: POLICY_SET, activation: null }),
    );
    expect((await call('GET', '/v1/policy/versions')).body.versions).toHaveLength(1);

    // Candidates: refused ones, a stored one (201), the same again (200).
    const badThreshold = await call('POST', '/v1/policy/versions', {
      body: strictYaml.replace('{ threshold: vipMinConfidence }', '{ threshold: noSuchThreshold }'),
      type: 'text/yaml',
    });
    expect([badThreshold.status, badThreshold.body.error]).toEqual([400, 'invalid_policy']);
    expect(badThreshold.body.issues[0]).toEqual(
      expect.objectContaining({ rule: 'unknown_threshold', policyRule: 'vip_account' }),
    );
    const empty = await call('POST', '/v1/policy/versions', { body: '', type: 'text/yaml' });
    expect([empty.status, empty.body.error]).toEqual([400, 'validation_failed']);
    const stored = await call('POST', '/v1/policy/versions', {
      body: strictYaml,
      type: 'text/yaml',
      actor: 'olga@example.com',
    });
    expect(stored.status).toBe(201);
    expect(stored.headers.get('location')).toBe(versionPath(strictVersion));
    const again = await call('POST', '/v1/policy/versions', { body: parseYaml(strictYaml) });
    expect([again.status, again.body.created]).toEqual([200, false]);
    const one = await call('GET', versionPath(strictVersion));
    expect(one.body).toEqual(expect.objectContaining({ status: 'candidate', source: strictYaml }));
    expect((await call('GET', versionPath('nope@12345678'))).status).toBe(404);

    // What-if under the stored candidate and under one in the body.
    await released();
    const window = `?from=${encodeURIComponent(startedAt)}`;
    const replay = await call('POST', `${versionPath(strictVersion)}/whatif${window}`);
    expect(replay.body.changed).toContainEqual(
      expect.objectContaining({ recorded: 'release', candidate: 'handoff' }),
    );
    expect((await call('POST', `${versionPath(strictVersion)}/whatif?from=yesterday`)).status).toBe(
      400,
    );
    expect((await call('POST', `${versionPath('nope@12345678')}/whatif`)).status).toBe(404);
    const inBody = await call('POST', `/v1/whatif${window}`, {
      body: strictYaml,
      type: 'text/yaml',
    });
    expect(inBody.body.candidateVersion).toBe(strictVersion);
    expect(
      (await call('POST', '/v1/whatif', { body: { ...shipped, joinTimeoutMs: -1 } })).status,
    ).toBe(400);

    // Activations and rollbacks.
    const nothingYet = await call('POST', '/v1/policy/rollback');
    expect(nothingYet.status).toBe(409);
    const activate = (version: string, body?: unknown) =>
      call('POST', `${versionPath(version)}/activate`, { body, actor: 'olga@example.com' });
    expect((await activate(strictVersion, { reason: 42 })).status).toBe(400);
    expect(
      (
        await call('POST', `${versionPath(strictVersion)}/activate`, {
          actor: 'x'.repeat(201),
        })
      ).status,
    ).toBe(400);
    const activated = await activate(strictVersion, { reason: 'fewer wrong answers' });
    expect(activated.body).toEqual(
      expect.objectContaining({ changed: true, active: strictVersion }),
    );
    expect((await activate(strictVersion)).body).toEqual({ changed: false, active: strictVersion });
    expect((await activate('nope@12345678')).status).toBe(404);
    expect((await call('GET', '/v1/policy')).body.activation.version).toBe(strictVersion);
    expect((await call('GET', '/v1/policy/versions')).body.activations).toHaveLength(1);
    expect(
      (await call('POST', '/v1/policy/rollback', { body: { version: 'nope@12345678' } })).status,
    ).toBe(404);
    const rolledBack = await call('POST', '/v1/policy/rollback', {
      body: { reason: 'too strict' },
    });
    expect(rolledBack.body).toEqual(
      expect.objectContaining({ changed: true, active: seedVersion }),
    );

    // A candidate for this run's team; the directory drops the team; activating it is refused.
    const teamPolicy = {
      ...shipped,
      version: `oa-team-${run}`,
      rules: shipped.rules.map((r) => (r.name === 'billing_dispute' ? { ...r, team: TEAM } : r)),
    };
    const forTeam = await call('POST', '/v1/policy/versions', { body: teamPolicy });
    expect(forTeam.status).toBe(201);
    const neverActive = await call('POST', '/v1/policy/rollback', {
      body: { version: forTeam.body.version },
    });
    expect(neverActive.status).toBe(409);
    await publish(false);
    const refused = await activate(forTeam.body.version);
    expect([refused.status, refused.body.error]).toEqual([409, 'invalid_policy']);
    const unknownTeam = await call('POST', '/v1/policy/versions', {
      body: { ...teamPolicy, version: `oa-team-again-${run}` },
    });
    expect(unknownTeam.body.issues).toEqual([
      expect.objectContaining({ rule: 'unknown_team', policyRule: 'billing_dispute' }),
    ]);
  });

  it('answers the account routes as documented', async () => {
    const id = `oa-acct-${run}`;
    const account = {
      name: 'Helios Freight GmbH',
      tier: 'enterprise',
      monthlyValue: 4800,
      currency: 'EUR',
      vip: true,
      openInvoices: [
        {
          invoiceId: 'INV-1',
          amount: 1250,
          currency: 'EUR',
          status: 'disputed',
          dueDate: '2026-11-30',
        },
      ],
      openIncidents: [{ incidentId: 'INC-1', title: 'Slow imports', severity: 'major' }],
      sla: 'premium',
      slaFirstResponseMinutes: 60,
      updatedAt: '2026-11-20T09:00:00Z',
    };
    const path = `/v1/accounts/${id}`;
    expect((await call('GET', path)).status).toBe(404);
    const written = await call('PUT', path, { body: account, actor: 'crm-sync' });
    expect(written.status).toBe(200);
    expect(written.body.account).toEqual({ accountId: id, ...account });
    expect((await call('GET', path)).body).toEqual({ accountId: id, ...account });
    const invalid = await call('PUT', path, {
      body: { ...account, accountId: 'other', currency: 'euro', colour: 'blue' },
    });
    expect(invalid.status).toBe(400);
    expect(
      (
        await call('PUT', path, { body: { ...account, monthlyValue: -1, currency: 'euro' } })
      ).body.issues.map((i: { field: string }) => i.field),
    ).toEqual(['monthlyValue', 'currency']);
    expect((await call('GET', '/v1/accounts/-bad')).status).toBe(400);
    expect((await call('DELETE', path)).status).toBe(204);
    expect((await call('GET', path)).status).toBe(404);
  });

  it('answers the documented 401 without a valid key', async () => {
    for (const [method, path] of [
      ['GET', '/v1/policy'],
      ['GET', '/v1/policy/versions'],
      ['POST', '/v1/policy/versions'],
      ['GET', versionPath(seedVersion)],
      ['POST', `${versionPath(seedVersion)}/whatif`],
      ['POST', `${versionPath(seedVersion)}/activate`],
      ['POST', '/v1/policy/rollback'],
      ['POST', '/v1/whatif'],
      ['GET', '/v1/accounts/acct-1'],
      ['PUT', '/v1/accounts/acct-1'],
      ['DELETE', '/v1/accounts/acct-1'],
    ])
      expect([method, path, (await call(method!, path!, { key: null })).status]).toEqual([
        method,
        path,
        401,
      ]);
  });
});
