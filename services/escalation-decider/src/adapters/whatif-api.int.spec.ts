import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { Topics } from '@support/bus';
import { AccountSchema, create, ReplyKind } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  customerMessageReceived,
  startServiceRig,
  waitUntil,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE, type Config } from '../config';
import { DEFAULT_POLICY_FILE } from '../domain/decide';
import type { WhatIfReport } from '../domain/whatif';
import { AccountDirectory } from './accounts';

jest.setTimeout(60_000);

const KEYS = [`key-${randomUUID()}`, `key-${randomUUID()}`];

describe('escalation-decider: the policy and what-if API', () => {
  const shipped = readFileSync(DEFAULT_POLICY_FILE, 'utf8');
  const shippedVersion = (parseYaml(shipped) as { version: string }).version;
  let config: Config;
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    config = loadConfig(configSchema, {
      ...process.env,
      LOG_LEVEL: 'error',
      LLM_PROVIDER: 'extractive',
      DECIDER_POLICY_FILE: '',
      CRM_LOOKUP_URL: '',
      DECIDER_API_KEYS: KEYS.join(','),
    });
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'escalation-decider-whatif-int-test',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.events],
    });
  });

  afterAll(async () => {
    await rig?.close();
  });

  const call = (
    method: 'GET' | 'POST',
    path: string,
    { key, body, type }: { key?: string; body?: string; type?: string } = {},
  ) =>
    fetch(`${rig.url}${path}`, {
      method,
      headers: {
        ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
        ...(type ? { 'content-type': type } : {}),
      },
      body,
    });
  const whatIf = (body: string, type: string, query = '') =>
    call('POST', `/v1/whatif${query}`, { key: KEYS[0], body, type });

  describe('authentication', () => {
    it.each([
      ['GET', '/v1/policy'],
      ['POST', '/v1/whatif'],
    ] as const)('%s %s answers 401 without a valid API key', async (method, path) => {
      const body = method === 'POST' ? shipped : undefined;
      const type = method === 'POST' ? 'text/yaml' : undefined;
      expect((await call(method, path, { body, type })).status).toBe(401);
      expect((await call(method, path, { key: 'not-a-key', body, type })).status).toBe(401);
      expect((await call(method, path, { key: `${KEYS[0]}x`, body, type })).status).toBe(401);
    });

    it('accepts every configured key', async () => {
      for (const key of KEYS) expect((await call('GET', '/v1/policy', { key })).status).toBe(200);
    });
  });

  it('GET /v1/policy answers the policy in force, as a document and as YAML', async () => {
    const res = await call('GET', '/v1/policy', { key: KEYS[1] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      version: string;
      document: { version: string; rules: { name: string }[] };
      yaml: string;
    };
    // The version decisions carry: the document's own, and a hash of its content.
    expect(body.version).toMatch(new RegExp(`^${shippedVersion}@[0-9a-f]{8}$`));
    expect(body.document.version).toBe(shippedVersion);
    expect(body.document.rules.map((r) => r.name)).toEqual(
      (parseYaml(shipped) as { rules: { name: string }[] }).rules.map((r) => r.name),
    );
    expect(parseYaml(body.yaml)).toEqual(body.document);
  });

  describe('POST /v1/whatif refuses bad input with 400 naming the field', () => {
    const issuesOf = async (res: Response) => {
      expect(res.status).toBe(400);
      return (await res.json()) as { error: string; issues: { field: string; message: string }[] };
    };

    it('a missing policy', async () => {
      for (const res of [
        await call('POST', '/v1/whatif', { key: KEYS[0] }),
        await whatIf('', 'text/yaml'),
        await whatIf('{}', 'application/json'),
      ]) {
        const body = await issuesOf(res);
        expect(body.error).toBe('validation_failed');
        expect(body.issues).toEqual([
          expect.objectContaining({ field: 'body', message: expect.stringMatching(/required/) }),
        ]);
      }
    });

    it('a document that is not YAML', async () => {
      const body = await issuesOf(await whatIf('rules: [', 'text/yaml'));
      expect(body.error).toBe('invalid_policy');
      expect(body.issues).toEqual([
        expect.objectContaining({
          field: '(document)',
          rule: 'syntax',
          message: expect.stringContaining('not valid YAML or JSON'),
        }),
      ]);
    });

    it('a policy that does not validate', async () => {
      const noVersion = await issuesOf(
        await whatIf(shipped.replace(/^version: .*$/m, ''), 'text/plain'),
      );
      expect(noVersion.issues).toEqual([expect.objectContaining({ field: 'version' })]);
      const unknownThreshold = await issuesOf(
        await whatIf(
          shipped.replace('{ threshold: vipMinConfidence }', '{ threshold: noSuchThreshold }'),
          'text/yaml',
        ),
      );
      expect(unknownThreshold.error).toBe('invalid_policy');
      // The rule by its name, and the field in it.
      expect(unknownThreshold.issues).toEqual([
        expect.objectContaining({
          field: 'rules[vip_account].when.all[1].value',
          rule: 'unknown_threshold',
          policyRule: 'vip_account',
          message: expect.stringContaining('unknown threshold "noSuchThreshold"'),
        }),
      ]);
    });

    it('a window that is not a time, or an unknown parameter', async () => {
      const badFrom = await issuesOf(await whatIf(shipped, 'text/yaml', '?from=yesterday'));
      expect(badFrom.error).toBe('validation_failed');
      expect(badFrom.issues).toEqual([
        expect.objectContaining({
          field: 'query.from',
          message: expect.stringContaining('RFC 3339'),
        }),
      ]);
      const badTo = await issuesOf(
        await whatIf(shipped, 'text/yaml', '?from=2026-01-01T00:00:00Z&to=soon'),
      );
      expect(badTo.issues.map((i) => i.field)).toEqual(['query.to']);
      const unknown = await issuesOf(await whatIf(shipped, 'text/yaml', '?since=2026-01-01'));
      expect(unknown.issues).toEqual([
        expect.objectContaining({
          field: 'query.since',
          message: expect.stringContaining('since'),
        }),
      ]);
    });
  });

  describe('POST /v1/whatif replays the recorded conversations', () => {
    let from: string;
    let to: string;
    /** Conversation ids by what happened to them. */
    const ids = { released92: '', released99: '', handedOff: '', vip: '' };
    const messageOf: Record<string, string> = {};

    /** A customer message with a proposal at `confidence` and a neutral score; resolves with the decision. */
    const converse = async (confidence: number, accountId = '') => {
      const conversationId = randomUUID();
      const messageId = randomUUID();
      messageOf[conversationId] = messageId;
      await rig.append(
        customerMessageReceived(conversationId, {
          messageId,
          text: 'Where do I change my billing address?',
          accountId,
        }),
      );
      await rig.append(
        conversationEvent(conversationId, `proposal-${messageId}`, 'aiReplyProposed', {
          messageId,
          replyId: `reply-${messageId}`,
          text: 'Settings, then Billing, then Address.',
          confidence,
          intent: 'billing',
          kind: ReplyKind.ANSWER,
          requiredSkills: ['billing'],
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
      const [decision] = await rig.watcher.waitFor(
        Topics.events,
        (r) =>
          r.value.conversationId === conversationId &&
          (r.value.payload.case === 'aiReplyReleased' ||
            r.value.payload.case === 'handoffRequested'),
      );
      return { conversationId, decided: decision.value.payload.case };
    };

    beforeAll(async () => {
      from = new Date().toISOString();
      // A VIP account, as the CRM connector publishes it.
      const accountId = `acct-${randomUUID()}`;
      await rig.bus.publish({
        topic: Topics.accounts,
        key: accountId,
        value: create(AccountSchema, {
          accountId,
          name: 'Big Client',
          tier: 'enterprise',
          vip: true,
        }),
      });
      const redis = new Redis(config.REDIS_URL);
      try {
        await waitUntil(
          'the account in Redis',
          async () => (await redis.exists(AccountDirectory.key(accountId))) === 1,
        );
      } finally {
        await redis.quit();
      }

      const a = await converse(0.92);
      const b = await converse(0.99);
      const c = await converse(0.2);
      const d = await converse(0.93, accountId);
      expect([a.decided, b.decided, c.decided, d.decided]).toEqual([
        'aiReplyReleased',
        'aiReplyReleased',
        'handoffRequested',
        'handoffRequested',
      ]);
      Object.assign(ids, {
        released92: a.conversationId,
        released99: b.conversationId,
        handedOff: c.conversationId,
        vip: d.conversationId,
      });
      to = new Date(Date.now() + 1).toISOString();
    });

    const strict = shipped
      .replace(/minConfidence: [0-9.]+/, 'minConfidence: 0.95')
      // No review band: answers under the stricter threshold are handed off.
      .replace(/reviewMinConfidence: [0-9.]+/, 'reviewMinConfidence: 0.95')
      .replace(/^version: .*$/m, 'version: strict-1');

    const report = async (res: Response): Promise<WhatIfReport> => {
      expect(res.status).toBe(200);
      return (await res.json()) as WhatIfReport;
    };

    it.each(['text/yaml', 'text/plain'])(
      'a stricter candidate (%s) hands off the 0.92 answer that was released',
      async (type) => {
        const r = await report(await whatIf(strict, type, `?from=${from}&to=${to}`));
        expect(r.candidateVersion).toMatch(/^strict-1@/);
        expect(r.window).toEqual({ from, to });
        expect(r.conversations).toBe(4);
        expect(r.decisions).toBe(4);
        expect(r.recorded).toMatchObject({
          handoffs: 2,
          conversationsHandedOff: 2,
          handoffRate: 0.5,
          rules: { low_confidence: 1, vip_account: 1 },
        });
        expect(r.candidate).toMatchObject({
          handoffs: 3,
          conversationsHandedOff: 3,
          handoffRate: 0.75,
          rules: { low_confidence: 3, vip_account: 1 },
        });
        expect(r.changed).toEqual([
          expect.objectContaining({
            conversationId: ids.released92,
            messageId: messageOf[ids.released92],
            recorded: 'release',
            recordedRules: [],
            candidate: 'handoff',
            candidateRules: ['low_confidence'],
          }),
        ]);
        expect(r.flipped).toEqual({ toHuman: [ids.released92], toAi: [] });
      },
    );

    it('a candidate sent as a JSON object replays with the account the recorded decision saw', async () => {
      // VIPs need only the ordinary threshold: the recorded VIP handoff would have been released.
      const lenient = parseYaml(shipped) as {
        version: string;
        thresholds: Record<string, number>;
      };
      lenient.version = 'vip-lenient-1';
      lenient.thresholds.vipMinConfidence = 0.9;
      const r = await report(
        await whatIf(JSON.stringify(lenient), 'application/json', `?from=${from}&to=${to}`),
      );
      expect(r.candidateVersion).toMatch(/^vip-lenient-1@/);
      expect(r.changed).toEqual([
        expect.objectContaining({
          conversationId: ids.vip,
          recorded: 'handoff',
          recordedRules: ['vip_account'],
          candidate: 'release',
        }),
      ]);
      expect(r.flipped).toEqual({ toHuman: [], toAi: [ids.vip] });
    });

    it('counts only conversations that started within the window', async () => {
      const r = await report(await whatIf(strict, 'text/yaml', `?from=${to}`));
      expect(r.conversations).toBe(0);
      expect(r.decisions).toBe(0);
      expect(r.changed).toEqual([]);
      // The whole log: ours are among the changes.
      const all = await report(await whatIf(strict, 'text/yaml'));
      expect(all.changed.map((c) => c.conversationId)).toContain(ids.released92);
      expect(all.flipped.toHuman).toContain(ids.released92);
    });
  });
});
