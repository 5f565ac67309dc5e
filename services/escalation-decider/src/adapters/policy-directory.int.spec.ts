import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { Bus, Topics } from '@support/bus';
import { create, DirectoryVocabularySchema } from '@support/contracts';
import { apiKeyActor, createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { startServiceRig, waitUntil, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DEFAULT_POLICY_FILE } from '../domain/decide';
import { parsePolicy, type PolicyDocument } from '../domain/policy';
import { DirectoryVocabularyStore } from './directory';

jest.setTimeout(120_000);

const KEY = `key-${randomUUID()}`;
const POLICY_SET = `itest-${randomUUID().slice(0, 8)}`;
const ACTOR = 'ana@example.com';

/** The router's vocabulary: with or without the Disputes team (both cover every skill the shipped policy names). */
function vocabulary(withDisputes: boolean) {
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
      ...(withDisputes ? [{ name: 'Disputes', skills: ['billing'] }] : []),
      { name: 'Support', skills: ['general', 'account'] },
      { name: 'Technical', skills: ['technical'] },
      { name: 'Account Management', skills: ['account_management', 'contracts'] },
      { name: 'Legal', skills: ['legal', 'contracts'] },
    ],
    skills: skills.map((name) => ({ name })),
    publishedAt: new Date().toISOString(),
  });
}

interface Issue {
  field: string;
  rule: string;
  policyRule?: string;
  message: string;
}
interface Answer {
  error?: string;
  message: string;
  issues: Issue[];
  version: string;
  active: string;
  changed: boolean;
}

describe('escalation-decider: the policy API checks teams and skills against the directory', () => {
  const shipped = parseYaml(readFileSync(DEFAULT_POLICY_FILE, 'utf8')) as PolicyDocument;
  const seedVersion = parsePolicy(JSON.stringify(shipped)).version;
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
  let publisher: Bus;
  let rig: ServiceRig<INestApplication>;

  /** Publishes a vocabulary as the router does, and waits until the decider has it. */
  async function publish(withDisputes: boolean) {
    await publisher.publish({
      topic: Topics.directoryTeams,
      key: 'vocabulary',
      value: vocabulary(withDisputes),
    });
    const store = rig?.app.get(DirectoryVocabularyStore);
    if (store)
      await waitUntil(
        `the decider to see the vocabulary ${withDisputes ? 'with' : 'without'} Disputes`,
        async () => store.current.teams.some((t) => t.name === 'Disputes') === withDisputes,
      );
  }

  /** The shipped policy, renamed, with the billing_dispute rule changed. */
  function candidate(name: string, billingDispute: { team?: string; skills?: string[] }) {
    return JSON.stringify({
      ...shipped,
      version: name,
      rules: shipped.rules.map((r) =>
        r.name === 'billing_dispute' ? { ...r, ...billingDispute } : r,
      ),
    });
  }

  const call = async (
    method: 'GET' | 'POST',
    path: string,
    { body, actor }: { body?: string; actor?: string } = {},
  ) => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${KEY}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(actor ? { 'x-actor': actor } : {}),
      },
      body,
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Answer };
  };
  const submit = (body: string, actor?: string) =>
    call('POST', '/v1/policy/versions', { body, actor });
  const activate = (version: string) =>
    call('POST', `/v1/policy/versions/${encodeURIComponent(version)}/activate`, { actor: ACTOR });
  const active = async () => (await call('GET', '/v1/policy')).body.version;
  const policyRecords = () =>
    rig.watcher.records(Topics.policyVersions).filter((r) => r.value.policySet === POLICY_SET);
  const auditOfThisSet = () =>
    rig.watcher
      .records(Topics.audit)
      .filter((r) => r.value.resourceType === 'policy' && r.value.resourceId === POLICY_SET)
      .map((r) => ({
        actor: r.value.actor,
        action: r.value.action,
        service: r.value.service,
        version: (JSON.parse(r.value.detailJson) as { version: string }).version,
      }));

  let disputes = '';
  let strict = '';

  beforeAll(async () => {
    publisher = new Bus({
      service: 'decider-policy-directory-itest',
      brokers: config.KAFKA_BROKERS,
    });
    await publisher.ensureTopics();
    await publish(true);
    rig = await startServiceRig({
      name: 'escalation-decider-policy-directory-int-test',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.policyVersions, Topics.audit],
    });
  });

  afterAll(async () => {
    // Leave a vocabulary the shipped policy (and the other suites) pass.
    if (publisher) await publish(true).catch(() => undefined);
    await rig?.close();
    await publisher?.close();
  });

  it('answers a candidate naming an unknown team or skill with 400 invalid_policy, naming the rule; stores nothing', async () => {
    // The directory has been read at start-up: the check applies at once.
    const unknown = await submit(
      candidate('unknown-names-1', { team: 'Payments', skills: ['billing', 'crypto'] }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      error: 'invalid_policy',
      issues: [
        {
          field: 'rules[billing_dispute].team',
          rule: 'unknown_team',
          policyRule: 'billing_dispute',
          message: expect.stringContaining('"Payments"'),
        },
        {
          field: 'rules[billing_dispute].skills[1]',
          rule: 'unknown_skill',
          policyRule: 'billing_dispute',
          message: expect.stringContaining('"crypto"'),
        },
      ],
    });
    const notCovered = await submit(
      candidate('not-covered-1', { team: 'Support', skills: ['billing'] }),
    );
    expect(notCovered.status).toBe(400);
    expect(notCovered.body.issues).toEqual([
      expect.objectContaining({
        field: 'rules[billing_dispute].skills[0]',
        rule: 'skill_not_in_team',
        policyRule: 'billing_dispute',
      }),
    ]);
    // A valid one is stored: the only version record of this policy set is it.
    const valid = await submit(candidate('disputes-1', { team: 'Disputes' }), ACTOR);
    expect(valid.status).toBe(201);
    disputes = valid.body.version;
    await rig.watcher.waitFor(Topics.policyVersions, (r) => r.value.policySet === POLICY_SET);
    expect(
      policyRecords().map((r) => r.value.record.case === 'version' && r.value.record.value.version),
    ).toEqual([disputes]);
  });

  it('re-checks a stored version at activation: 409 with the issues once the directory dropped its team', async () => {
    await publish(false);
    const refused = await activate(disputes);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: 'invalid_policy',
      message: expect.stringContaining(disputes),
      issues: [
        expect.objectContaining({
          field: 'rules[billing_dispute].team',
          rule: 'unknown_team',
          policyRule: 'billing_dispute',
        }),
      ],
    });
    expect(await active()).toBe(seedVersion);
    // Once the team is back, the same version is activated.
    await publish(true);
    const activated = await activate(disputes);
    expect(activated.status).toBe(200);
    expect(activated.body).toMatchObject({ changed: true, active: disputes });
    // The refused activation published nothing: the seed (stored on the first activation) and one activation.
    expect(policyRecords().map((r) => r.value.record.case)).toEqual([
      'version',
      'version',
      'activation',
    ]);
  });

  it('checks a rollback target too: a version in force before that names a dropped team is not rolled back to', async () => {
    const stricter = await submit(candidate('strict-1', {})); // no X-Actor: the key stands for the caller
    strict = stricter.body.version;
    expect((await activate(strict)).body).toMatchObject({ changed: true, active: strict });
    await publish(false);
    const refused = await call('POST', '/v1/policy/rollback', { actor: ACTOR });
    expect(refused.status).toBe(409);
    expect(refused.body.issues).toEqual([
      expect.objectContaining({ field: 'rules[billing_dispute].team', rule: 'unknown_team' }),
    ]);
    expect(await active()).toBe(strict);
    await publish(true);
    const rolledBack = await call('POST', '/v1/policy/rollback', { actor: ACTOR });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body).toMatchObject({ changed: true, active: disputes });
  });

  it('records every submit, activation and rollback on admin.audit, and nothing that was refused', async () => {
    await rig.watcher.waitFor(
      Topics.audit,
      (r) => r.value.resourceId === POLICY_SET && r.value.action === 'policy.rolled_back',
    );
    const service = 'escalation-decider';
    expect(auditOfThisSet()).toEqual([
      { actor: ACTOR, action: 'policy.submitted', service, version: disputes },
      { actor: ACTOR, action: 'policy.activated', service, version: disputes },
      { actor: apiKeyActor(`Bearer ${KEY}`), action: 'policy.submitted', service, version: strict },
      { actor: ACTOR, action: 'policy.activated', service, version: strict },
      { actor: ACTOR, action: 'policy.rolled_back', service, version: disputes },
    ]);
    const [activation] = rig.watcher
      .records(Topics.audit)
      .filter((r) => r.value.resourceId === POLICY_SET && r.value.action === 'policy.activated');
    expect(JSON.parse(activation!.value.detailJson)).toEqual({
      version: disputes,
      previous: seedVersion,
      activationId: expect.any(String),
      via: apiKeyActor(`Bearer ${KEY}`),
    });
  });
});
