import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Topics } from '@support/bus';
import { ReplyKind } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { apiKeyActor, createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { customerMessageReceived, startServiceRig, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';

jest.setTimeout(90_000);

const KEY = `key-${randomUUID()}`;
const run = randomUUID().slice(0, 8);

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

describe('escalation-decider: CRM accounts over HTTP', () => {
  const config = loadConfig(configSchema, {
    ...process.env,
    LOG_LEVEL: 'error',
    LLM_PROVIDER: 'extractive',
    DECIDER_POLICY_FILE: '',
    CRM_LOOKUP_URL: '',
    DECIDER_API_KEYS: KEY,
  });
  const logger = new JsonLogger(SERVICE, 'error');
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    rig = await startServiceRig({
      name: 'escalation-decider-accounts-api-int-test',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.events, Topics.accounts, Topics.audit],
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  const call = async (
    method: 'GET' | 'PUT' | 'DELETE',
    id: string,
    { key = KEY, body, actor }: { key?: string | null; body?: unknown; actor?: string } = {},
  ) => {
    const res = await fetch(`${rig.url}/v1/accounts/${encodeURIComponent(id)}`, {
      method,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(actor ? { 'x-actor': actor } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Answer };
  };
  const recordsOf = (id: string) =>
    rig.watcher.records(Topics.accounts).filter((r) => r.key === id);
  const auditOf = (id: string) =>
    rig.watcher
      .records(Topics.audit)
      .filter((r) => r.value.resourceType === 'account' && r.value.resourceId === id)
      .map((r) => ({
        actor: r.value.actor,
        action: r.value.action,
        service: r.value.service,
        detail: JSON.parse(r.value.detailJson) as unknown,
      }));

  /** An unhappy message from the account, answered confidently by the AI: the decision on it. */
  async function decideFor(accountId: string) {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(
      customerMessageReceived(conversationId, { messageId, text: 'Invoices? Sadly.', accountId }),
    );
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
        valence: -0.2,
        label: 'negative',
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
    return p.case === 'handoffRequested' ? p.value.triggers.map((t) => t.rule) : 'released';
  }

  it('refuses every account route without a valid key (401)', async () => {
    for (const method of ['GET', 'PUT', 'DELETE'] as const)
      for (const key of [null, 'nope'])
        expect(
          (await call(method, `acct-${run}`, { key, body: method === 'PUT' ? {} : undefined }))
            .status,
        ).toBe(401);
  });

  it('upserts an account: on crm.accounts, answered once applied, so the next decision uses it', async () => {
    const id = `acct-${run}-risk`;
    expect(await decideFor(id)).toBe('released');
    const res = await call('PUT', id, {
      body: { name: 'Hooli', tier: 'pro', atRisk: true, monthly_value: 120, currency: 'EUR' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      applied: true,
      account: expect.objectContaining({
        accountId: id,
        tier: 'pro',
        atRisk: true,
        monthlyValue: 120,
      }),
    });
    // Applied when answered: the very next decision sees the at-risk flag.
    expect(await decideFor(id)).toEqual(['at_risk_account']);
    const [record] = await rig.watcher.waitFor(Topics.accounts, (r) => r.key === id);
    expect(record.value).toMatchObject({ accountId: id, atRisk: true });
    expect((await call('GET', id)).body).toMatchObject({
      accountId: id,
      name: 'Hooli',
      atRisk: true,
    });
  });

  it('replaces the account on a second PUT (the whole account, not a patch)', async () => {
    const id = `acct-${run}-replace`;
    await call('PUT', id, { body: { name: 'Initech', vip: true, tier: 'enterprise' } });
    expect((await call('PUT', id, { body: { accountId: id, name: 'Initech' } })).status).toBe(200);
    const { body } = await call('GET', id);
    expect(body).toEqual({ accountId: id, name: 'Initech' });
  });

  it('refuses invalid input with 400 naming each field; nothing is published for it', async () => {
    const id = `acct-${run}-bad`;
    const cases: [unknown, string[]][] = [
      [{ tier: 'pro', colour: 'red' }, ['colour']],
      [{ name: 42 }, ['name']],
      [{ accountId: 'someone-else' }, ['accountId']],
      [
        {
          monthlyValue: -5,
          currency: 'euro',
          openInvoices: [{ invoiceId: 'INV-1', amount: 10, status: 'paid', dueDate: 'soon' }],
        },
        ['monthlyValue', 'currency', 'openInvoices[0].status', 'openInvoices[0].dueDate'],
      ],
      [[1, 2], ['(body)']],
    ];
    for (const [body, fields] of cases) {
      const res = await call('PUT', id, { body });
      expect(res.status).toBe(400);
      expect(res.body.issues.map((i: { field: string }) => i.field)).toEqual(fields);
    }
    expect((await call('PUT', 'not an id!', { body: {} })).status).toBe(400);
    expect((await call('GET', 'not an id!')).body.issues).toEqual([
      expect.objectContaining({ field: 'id', rule: 'format' }),
    ]);
    // The first record of this account on the topic is the valid one that follows.
    await call('PUT', id, { body: { name: 'Valid at last' } });
    await rig.watcher.waitFor(Topics.accounts, (r) => r.key === id);
    expect(recordsOf(id).map((r) => r.value.name)).toEqual(['Valid at last']);
  });

  it('deletes an account with a tombstone: 204, then 404, and decisions go without it', async () => {
    const id = `acct-${run}-gone`;
    await call('PUT', id, { body: { name: 'Soon gone', atRisk: true } });
    expect(await decideFor(id)).toEqual(['at_risk_account']);
    const res = await call('DELETE', id);
    expect(res.status).toBe(204);
    expect((await call('GET', id)).status).toBe(404);
    expect(await decideFor(id)).toBe('released');
    // Deleting again is no error.
    expect((await call('DELETE', id)).status).toBe(204);
    expect((await call('GET', `acct-${run}-never`)).status).toBe(404);
  });

  it('records every write on admin.audit: who (X-Actor, else the key), what, and the fields given', async () => {
    const id = `acct-${run}-audited`;
    const bad = await call('PUT', id, { body: { tier: 'pro', colour: 'red' }, actor: 'crm-sync' });
    expect(bad.status).toBe(400);
    expect(
      (await call('PUT', id, { body: { name: 'Umbrella', tier: 'pro' }, actor: 'crm-sync' }))
        .status,
    ).toBe(200);
    expect((await call('DELETE', id)).status).toBe(204);
    await rig.watcher.waitFor(
      Topics.audit,
      (r) => r.value.resourceId === id && r.value.action === 'account.deleted',
    );
    const key = apiKeyActor(`Bearer ${KEY}`);
    const service = 'escalation-decider';
    // The refused write recorded nothing.
    expect(auditOf(id)).toEqual([
      {
        actor: 'crm-sync',
        action: 'account.upserted',
        service,
        detail: { fields: ['name', 'tier'], via: key },
      },
      { actor: key, action: 'account.deleted', service, detail: { via: key } },
    ]);
    const badActor = await call('DELETE', id, { actor: 'x'.repeat(201) });
    expect(badActor.status).toBe(400);
    expect(badActor.body.issues).toEqual([expect.objectContaining({ field: 'header.x-actor' })]);
  });
});
