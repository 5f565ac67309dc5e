/**
 * The decider's integration surface end to end, over HTTP only: an escalation policy submitted,
 * checked with the what-if replay, activated, and the next conversation decided under it (the
 * version on the decision), then rolled back; and a CRM account written over HTTP that changes the
 * next decision. The decider follows a policy set of this file's own (DECIDER_POLICY_SET), so the
 * activation never reaches another test file. Every write is on the desk's audit log.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Topics } from '@support/bus';
import type { AiReplyReleased, HandoffRequested } from '@support/contracts';
import { waitUntil, type TopicWatcher } from '@support/testing';
import {
  API_KEY,
  customerMessage,
  postMessage,
  root,
  startAll,
  url,
  watchTopics,
  type ServiceName,
  type ServiceProcess,
} from './harness';

const run = randomUUID().slice(0, 8);
const testsStarted = new Date().toISOString();
const ACTOR = `e2e-${run}@example.com`;

let procs: Map<ServiceName, ServiceProcess>;
let watcher: TopicWatcher;
const started = new Set<string>();

/** The parts of the decider's answers these tests read. */
interface Answer {
  version: string;
  message: string;
  candidateVersion: string;
  candidate: { rules: Record<string, number> };
  flipped: { toHuman: string[] };
  document: { thresholds: Record<string, number> };
  issues: { field: string; rule: string; policyRule?: string; message: string }[];
  versions: { version: string }[];
  activations: { kind: string; actor: string; version: string }[];
}

type Decision =
  | { case: 'aiReplyReleased'; value: AiReplyReleased }
  | { case: 'handoffRequested'; value: HandoffRequested };

/** A call to a service's API with the e2e key. */
async function api(
  service: ServiceName,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Answer }> {
  const res = await fetch(url(service, path), {
    method,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      ...(typeof body === 'string'
        ? { 'content-type': 'text/yaml' }
        : body === undefined
          ? {}
          : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: typeof body === 'string' || body === undefined ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json: json as Answer };
}

/** One customer message in a new web chat, and the decider's decision on it from the log. */
async function ask(
  text: string,
  extra: Record<string, unknown> = {},
): Promise<Decision & { conversationId: string }> {
  const { status, json } = await postMessage(
    customerMessage(text, {
      externalConversationId: `surface-${run}-${randomUUID().slice(0, 8)}`,
      ...extra,
    }),
  );
  expect(status).toBe(202);
  const conversationId = json.conversationId as string;
  const messageId = json.messageId as string;
  started.add(conversationId);
  const [record] = await watcher.waitFor(
    Topics.events,
    (r) =>
      r.value.conversationId === conversationId &&
      (r.value.payload.case === 'aiReplyReleased' || r.value.payload.case === 'handoffRequested') &&
      r.value.payload.value.messageId === messageId,
  );
  return { ...(record.value.payload as Decision), conversationId };
}

const rulesOf = (d: Decision) =>
  d.case === 'handoffRequested' ? d.value.triggers.map((t) => t.rule) : [];

/** The e2e key as the audit log names it (`api-key:` and 12 hex digits of its SHA-256). */
const KEY_ACTOR = `api-key:${createHash('sha256').update(API_KEY).digest('hex').slice(0, 12)}`;

interface AuditView {
  service: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

/** The desk's audit log (GET /v1/audit) of one resource, newest first, once it holds `count` records. */
async function auditOf(resourceType: string, resourceId: string, count: number) {
  let records: AuditView[] = [];
  const query = new URLSearchParams({ resourceType, resourceId });
  await waitUntil(`${count} audit records of ${resourceType} ${resourceId}`, async () => {
    const res = await api('desk', 'GET', `/v1/audit?${query}`);
    records = (res.json as unknown as { records: AuditView[] }).records ?? [];
    return records.length >= count;
  });
  return records.map(({ service, actor, action, detail }) => ({ service, actor, action, detail }));
}

beforeAll(async () => {
  procs = await startAll({ 'escalation-decider': { DECIDER_POLICY_SET: `e2e-${run}` } });
  watcher = await watchTopics([Topics.events, Topics.handoffRequests]);
}, 240_000);

afterAll(async () => {
  // No conversation of this file stays with an agent of the shared roster.
  for (const id of started)
    await api('ingest', 'POST', `/v1/conversations/${id}/resolve`, {
      resolvedBy: 'e2e-surface',
    }).catch(() => undefined);
  await watcher?.stop();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
});

describe('the integration surface: policy and CRM over HTTP', () => {
  const routine = 'How do I set up SSO?';

  it('an account upserted over HTTP changes the next decision; deleted, it no longer does', async () => {
    const accountId = `e2e-${run}-surface`;
    const unhappy = 'How do I reset my password? Sadly it keeps failing.';
    const before = await ask(unhappy, { accountId });
    expect(before.case).toBe('aiReplyReleased');

    const upsert = await api('escalation-decider', 'PUT', `/v1/accounts/${accountId}`, {
      name: 'Hooli',
      tier: 'pro',
      atRisk: true,
      currency: 'EUR',
    });
    expect(upsert.status).toBe(200);
    expect(upsert.json).toMatchObject({ applied: true, account: { accountId, atRisk: true } });

    const after = await ask(unhappy, { accountId });
    expect(rulesOf(after)).toEqual(['at_risk_account']);
    const handoff = after.value as HandoffRequested;
    expect(handoff.briefing?.account).toMatchObject({ accountId, tier: 'pro', atRisk: true });

    const invalid = await api('escalation-decider', 'PUT', `/v1/accounts/${accountId}`, {
      monthlyValue: -1,
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json.issues).toEqual([expect.objectContaining({ field: 'monthlyValue' })]);

    expect((await api('escalation-decider', 'DELETE', `/v1/accounts/${accountId}`)).status).toBe(
      204,
    );
    expect((await api('escalation-decider', 'GET', `/v1/accounts/${accountId}`)).status).toBe(404);
    expect((await ask(unhappy, { accountId })).case).toBe('aiReplyReleased');

    // Both writes are on the desk's audit log, with the key that made them; the invalid one is not.
    expect(await auditOf('account', accountId, 2)).toEqual([
      expect.objectContaining({
        service: 'escalation-decider',
        actor: KEY_ACTOR,
        action: 'account.deleted',
      }),
      {
        service: 'escalation-decider',
        actor: KEY_ACTOR,
        action: 'account.upserted',
        detail: { fields: ['name', 'tier', 'currency', 'atRisk'], via: KEY_ACTOR },
      },
    ]);
  });

  it('a policy submitted, checked with what-if, activated: the next conversation is decided under it, named on the decision', async () => {
    const seed = await api('escalation-decider', 'GET', '/v1/policy');
    expect(seed.status).toBe(200);
    const seedVersion = seed.json.version as string;

    const released = await ask(routine);
    expect(released.case).toBe('aiReplyReleased');
    expect((released.value as AiReplyReleased).policyVersion).toBe(seedVersion);

    // A policy that fails validation: 400 naming the rule and the field.
    const shipped = readFileSync(
      join(root, 'services', 'escalation-decider', 'policy', 'default.yaml'),
      'utf8',
    );
    const broken = await api(
      'escalation-decider',
      'POST',
      '/v1/policy/versions',
      shipped.replace('value: { threshold: minConfidence }', 'value: { threshold: minConfidance }'),
    );
    expect(broken.status).toBe(400);
    expect(broken.json.issues).toEqual([
      expect.objectContaining({ policyRule: 'low_confidence', rule: 'unknown_threshold' }),
    ]);

    // Every AI answer goes to a person: the routine question would now be handed off.
    const candidate = shipped
      .replace(/^version: .*$/m, `version: e2e-strict-${run}`)
      .replace(/minConfidence: [0-9.]+/, 'minConfidence: 1')
      .replace(/reviewMinConfidence: [0-9.]+/, 'reviewMinConfidence: 1');
    const submitted = await api('escalation-decider', 'POST', '/v1/policy/versions', candidate, {
      'x-actor': ACTOR,
    });
    expect(submitted.status).toBe(201);
    const version = submitted.json.version as string;
    expect(version).toMatch(new RegExp(`^e2e-strict-${run}@[0-9a-f]{8}$`));
    const path = `/v1/policy/versions/${encodeURIComponent(version)}`;

    const whatIf = await api('escalation-decider', 'POST', `${path}/whatif?from=${testsStarted}`);
    expect(whatIf.status).toBe(200);
    expect(whatIf.json.candidateVersion).toBe(version);
    expect(whatIf.json.flipped.toHuman).toContain(released.conversationId);

    const activated = await api(
      'escalation-decider',
      'POST',
      `${path}/activate`,
      { reason: 'e2e' },
      {
        'x-actor': ACTOR,
      },
    );
    expect(activated.status).toBe(200);
    expect(activated.json).toMatchObject({
      changed: true,
      active: version,
      activation: { actor: ACTOR, previousVersion: seedVersion },
    });
    expect((await api('escalation-decider', 'GET', '/v1/policy')).json.version).toBe(version);

    // The next conversation: handed off under the new version, on the log and to the desks.
    const handed = await ask(routine);
    expect(handed.case).toBe('handoffRequested');
    expect(rulesOf(handed)).toContain('low_confidence');
    expect((handed.value as HandoffRequested).policyVersion).toBe(version);
    const [request] = await watcher.waitFor(
      Topics.handoffRequests,
      (r) => r.value.conversationId === handed.conversationId,
    );
    expect(request.value.briefing?.policyVersion).toBe(version);

    // The desk's dashboard shows it (through the desk's analytics proxy, with an agent's session).
    const login = `surface-${run}@desk.example`;
    const password = `pw-${randomBytes(9).toString('hex')}`;
    expect(
      (
        await api('desk', 'PUT', `/v1/logins/${login}`, {
          agentId: `surface-${run}`,
          name: 'Surface Analyst',
          team: 'general',
          password,
        })
      ).status,
    ).toBe(200);
    const session = await fetch(url('desk', '/v1/session'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login, password }),
    });
    expect(session.status).toBe(200);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0];
    const rules = await fetch(url('desk', '/v1/analytics/rules'), { headers: { cookie } });
    expect(rules.status).toBe(200);
    expect(((await rules.json()) as { policyVersion: string }).policyVersion).toBe(version);
    await api('desk', 'DELETE', `/v1/logins/${login}`);

    // Rolled back: the file's version again, as a new activation.
    const rolledBack = await api('escalation-decider', 'POST', '/v1/policy/rollback', undefined, {
      'x-actor': ACTOR,
    });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.json).toMatchObject({
      active: seedVersion,
      activation: { kind: 'rollback' },
    });
    const again = await ask(routine);
    expect(again.case).toBe('aiReplyReleased');
    expect((again.value as AiReplyReleased).policyVersion).toBe(seedVersion);

    const history = await api('escalation-decider', 'GET', '/v1/policy/versions');
    expect(
      history.json.activations.map((a: { kind: string; actor: string }) => [a.kind, a.actor]),
    ).toEqual([
      ['rollback', ACTOR],
      ['activate', ACTOR],
    ]);

    // Who changed the policy, and how, is on the desk's audit log (the failed submit is not).
    const audited = await auditOf('policy', `e2e-${run}`, 3);
    expect(audited.map((a) => [a.service, a.actor, a.action, a.detail.version])).toEqual([
      ['escalation-decider', ACTOR, 'policy.rolled_back', seedVersion],
      ['escalation-decider', ACTOR, 'policy.activated', version],
      ['escalation-decider', ACTOR, 'policy.submitted', version],
    ]);
    expect(audited[1]!.detail).toMatchObject({ previous: seedVersion, reason: 'e2e' });
  });
});
