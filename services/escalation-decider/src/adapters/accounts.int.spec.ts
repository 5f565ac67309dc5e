import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Partitioners } from 'kafkajs';
import { DeadLetterTopics, Topics } from '@support/bus';
import {
  AccountSchema,
  create,
  fromBinary,
  OutboundKind,
  Priority,
  ReplyKind,
  toJson,
  type Account,
  type MessageInitShape,
} from '@support/contracts';
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
import { loadDefaultPolicy } from '../domain/decide';
import { AccountDirectory } from './accounts';

jest.setTimeout(60_000);

/** What the fake CRM does for one account id: answer (after `delayMs`), or never answer. */
type CrmReply = { status: number; body?: unknown; delayMs?: number } | { hang: true };

interface CrmRequest {
  /** The raw path, as the decider encoded it. */
  path: string;
  accountId: string;
  authorization?: string;
  accept?: string;
}

/**
 * A stand-in for the external CRM's account lookup, GET /api/accounts/<id>,
 * over real HTTP. Unknown ids answer 404. It records every request.
 */
class FakeCrm {
  readonly requests: CrmRequest[] = [];
  private readonly answers = new Map<string, CrmReply>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server = createServer((req, res) => this.handle(req, res));

  private constructor() {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(): Promise<FakeCrm> {
    const crm = new FakeCrm();
    await new Promise<void>((resolve, reject) => {
      crm.server.once('error', reject);
      crm.server.listen(0, '127.0.0.1', () => resolve());
    });
    return crm;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  answer(accountId: string, reply: CrmReply): void {
    this.answers.set(accountId, reply);
  }

  requestsFor(accountId: string): CrmRequest[] {
    return this.requests.filter((r) => r.accountId === accountId);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '';
    const match = /^\/api\/accounts\/([^/?]+)$/.exec(path);
    const accountId = match ? decodeURIComponent(match[1]) : '';
    this.requests.push({
      path,
      accountId,
      authorization: req.headers.authorization,
      accept: req.headers.accept,
    });
    const reply: CrmReply = (match && this.answers.get(accountId)) || {
      status: 404,
      body: { error: 'not found' },
    };
    if ('hang' in reply) return;
    const send = () => {
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(text);
    };
    if (!reply.delayMs) return send();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!res.destroyed) send();
    }, reply.delayMs);
    this.timers.add(timer);
  }
}

type AccountInit = Omit<MessageInitShape<typeof AccountSchema>, '$typeName'>;

const accountDlq = DeadLetterTopics.find((t) => t.name === Topics.accounts.deadLetter)!;

describe('escalation-decider: accounts from crm.accounts and the CRM lookup', () => {
  const TOKEN = `crm-token-${randomUUID()}`;
  let crm: FakeCrm;
  let config: Config;
  let rig: ServiceRig<INestApplication>;
  let redis: Redis;
  let directory: AccountDirectory;

  beforeAll(async () => {
    crm = await FakeCrm.start();
    config = loadConfig(configSchema, {
      ...process.env,
      LOG_LEVEL: 'error',
      LLM_PROVIDER: 'extractive',
      DECIDER_POLICY_FILE: '',
      CRM_LOOKUP_URL: `${crm.origin}/api/accounts/{accountId}`,
      CRM_LOOKUP_TOKEN: TOKEN,
      CRM_LOOKUP_TIMEOUT_MS: '300',
      CRM_CACHE_TTL_S: '300',
      CRM_NEGATIVE_TTL_S: '1',
    });
    const logger = new JsonLogger(SERVICE, 'error');
    rig = await startServiceRig({
      name: 'escalation-decider-accounts-int-test',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.events, Topics.outbound, Topics.handoffRequests, accountDlq],
    });
    directory = rig.app.get(AccountDirectory);
    redis = new Redis(config.REDIS_URL);
  });

  afterAll(async () => {
    await rig?.close();
    await redis?.quit();
    await crm?.close();
  });

  const key = (accountId: string) => AccountDirectory.key(accountId);
  const stored = async (accountId: string): Promise<Account | undefined> => {
    const bytes = await redis.getBuffer(key(accountId));
    return bytes ? fromBinary(AccountSchema, bytes) : undefined;
  };
  const publishAccount = (recordKey: string, account: AccountInit) =>
    rig.bus.publish({
      topic: Topics.accounts,
      key: recordKey,
      value: create(AccountSchema, account),
    });
  /** A tombstone, as a CRM connector deletes an account from the compacted topic. */
  const publishTombstone = async (recordKey: string) => {
    // The bus's partitioner, so that the tombstone lands in its account's partition.
    const producer = rig.bus.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await producer.send({
        topic: Topics.accounts.name,
        acks: -1,
        messages: [{ key: recordKey, value: null }],
      });
    } finally {
      await producer.disconnect();
    }
  };
  const enterpriseVip = (accountId: string): AccountInit => ({
    accountId,
    name: 'Acme Industries',
    tier: 'enterprise',
    plan: 'Enterprise annual',
    monthlyValue: 4200,
    currency: 'EUR',
    vip: true,
    owner: 'Maria Rossi <maria@example.com>',
    updatedAt: new Date().toISOString(),
  });

  describe('the crm.accounts topic', () => {
    it('stores a published account in Redis as protobuf, answers it without asking the CRM, and a tombstone removes it', async () => {
      const accountId = `acct-${randomUUID()}`;
      await publishAccount(accountId, {
        ...enterpriseVip(accountId),
        openInvoices: [{ invoiceId: 'INV-7', amount: 640, currency: 'EUR', status: 'disputed' }],
      });
      await waitUntil(
        'the account in Redis',
        async () => (await redis.exists(key(accountId))) === 1,
      );
      const copy = await stored(accountId);
      expect(copy).toMatchObject({
        accountId,
        name: 'Acme Industries',
        tier: 'enterprise',
        vip: true,
        monthlyValue: 4200,
      });
      expect(copy?.openInvoices[0]).toMatchObject({ invoiceId: 'INV-7', amount: 640 });
      // The topic's copy does not expire, unlike a looked-up one.
      expect(await redis.ttl(key(accountId))).toBe(-1);

      const answer = await directory.get(accountId);
      expect(answer.lookup).toBe('found');
      expect(answer.account).toMatchObject({ accountId, name: 'Acme Industries', vip: true });
      expect(crm.requestsFor(accountId)).toHaveLength(0);

      await publishTombstone(accountId);
      await waitUntil('the tombstone to remove the account', async () => {
        return (await redis.exists(key(accountId))) === 0;
      });
      // Gone from the topic, so the CRM is asked (and it does not know the account either).
      expect(await directory.get(accountId)).toEqual({ lookup: 'unknown' });
      expect(crm.requestsFor(accountId)).toHaveLength(1);
    });

    it('stores a record under its account_id when its key names another id', async () => {
      const accountId = `acct-${randomUUID()}`;
      const otherKey = `legacy-${randomUUID()}`;
      await publishAccount(otherKey, { accountId, name: 'Keyed Elsewhere Ltd', tier: 'pro' });
      await waitUntil(
        'the account in Redis',
        async () => (await redis.exists(key(accountId))) === 1,
      );
      expect((await stored(accountId))?.name).toBe('Keyed Elsewhere Ltd');
      expect(await redis.exists(key(otherKey))).toBe(0);
    });

    it('dead-letters a record without account_id to crm.accounts.dlq and stores nothing', async () => {
      const recordKey = `no-id-${randomUUID()}`;
      await publishAccount(recordKey, { name: 'Nameless', tier: 'enterprise', vip: true });
      const [letter] = await rig.watcher.waitFor(accountDlq, (r) => r.key === recordKey);
      expect(letter.value.originalTopic).toBe(Topics.accounts.name);
      expect(letter.value.reason).toContain('account_id is required');
      expect(letter.value.consumerGroup).toBe(`${SERVICE}.accounts`);
      expect(fromBinary(AccountSchema, letter.value.originalValue).name).toBe('Nameless');
      expect(await redis.exists(key(recordKey))).toBe(0);
      expect(await redis.exists(key(''))).toBe(0);
    });

    it('reads the accounts again from the topic when Redis loses them, with no manual step', async () => {
      const accountId = `acct-${randomUUID()}`;
      await publishAccount(accountId, enterpriseVip(accountId));
      await waitUntil(
        'the account in Redis',
        async () => (await redis.exists(key(accountId))) === 1,
      );
      // Redis loses what the directory kept.
      await redis.del(key(accountId), AccountDirectory.LOADED);
      await waitUntil(
        'the account read again from crm.accounts',
        async () => (await directory.get(accountId)).lookup === 'found',
      );
      expect((await directory.get(accountId)).account).toMatchObject({
        accountId,
        name: 'Acme Industries',
        vip: true,
      });
      expect(await redis.exists(AccountDirectory.LOADED)).toBe(1);
    });

    it('replaces a cached "unknown" once the topic brings the account', async () => {
      const accountId = `acct-${randomUUID()}`;
      expect(await directory.get(accountId)).toEqual({ lookup: 'unknown' });
      await publishAccount(accountId, { accountId, name: 'Newly Signed', tier: 'business' });
      await waitUntil(
        'the topic to replace the cached not-found',
        async () => (await directory.get(accountId)).lookup === 'found',
      );
      // The CRM still answers 404 for it: only the topic's record can be this answer.
      expect((await directory.get(accountId)).account?.name).toBe('Newly Signed');
    });
  });

  describe('the CRM lookup', () => {
    it('asks the CRM with the bearer token for an account the topic has not brought, and caches the answer', async () => {
      // An id that needs encoding in a URL path.
      const accountId = `acct/${randomUUID()} eu`;
      crm.answer(accountId, {
        status: 200,
        body: {
          ...(toJson(AccountSchema, create(AccountSchema, enterpriseVip(accountId))) as object),
          someFieldTheCrmAdded: 'ignored',
        },
      });
      const answer = await directory.get(accountId);
      expect(answer.lookup).toBe('found');
      expect(answer.account).toMatchObject({
        accountId,
        name: 'Acme Industries',
        tier: 'enterprise',
        vip: true,
        monthlyValue: 4200,
      });
      const [request] = crm.requestsFor(accountId);
      expect(request.path).toBe(`/api/accounts/${encodeURIComponent(accountId)}`);
      expect(request.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.accept).toBe('application/json');

      // Cached in Redis, for CRM_CACHE_TTL_S: a second lookup does not ask again.
      expect((await stored(accountId))?.name).toBe('Acme Industries');
      const ttl = await redis.ttl(key(accountId));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
      expect(await directory.get(accountId)).toMatchObject({
        lookup: 'found',
        account: { name: 'Acme Industries' },
      });
      expect(crm.requestsFor(accountId)).toHaveLength(1);
    });

    it('fills in the account id when the CRM answer leaves it out', async () => {
      const accountId = `acct-${randomUUID()}`;
      crm.answer(accountId, { status: 200, body: { name: 'No Id Inc', tier: 'pro' } });
      const answer = await directory.get(accountId);
      expect(answer).toMatchObject({ lookup: 'found', account: { accountId, name: 'No Id Inc' } });
      expect((await stored(accountId))?.accountId).toBe(accountId);
    });

    it('shares one CRM request among concurrent lookups of one account', async () => {
      const accountId = `acct-${randomUUID()}`;
      crm.answer(accountId, { status: 200, body: { accountId, name: 'Busy Co' }, delayMs: 150 });
      const answers = await Promise.all(Array.from({ length: 5 }, () => directory.get(accountId)));
      for (const a of answers)
        expect(a).toMatchObject({ lookup: 'found', account: { name: 'Busy Co' } });
      expect(crm.requestsFor(accountId)).toHaveLength(1);
    });

    it('caches "unknown" for a 404 for CRM_NEGATIVE_TTL_S, then asks again', async () => {
      const accountId = `acct-${randomUUID()}`;
      expect(await directory.get(accountId)).toEqual({ lookup: 'unknown' });
      expect(await directory.get(accountId)).toEqual({ lookup: 'unknown' });
      expect(crm.requestsFor(accountId)).toHaveLength(1);
      const ttl = await redis.ttl(key(accountId));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1);

      // Once the negative answer expires, the CRM is asked again (and now knows the account).
      await waitUntil('the negative cache to expire', async () => {
        return (await redis.exists(key(accountId))) === 0;
      });
      crm.answer(accountId, { status: 200, body: { accountId, name: 'Late Signup' } });
      expect(await directory.get(accountId)).toMatchObject({
        lookup: 'found',
        account: { name: 'Late Signup' },
      });
      expect(crm.requestsFor(accountId)).toHaveLength(2);
    });

    it.each<[string, CrmReply]>([
      ['answers 500', { status: 500, body: { error: 'boom' } }],
      ['answers something that is not an Account', { status: 200, body: { vip: 'very' } }],
      ['answers no JSON', { status: 200, body: '<html>maintenance</html>' }],
      ['does not answer within CRM_LOOKUP_TIMEOUT_MS', { hang: true }],
    ])(
      'answers "unavailable" without throwing when the CRM %s, and caches nothing',
      async (_, reply) => {
        const accountId = `acct-${randomUUID()}`;
        crm.answer(accountId, reply);
        await expect(directory.get(accountId)).resolves.toEqual({ lookup: 'unavailable' });
        expect(await redis.exists(key(accountId))).toBe(0);
        // Not cached: the next lookup asks again.
        await expect(directory.get(accountId)).resolves.toEqual({ lookup: 'unavailable' });
        expect(crm.requestsFor(accountId)).toHaveLength(2);
      },
    );

    it('answers "none" for a conversation without an account id, asking nobody', async () => {
      const before = crm.requests.length;
      expect(await directory.get('')).toEqual({ lookup: 'none' });
      expect(crm.requests.length).toBe(before);
    });
  });

  describe('decisions with the account', () => {
    const policyVersion = loadDefaultPolicy().version;
    const PAGE = 'https://app.example.com/settings/billing/invoices?tab=open';

    /** A customer asks, the AI proposes a confident answer, the message is scored: the decider decides. */
    const converse = async (accountId: string, confidence: number) => {
      const conversationId = randomUUID();
      const messageId = randomUUID();
      await rig.append(
        customerMessageReceived(conversationId, {
          messageId,
          text: "How do I download last month's invoice?",
          accountId,
          pageUrl: PAGE,
        }),
      );
      await rig.append(
        conversationEvent(conversationId, `proposal-${messageId}`, 'aiReplyProposed', {
          messageId,
          replyId: `reply-${messageId}`,
          text: 'Open Settings, then Billing, then Invoices.',
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
      const outbound = rig.watcher
        .records(Topics.outbound)
        .filter((r) => r.value.conversationId === conversationId);
      return { conversationId, messageId, decision: decision.value.payload, outbound };
    };

    it('hands a VIP enterprise account that crm.accounts brought to a person, at high priority, although the AI is confident', async () => {
      const accountId = `acct-${randomUUID()}`;
      await publishAccount(accountId, enterpriseVip(accountId));
      await waitUntil(
        'the account in Redis',
        async () => (await redis.exists(key(accountId))) === 1,
      );

      const { conversationId, decision, outbound } = await converse(accountId, 0.93);
      expect(decision.case).toBe('handoffRequested');
      if (decision.case !== 'handoffRequested') return;
      const h = decision.value;
      expect(h.triggers.map((t) => t.rule)).toEqual(['vip_account']);
      expect(h.priority).toBe(Priority.HIGH);
      expect(h.priorityReasons.map((t) => t.rule)).toEqual(['vip_priority']);
      expect(h.policyVersion).toBe(policyVersion);
      expect(h.briefing?.accountLookup).toBe('found');
      expect(h.briefing?.account).toMatchObject({ accountId, tier: 'enterprise', vip: true });
      expect(h.briefing?.triggers.map((t) => t.rule)).toEqual(['vip_account']);
      expect(h.briefing?.priorityReasons.map((t) => t.rule)).toEqual(['vip_priority']);
      expect(h.briefing?.priority).toBe(Priority.HIGH);
      expect(h.briefing?.page).toMatchObject({
        url: PAGE,
        path: '/settings/billing/invoices',
        area: 'billing',
      });
      expect(h.briefing?.summary).toContain('Acme Industries, enterprise tier');
      expect(h.briefing?.summary).toContain('VIP');

      const [request] = await rig.watcher.waitFor(
        Topics.handoffRequests,
        (r) => r.value.conversationId === conversationId,
      );
      expect(request.value).toMatchObject({
        handoffId: h.handoffId,
        priority: Priority.HIGH,
        revision: 1,
      });
      expect(request.value.triggers.map((t) => t.rule)).toEqual(['vip_account']);
      expect(request.value.priorityReasons.map((t) => t.rule)).toEqual(['vip_priority']);
      expect(request.value.briefing?.account?.accountId).toBe(accountId);
      expect(request.value.briefing?.summaryGenerator).toBe('extractive');
      // The customer hears that a person comes; the AI's answer is not sent.
      expect(outbound.map((r) => r.value.kind)).toEqual([OutboundKind.SYSTEM]);
    });

    it('releases the same confident answer for an account the CRM does not know, recording the context', async () => {
      const accountId = `acct-${randomUUID()}`;
      const { decision, outbound } = await converse(accountId, 0.93);
      expect(decision.case).toBe('aiReplyReleased');
      if (decision.case !== 'aiReplyReleased') return;
      expect(decision.value.policyVersion).toBe(policyVersion);
      expect(decision.value.context?.accountLookup).toBe('unknown');
      expect(decision.value.context?.account).toBeUndefined();
      expect(decision.value.context?.page).toMatchObject({
        url: PAGE,
        path: '/settings/billing/invoices',
        area: 'billing',
      });
      expect(crm.requestsFor(accountId)).toHaveLength(1);
      expect(outbound.map((r) => r.value.kind)).toEqual([OutboundKind.AI_REPLY]);
    });

    it('hands off a VIP account only the CRM lookup knows', async () => {
      const accountId = `acct-${randomUUID()}`;
      crm.answer(accountId, {
        status: 200,
        body: toJson(
          AccountSchema,
          create(AccountSchema, { accountId, name: 'Lookup VIP', vip: true }),
        ),
      });
      const { decision } = await converse(accountId, 0.93);
      expect(decision.case).toBe('handoffRequested');
      if (decision.case !== 'handoffRequested') return;
      expect(decision.value.triggers.map((t) => t.rule)).toEqual(['vip_account']);
      expect(decision.value.briefing?.account?.name).toBe('Lookup VIP');
    });

    it('still decides when the CRM does not answer in time, recording the account as unavailable', async () => {
      const accountId = `acct-${randomUUID()}`;
      crm.answer(accountId, { hang: true });
      const { decision } = await converse(accountId, 0.93);
      expect(decision.case).toBe('aiReplyReleased');
      if (decision.case !== 'aiReplyReleased') return;
      expect(decision.value.context?.accountLookup).toBe('unavailable');
      expect(crm.requestsFor(accountId).length).toBeGreaterThanOrEqual(1);
    });
  });
});
