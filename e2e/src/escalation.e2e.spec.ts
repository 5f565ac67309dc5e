/**
 * The escalation decider end to end: when the AI steps aside, at which
 * message, under which rule, with which account and page context, and what
 * the agent receives. Six processes, the real Kafka, Redis and PostgreSQL; a
 * fake CRM (node:http) behind CRM_LOOKUP_URL and a fake chat model
 * (FakeLlmServer) for the decider's briefing summaries only: the AI responder
 * stays extractive, so every AI decision here is deterministic given the seed
 * knowledge base.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Bus, Topics } from '@support/bus';
import {
  AccountSchema,
  create,
  OutboundKind,
  Priority,
  Speaker,
  toJson,
  type Account,
  type AiReplyProposed,
  type AiReplyReleased,
  type HandoffRequested,
  type MessageInitShape,
  type MessageScored,
} from '@support/contracts';
import { notice as noticeText } from '@support/notices';
import { FakeLlmServer, type TopicWatcher } from '@support/testing';
import {
  API_KEY,
  customerMessage,
  postMessage,
  registerAgent,
  removeAgent,
  root,
  ServiceProcess,
  sleep,
  startAll,
  url,
  watchTopics,
  type ServiceName,
} from './harness';

const testsStarted = new Date().toISOString();
/** Account ids and chats of this run only: nothing cached by an earlier run answers for them. */
const run = randomUUID().slice(0, 8);
const FAKE_SUMMARY =
  'Customer disputes a double charge of EUR 1,250 on INV-2031. VIP enterprise account with a premium SLA. Check the invoice first.';

let procs: Map<ServiceName, ServiceProcess>;
let watcher: TopicWatcher;
let bus: Bus;
let fakeLlm: FakeLlmServer;
let crm: Server;
/** The account ids the fake CRM was asked for, in order. */
const crmAsked: string[] = [];

// ---------------------------------------------------------------- accounts

type AccountInit = MessageInitShape<typeof AccountSchema>;
const account = (suffix: string, init: Omit<AccountInit, 'accountId' | '$typeName'>): Account =>
  create(AccountSchema, {
    accountId: `e2e-${run}-${suffix}`,
    updatedAt: new Date().toISOString(),
    currency: 'EUR',
    ...init,
  });

const accounts = {
  vip: account('vip', {
    name: 'Globex Industries',
    tier: 'enterprise',
    plan: 'Enterprise annual',
    vip: true,
    monthlyValue: 12_000,
  }),
  billing: account('billing', {
    name: 'Initech',
    tier: 'business',
    openInvoices: [
      {
        invoiceId: 'INV-2031',
        amount: 1250,
        currency: 'EUR',
        status: 'open',
        dueDate: '2026-12-31',
      },
    ],
  }),
  atRisk: account('at-risk', { name: 'Hooli', tier: 'pro', atRisk: true }),
  incident: account('incident', {
    name: 'Umbrella',
    tier: 'business',
    openIncidents: [
      {
        incidentId: 'INC-77',
        title: 'Sending invoices fails for some accounts',
        severity: 'major',
        startedAt: '2026-01-10T08:00:00Z',
      },
    ],
  }),
  sla: account('sla', {
    name: 'Stark Industries',
    tier: 'business',
    sla: 'premium',
    slaFirstResponseMinutes: 30,
  }),
  /** The realistic one for the briefing: VIP, enterprise, an SLA, a disputed and an open invoice. */
  briefing: account('briefing', {
    name: 'Globex Corporation',
    tier: 'enterprise',
    plan: 'Enterprise annual',
    vip: true,
    monthlyValue: 8400,
    owner: 'Maria Rossi <maria@example.com>',
    sla: 'premium',
    slaFirstResponseMinutes: 30,
    openInvoices: [
      {
        invoiceId: 'INV-2031',
        amount: 1250,
        currency: 'EUR',
        status: 'disputed',
        dueDate: '2026-12-15',
      },
      {
        invoiceId: 'INV-2040',
        amount: 830,
        currency: 'EUR',
        status: 'open',
        dueDate: '2027-01-15',
      },
    ],
  }),
};
/** Only the CRM's HTTP lookup knows it; it is never on crm.accounts. */
const crmOnly = account('crm-only', {
  name: 'Wayne Enterprises',
  tier: 'business',
  plan: 'Business monthly',
});
/** Neither the topic nor the CRM knows it. */
const unknownAccountId = `e2e-${run}-nobody`;

async function startFakeCrm(): Promise<Server> {
  const server = createServer((req, res) => {
    const id = decodeURIComponent(/^\/accounts\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '');
    crmAsked.push(id);
    const body =
      id === crmOnly.accountId ? JSON.stringify(toJson(AccountSchema, crmOnly)) : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(body ?? JSON.stringify({ error: 'not_found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return server;
}

/** Publishes the accounts on crm.accounts and waits until the decider has stored each one. */
async function publishAccounts(list: Account[]): Promise<void> {
  await bus.publish(...list.map((a) => ({ topic: Topics.accounts, key: a.accountId, value: a })));
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
  try {
    const keys = list.map((a) => `crm:account:${a.accountId}`);
    const deadline = Date.now() + 30_000;
    while ((await redis.exists(...keys)) < keys.length) {
      if (Date.now() > deadline) throw new Error('the decider did not store the accounts in 30 s');
      await sleep(200);
    }
  } finally {
    await redis.quit();
  }
}

// ---------------------------------------------------------------- conversations

interface Sent {
  conversationId: string;
  messageId: string;
  text: string;
}

type Decision =
  | { case: 'aiReplyReleased'; value: AiReplyReleased }
  | { case: 'handoffRequested'; value: HandoffRequested };

interface Turn {
  sent: Sent;
  decision: Decision;
}

/** Every conversation this file starts: closed at the end, so that no agent stays busy with them. */
const started = new Set<string>();

/** A chat of its own: a web conversation, with an account and page if given. */
const chat = (name: string, extra: Record<string, unknown> = {}) => ({
  externalConversationId: `esc-${name}-${run}-${randomUUID().slice(0, 8)}`,
  customerId: `cust-${name}-${run}`,
  ...extra,
});

async function send(
  chatOf: Record<string, unknown>,
  text: string,
  extra: Record<string, unknown> = {},
): Promise<Sent> {
  const { status, json } = await postMessage(customerMessage(text, { ...chatOf, ...extra }));
  expect(status).toBe(202);
  started.add(json.conversationId as string);
  return {
    conversationId: json.conversationId as string,
    messageId: json.messageId as string,
    text,
  };
}

/** The decider's decision on one customer message, from the log. */
async function decisionOn(sent: Sent): Promise<Decision> {
  const [record] = await watcher.waitFor(
    Topics.events,
    (r) =>
      r.value.conversationId === sent.conversationId &&
      (r.value.payload.case === 'aiReplyReleased' || r.value.payload.case === 'handoffRequested') &&
      r.value.payload.value.messageId === sent.messageId,
  );
  return record.value.payload as Decision;
}

/** An event of one kind about one message (the proposal, the score). */
async function eventOn<K extends 'aiReplyProposed' | 'messageScored'>(
  sent: Sent,
  kind: K,
): Promise<K extends 'aiReplyProposed' ? AiReplyProposed : MessageScored> {
  const [record] = await watcher.waitFor(
    Topics.events,
    (r) =>
      r.value.conversationId === sent.conversationId &&
      r.value.payload.case === kind &&
      r.value.payload.value.messageId === sent.messageId,
  );
  return record.value.payload.value as K extends 'aiReplyProposed'
    ? AiReplyProposed
    : MessageScored;
}

const ruleNames = (d: { triggers: { rule: string }[] }) => d.triggers.map((t) => t.rule);

/**
 * Says each message in turn and waits for the decider's decision on it
 * before the next, as a customer who reads the replies does. A handoff
 * before the last message fails here, naming the message and the rules.
 */
async function converse(
  chatOf: Record<string, unknown>,
  messages: (string | { text: string; extra: Record<string, unknown> })[],
): Promise<Turn[]> {
  const turns: Turn[] = [];
  for (const [i, m] of messages.entries()) {
    const sent =
      typeof m === 'string' ? await send(chatOf, m) : await send(chatOf, m.text, m.extra);
    const decision = await decisionOn(sent);
    turns.push({ sent, decision });
    if (decision.case === 'handoffRequested' && i < messages.length - 1) {
      throw new Error(
        `handed off early, at message ${i + 1} "${sent.text}", by ${ruleNames(decision.value).join(', ')}`,
      );
    }
  }
  return turns;
}

const aiRepliesTo = (sent: Sent) =>
  watcher
    .records(Topics.outbound)
    .filter(
      (r) =>
        r.value.conversationId === sent.conversationId &&
        r.value.kind === OutboundKind.AI_REPLY &&
        r.value.inReplyTo === sent.messageId,
    );

/** The turn's AI reply went out: released on the log, and on support.outbound in reply to it. */
async function expectReleased(turn: Turn): Promise<AiReplyReleased> {
  expect({ message: turn.sent.text, decision: turn.decision.case }).toEqual({
    message: turn.sent.text,
    decision: 'aiReplyReleased',
  });
  await watcher.waitFor(
    Topics.outbound,
    (r) =>
      r.value.conversationId === turn.sent.conversationId &&
      r.value.kind === OutboundKind.AI_REPLY &&
      r.value.inReplyTo === turn.sent.messageId,
  );
  return turn.decision.value as AiReplyReleased;
}

/**
 * The conversation was handed off at exactly this message: the handoff
 * names it, the customer gets the system notice in reply to it, and the
 * AI's reply to it is withheld.
 */
async function expectHandoffAt(turn: Turn): Promise<HandoffRequested> {
  expect({ message: turn.sent.text, decision: turn.decision.case }).toEqual({
    message: turn.sent.text,
    decision: 'handoffRequested',
  });
  const handoff = turn.decision.value as HandoffRequested;
  expect(handoff.messageId).toBe(turn.sent.messageId);
  const [notice] = await watcher.waitFor(
    Topics.outbound,
    (r) =>
      r.value.conversationId === turn.sent.conversationId &&
      r.value.kind === OutboundKind.SYSTEM &&
      r.value.inReplyTo === turn.sent.messageId &&
      // The decider's notice, in the handoff's language.
      r.value.text === noticeText('handoff', handoff.language),
  );
  expect(notice.value.author).toBe('system');
  expect(aiRepliesTo(turn.sent)).toHaveLength(0);
  return handoff;
}

/** The HandoffRequest desks read on handoff.requests, by revision. */
async function handoffRequest(conversationId: string, revision = 1) {
  const [record] = await watcher.waitFor(
    Topics.handoffRequests,
    (r) => r.value.conversationId === conversationId && r.value.revision === revision,
  );
  return record.value;
}

// ---------------------------------------------------------------- lifecycle

beforeAll(async () => {
  crm = await startFakeCrm();
  fakeLlm = await FakeLlmServer.start();
  fakeLlm.respondWith({ text: FAKE_SUMMARY });
  const crmPort = (crm.address() as AddressInfo).port;
  procs = await startAll({
    'escalation-decider': {
      CRM_LOOKUP_URL: `http://127.0.0.1:${crmPort}/accounts/{accountId}`,
      // The chat model writes the briefing summaries only; the AI responder stays extractive.
      LLM_PROVIDER: 'openai',
      LLM_BASE_URL: `${fakeLlm.origin}/v1`,
      LLM_MAX_RETRIES: '0',
      LLM_TIMEOUT_MS: '3000',
    },
  });
  watcher = await watchTopics([Topics.events, Topics.outbound, Topics.handoffRequests]);
  bus = new Bus({
    service: 'e2e-crm',
    brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
    logger: {
      log: () => undefined,
      // kafkajs' notice that the bus limits an idempotent producer's retries is no news here.
      warn: (m, c) => (m.includes('idempotent producer') ? undefined : console.warn(m, c)),
      error: (m, c) => console.error(m, c),
    },
  });
  await publishAccounts(Object.values(accounts));
}, 240_000);

/**
 * Resolves every conversation this file started and waits until the router has let go of their
 * handoffs: the seeded agents' capacity is shared with the other end-to-end files (the pipeline's
 * handoff to an agent needs a free one), and the log keeps an open handoff forever.
 */
async function closeConversations(): Promise<void> {
  for (const id of started) {
    const res = await fetch(url('ingest', `/v1/conversations/${id}/resolve`), {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resolvedBy: 'e2e-escalation' }),
    });
    if (res.status !== 200 && res.status !== 409)
      console.warn(`could not resolve ${id}: ${res.status} ${await res.text()}`);
  }
  const handoffIds = watcher
    .records(Topics.handoffRequests)
    .filter((r) => started.has(r.value.conversationId))
    .map((r) => r.value.handoffId);
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
  try {
    const held = async () => {
      let n = 0;
      for (const id of new Set(handoffIds)) {
        if ((await redis.zscore('router:queue', id)) !== null) n++;
        else if (await redis.exists(`router:holder:${id}`)) n++;
      }
      return n;
    };
    const deadline = Date.now() + 30_000;
    while ((await held()) > 0 && Date.now() < deadline) await sleep(250);
  } finally {
    await redis.quit();
  }
}

afterAll(async () => {
  if (procs && watcher) await closeConversations();
  await watcher?.stop();
  await bus?.close();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
  await fakeLlm?.close();
  await new Promise((resolve) => (crm ? crm.close(resolve) : resolve(undefined)));
});

// ---------------------------------------------------------------- tests

/** The conversation with no trigger, which the what-if replay flips to a person. */
let routineConversationId = '';

describe('escalation end to end: when the AI steps aside, and what the agent gets', () => {
  it('honours an explicit request for a person in German, French and Spanish, in that language', async () => {
    const requests = [
      { locale: 'de', text: 'Ich möchte bitte mit einem Menschen sprechen.' },
      { locale: 'fr', text: "Je voudrais parler à un conseiller, s'il vous plaît." },
      { locale: 'es', text: 'Quiero hablar con una persona, por favor.' },
    ];
    await Promise.all(
      requests.map(async ({ locale, text }) => {
        const [turn] = await converse(chat(`human-${locale}`, { locale }), [text]);
        const handoff = await expectHandoffAt(turn);
        expect(ruleNames(handoff)).toEqual(['explicit_human_request']);
        expect(handoff.triggers[0].detail).toMatch(/customer asked for a person/);
        expect(handoff.language).toBe(locale);
        expect(handoff.briefing?.language).toBe(locale);
      }),
    );
  });

  it('hears English wording the lexicon does not know (the classifier), at once; a customer who says they want no person is not taken as asking for one', async () => {
    // Wording the decider's regex before issue 14 missed, and its lexicon still does.
    const [asked] = await converse(chat('human-paraphrase'), [
      'please let a live representative take care of my problem',
    ]);
    const handoff = await expectHandoffAt(asked);
    expect(ruleNames(handoff)).toEqual(['explicit_human_request']);
    const [trigger] = handoff.triggers;
    expect(trigger.detail).toMatch(
      /^customer asked for a person \(classifier, p=[01]\.\d{3} ≥ 0\.\d+\)/,
    );
    expect(trigger.value).toBeGreaterThanOrEqual(trigger.threshold);
    expect(handoff.language).toBe('en');
    // Not held for the AI's join: at most topicWaitMs for this message's proposal (what it is about),
    // and never for the sentiment score.

    // The regex before issue 14 handed this off at once ("talk ... person"); the negation takes it
    // out, so the decider waits for the AI and the policy decides (the AI responder's own intent
    // classifier may still find no answer for it: that is its rule, not an explicit request).
    const [declined] = await converse(chat('no-person'), [
      "I don't want to talk to a person, just tell me how to add a team member",
    ]);
    const decided = declined.decision.value;
    expect(decided.missingInputs).toEqual([]);
    expect(
      declined.decision.case === 'handoffRequested' ? ruleNames(declined.decision.value) : [],
    ).not.toContain('explicit_human_request');
  });

  it('hands a frustrated customer to a person: frustration wording, and ALL CAPS shouting', async () => {
    const worded = await converse(chat('frustration'), [
      'How do I set up SSO?',
      'How do I reset my password? This is ridiculous, I am so frustrated, the reset link still does not work!',
    ]);
    await expectReleased(worded[0]);
    const handoff = await expectHandoffAt(worded[1]);
    // The AI had a confident answer; the customer's state alone sends this one to a person.
    expect(ruleNames(handoff)).toEqual(['frustration']);
    expect(handoff.priority).toBe(Priority.HIGH);
    const score = await eventOn(worded[1].sent, 'messageScored');
    expect(score.signals).toEqual(expect.arrayContaining(['frustration', 'still_failing']));
    expect(score.frustration).toBeGreaterThanOrEqual(0.8);
    expect(handoff.triggers[0]).toMatchObject({ value: score.frustration, threshold: 0.8 });

    const [shouted] = await converse(chat('shouting'), [
      'I HATE THIS, THE PASSWORD RESET IS BROKEN AGAIN!!!',
    ]);
    const loud = await expectHandoffAt(shouted);
    expect(ruleNames(loud)).toContain('frustration');
    const loudScore = await eventOn(shouted.sent, 'messageScored');
    // No frustration wording: capitals and a reset broken again are enough.
    expect(loudScore.signals).toEqual(expect.arrayContaining(['shouting', 'still_failing']));
    expect(loudScore.signals).not.toContain('frustration');
    expect(loudScore.frustration).toBeGreaterThanOrEqual(0.8);
  });

  it('hands a customer frustrated over several turns to a person before the third AI answer (frustration)', async () => {
    const frustratedChat = chat('frustrated-turns');
    const texts = [
      'How do I download all my invoices as PDF files?',
      'That did not work, the download still fails. How do I reset my password?',
      'Still the same error, nothing works. How do I add a team member?',
    ];
    const turns: Turn[] = [];
    for (const text of texts) {
      const sent = await send(frustratedChat, text);
      turns.push({ sent, decision: await decisionOn(sent) });
      if (turns.at(-1)!.decision.case === 'handoffRequested') break;
    }
    // The first two answers went out, the third message went to a person.
    expect(turns.map((t) => t.decision.case)).toEqual([
      'aiReplyReleased',
      'aiReplyReleased',
      'handoffRequested',
    ]);
    await expectReleased(turns[0]);
    await expectReleased(turns[1]);
    const handoff = await expectHandoffAt(turns[2]);
    // (How sure the AI is of its answer to a complaint is the AI's business: low_confidence may join.)
    expect(ruleNames(handoff)).toContain('frustration');
    expect(handoff.priority).toBe(Priority.HIGH);
    // The frustration rose turn by turn: the second message was not enough, alone or smoothed.
    const scores = await Promise.all(turns.map((t) => eventOn(t.sent, 'messageScored')));
    const smoothed = scores.map((s) => s.trajectory?.frustration ?? 0);
    expect(smoothed[0]).toBeLessThan(smoothed[1]);
    expect(smoothed[1]).toBeLessThan(smoothed[2]);
    expect(scores[1].frustration).toBeLessThan(0.8);
    expect(smoothed[1]).toBeLessThan(0.5);
    expect(smoothed[2]).toBeGreaterThanOrEqual(0.5);
    expect(scores[2].signals).toEqual(expect.arrayContaining(['frustration', 'still_failing']));
  });

  it('leaves a calm conversation with one mildly negative message with the AI', async () => {
    const turns = await converse(chat('mildly-negative'), [
      'How do I add a team member?',
      'Thanks. Unfortunately the invite went to their spam folder. How do I reset my password?',
      'How do I download all my invoices as PDF files?',
    ]);
    for (const turn of turns) await expectReleased(turn);
    const scores = await Promise.all(turns.map((t) => eventOn(t.sent, 'messageScored')));
    expect(scores[1].valence).toBeLessThan(0);
    for (const s of scores) {
      expect(s.frustration).toBeLessThan(0.8);
      expect(s.trajectory?.frustration).toBeLessThan(0.5);
    }
  });

  it('hands off at the turn where a conversation that started well turned negative (sentiment_shift)', async () => {
    const turns = await converse(chat('shift'), [
      'Thanks, that worked great! How do I add a team member?',
      'Hmm, I am a bit disappointed, the invite did not arrive. How do I reset my password?',
      'How do I download all my invoices as PDF files? I am really worried and sad, this is bad.',
    ]);
    await expectReleased(turns[0]);
    await expectReleased(turns[1]);
    const handoff = await expectHandoffAt(turns[2]);
    expect(ruleNames(handoff)).toContain('sentiment_shift');
    // A shift, not one outburst: none of the messages is worded in frustration.
    expect(ruleNames(handoff)).not.toContain('frustration');
    expect(handoff.priority).toBe(Priority.HIGH);
    const trajectory = handoff.briefing!.trajectory!;
    expect(trajectory.shift).toBe(true);
    expect(trajectory.change).toBeLessThanOrEqual(-0.4);
    expect(trajectory.messages).toBe(3);
    // The steepest fall was at the second message; the third took it past the thresholds.
    expect(trajectory.turnedAtMessageId).toBe(turns[1].sent.messageId);
    const valences = handoff.briefing!.sentimentTrajectory;
    expect(valences).toHaveLength(3);
    expect(valences[0]).toBeGreaterThan(0.5);
    expect(valences[2]).toBeLessThan(-0.5);
    const second = await eventOn(turns[1].sent, 'messageScored');
    expect(second.trajectory?.shift).toBe(false);
  });

  it('hands off when the AI answers keep failing: the second "that did not help" (repeated_failure)', async () => {
    const turns = await converse(chat('failure'), [
      'How do I set up SSO?',
      'That did not help. How do I add a team member?',
      'That did not help either. How do I reset my password?',
    ]);
    await expectReleased(turns[0]);
    await expectReleased(turns[1]);
    const handoff = await expectHandoffAt(turns[2]);
    // The AI was confident each time; it is the customer's word that the answers fail.
    expect(ruleNames(handoff)).toEqual(['repeated_failure']);
    expect(handoff.triggers[0]).toMatchObject({ value: 2, threshold: 2 });
    expect(handoff.priority).toBe(Priority.HIGH);
    expect(handoff.briefing?.aiAttempts).toHaveLength(2);
  });

  it('hands a lawsuit threat, custom pricing, a GDPR erasure and a tax-advice question to a person (topic_risk)', async () => {
    const cases = [
      {
        topic: 'legal_dispute',
        text: 'If you do not refund me this week my lawyer will file a lawsuit.',
      },
      {
        topic: 'pricing_negotiation',
        text: 'We have 400 seats and would like custom pricing, can we negotiate a volume discount?',
      },
      {
        topic: 'privacy_request',
        text: 'Please erase all my personal data under GDPR, I invoke my right to be forgotten.',
      },
      {
        topic: 'regulated_advice',
        text: 'Should I claim the VAT on these invoices? I need tax advice.',
      },
    ];
    await Promise.all(
      cases.map(async ({ topic, text }) => {
        const [turn] = await converse(chat(`risk-${topic}`), [text]);
        const handoff = await expectHandoffAt(turn);
        expect({ topic, rules: ruleNames(handoff) }).toEqual({
          topic,
          rules: expect.arrayContaining(['topic_risk']),
        });
        const risk = handoff.triggers.find((t) => t.rule === 'topic_risk')!;
        expect(risk.detail).toContain(`riskTopics ["${topic}"]`);
        expect(handoff.priority).toBeGreaterThanOrEqual(Priority.HIGH);
        const proposal = await eventOn(turn.sent, 'aiReplyProposed');
        if (!['contract_legal', 'compliance_privacy', 'security'].includes(proposal.intent)) {
          // Only the wording fired the rule: the trigger must not present the intent
          // classifier's probability as what it compared, since that branch did not hold.
          expect({ topic, intent: proposal.intent, detail: risk.detail }).toEqual({
            topic,
            intent: proposal.intent,
            detail: expect.not.stringContaining('intentProbability'),
          });
          expect(risk).toMatchObject({ value: 1, threshold: 1 });
        }
      }),
    );
  });

  describe('account rules, with the account from crm.accounts or the CRM lookup', () => {
    // An answer the AI gives anyone (confidence 0.96 from the seed knowledge base): released for
    // an ordinary or unknown account, handed off for a VIP. (The password-reset answer scores
    // 0.98, above vipMinConfidence, so it would be released even for a VIP.)
    // Answered with a confidence between the shipped minConfidence (0.8) and vipMinConfidence (0.94).
    const answerable = 'How do I change my plan?';

    it('gives a VIP/enterprise account a person unless the AI is nearly certain (vip_account, HIGH)', async () => {
      const [turn] = await converse(chat('vip', { accountId: accounts.vip.accountId }), [
        answerable,
      ]);
      const proposal = await eventOn(turn.sent, 'aiReplyProposed');
      expect(proposal.confidence).toBeGreaterThanOrEqual(0.8);
      expect(proposal.confidence).toBeLessThan(0.94);
      const handoff = await expectHandoffAt(turn);
      expect(ruleNames(handoff)).toEqual(['vip_account']);
      expect(handoff.priority).toBe(Priority.HIGH);
      expect(ruleNames({ triggers: handoff.priorityReasons })).toEqual(['vip_priority']);
      expect(handoff.briefing?.account?.name).toBe('Globex Industries');
      expect(handoff.briefing?.accountLookup).toBe('found');
    });

    it('sends a dispute of a charge above 500 to billing (billing_dispute)', async () => {
      const [turn] = await converse(chat('dispute', { accountId: accounts.billing.accountId }), [
        'I was charged twice, €1,250 on INV-2031, I dispute this',
      ]);
      const handoff = await expectHandoffAt(turn);
      expect(ruleNames(handoff)).toContain('billing_dispute');
      expect(handoff.triggers.find((t) => t.rule === 'billing_dispute')).toMatchObject({
        value: 1250,
        threshold: 500,
      });
      expect(handoff.requiredSkills[0]).toBe('billing');
      expect(handoff.priority).toBe(Priority.HIGH);
      const request = await handoffRequest(turn.sent.conversationId);
      expect(request.requiredSkills).toContain('billing');
    });

    it('sends an unhappy at-risk account to retention (at_risk_account); the same words from anyone else get the answer', async () => {
      const text = 'How do I reset my password? Sadly it keeps failing.';
      const [turn] = await converse(chat('at-risk', { accountId: accounts.atRisk.accountId }), [
        text,
      ]);
      const handoff = await expectHandoffAt(turn);
      expect(ruleNames(handoff)).toEqual(['at_risk_account']);
      expect(handoff.requiredSkills[0]).toBe('retention');
      expect(handoff.briefing?.summary).toContain('AT RISK');

      const [ordinary] = await converse(chat('not-at-risk'), [text]);
      await expectReleased(ordinary);
    });

    it('sends an at-risk account that talks of leaving to retention, even in a calm tone (at_risk_account)', async () => {
      const [turn] = await converse(
        chat('at-risk-leaving', { accountId: accounts.atRisk.accountId }),
        ['Where can I download my invoices? We are switching to Xero next month.'],
      );
      const score = await eventOn(turn.sent, 'messageScored');
      expect(score.signals).toContain('churn_threat');
      expect(score.valence).toBeGreaterThanOrEqual(0);
      const handoff = await expectHandoffAt(turn);
      expect(ruleNames(handoff)).toEqual(['at_risk_account']);
      expect(handoff.requiredSkills[0]).toBe('retention');
    });

    it('sends an error report from an account with an open incident to the technical team (open_incident)', async () => {
      const [turn] = await converse(chat('incident', { accountId: accounts.incident.accountId }), [
        'We get an error when sending invoices: Error 500 when I click Send.',
      ]);
      const handoff = await expectHandoffAt(turn);
      expect(ruleNames(handoff)).toEqual(['open_incident']);
      expect(handoff.requiredSkills[0]).toBe('technical');
      expect(handoff.briefing?.summary).toContain('open incident INC-77');
    });

    it('hands an urgent outage on an SLA account off as URGENT (sla_urgent)', async () => {
      const [turn] = await converse(chat('sla', { accountId: accounts.sla.accountId }), [
        'URGENT: production is down and we cannot send invoices',
      ]);
      const handoff = await expectHandoffAt(turn);
      expect(ruleNames(handoff)).toContain('sla_urgent');
      expect(handoff.priority).toBe(Priority.URGENT);
      expect(ruleNames({ triggers: handoff.priorityReasons })).toContain('sla_priority');
      expect((await handoffRequest(turn.sent.conversationId)).priority).toBe(Priority.URGENT);
    });

    it('leaves an account neither the topic nor the CRM knows with the AI (lookup unknown)', async () => {
      const [turn] = await converse(chat('unknown', { accountId: unknownAccountId }), [answerable]);
      const released = await expectReleased(turn);
      expect(released.context?.accountLookup).toBe('unknown');
      expect(released.context?.account).toBeUndefined();
      expect(crmAsked).toContain(unknownAccountId);
    });

    it('finds an account only the CRM knows over HTTP (lookup found), and never asks it for accounts the topic brought', async () => {
      const [turn] = await converse(chat('crm-only', { accountId: crmOnly.accountId }), [
        answerable,
      ]);
      const released = await expectReleased(turn);
      expect(released.context?.accountLookup).toBe('found');
      expect(released.context?.account).toMatchObject({
        accountId: crmOnly.accountId,
        name: 'Wayne Enterprises',
        tier: 'business',
      });
      expect(crmAsked).toContain(crmOnly.accountId);
      for (const a of Object.values(accounts)) expect(crmAsked).not.toContain(a.accountId);
    });
  });

  it('hands an unhappy customer on the cancellation page to retention; on /help the same words do not fire it', async () => {
    const text = 'How do I cancel my subscription? Sadly we do not use it enough.';
    const [cancel] = await converse(
      chat('cancel-page', { pageUrl: 'https://app.example.com/account/cancel' }),
      [text],
    );
    const handoff = await expectHandoffAt(cancel);
    expect(ruleNames(handoff)).toEqual(['cancellation_page']);
    expect(handoff.requiredSkills[0]).toBe('retention');
    expect(handoff.briefing?.page).toMatchObject({
      path: '/account/cancel',
      area: 'cancellation',
    });

    const [help] = await converse(chat('help-page', { pageUrl: 'https://app.example.com/help' }), [
      text,
    ]);
    if (help.decision.case === 'handoffRequested')
      expect(ruleNames(help.decision.value)).not.toContain('cancellation_page');
    const released = await expectReleased(help);
    expect(released.context?.page).toMatchObject({ path: '/help', area: '' });
  });

  it('leaves a routine conversation with the AI: both answers released, no handoff', async () => {
    const turns = await converse(chat('routine'), [
      'How do I set up SSO?',
      'How do I add a team member?',
    ]);
    for (const turn of turns) {
      const released = await expectReleased(turn);
      expect(released.policyVersion).toMatch(/^default-/);
      expect(released.context?.accountLookup).toBe('none');
      const score = await eventOn(turn.sent, 'messageScored');
      expect({ label: score.label, signals: score.signals }).toEqual({
        label: 'neutral',
        signals: [],
      });
    }
    routineConversationId = turns[0].sent.conversationId;
    expect(
      watcher
        .records(Topics.events)
        .filter(
          (r) =>
            r.value.conversationId === routineConversationId &&
            r.value.payload.case === 'handoffRequested',
        ),
    ).toHaveLength(0);
  });

  it("gives the agent a complete briefing, then the chat model's summary as revision 2", async () => {
    const a = accounts.briefing;
    const turns = await converse(chat('briefing', { accountId: a.accountId }), [
      'How do I add a team member?',
      'That did not help, the invite never arrived. How do I reset my password?',
      {
        // The customer has gone to the invoice to dispute it.
        text: 'I was charged twice on INV-2031, €1,250, and I dispute this charge. Our account email is finance@globex.example.',
        extra: { pageUrl: 'https://app.example.com/billing/invoices/INV-2031' },
      },
    ]);
    await expectReleased(turns[0]);
    await expectReleased(turns[1]);
    const logged = await expectHandoffAt(turns[2]);
    const conversationId = turns[0].sent.conversationId;

    const request = await handoffRequest(conversationId, 1);
    expect(request.handoffId).toBe(logged.handoffId);
    expect(request.revision).toBe(1);
    const b = request.briefing!;
    const policy = (await (
      await fetch(url('escalation-decider', '/v1/policy'), {
        headers: { authorization: `Bearer ${API_KEY}` },
      })
    ).json()) as { version: string };

    // Why, who, what: the summary names the reason and the account.
    expect(b.summaryGenerator).toBe('extractive');
    expect(b.summary).toContain('disputes a large charge');
    expect(b.summary).toContain('Globex Corporation');
    expect(b.summary).toContain('INV-2031');
    // The whole conversation, every turn in order.
    expect(b.transcript.map((t) => [t.speaker, t.text])).toEqual([
      [Speaker.CUSTOMER, turns[0].sent.text],
      [Speaker.AI, expect.stringContaining('team')],
      [Speaker.CUSTOMER, turns[1].sent.text],
      [Speaker.AI, expect.stringContaining('password')],
      [Speaker.CUSTOMER, turns[2].sent.text],
    ]);
    expect(b.intent).toBe('billing');
    expect(b.topic).not.toBe('');
    expect(b.aiAttempts).toHaveLength(2);
    expect(b.articlesTried).toEqual(expect.arrayContaining(['team-members', 'reset-password']));
    expect(b.collectedDetails.map((d) => [d.name, d.value])).toEqual(
      expect.arrayContaining([
        ['account_email', 'finance@globex.example'],
        ['invoice_or_order_number', 'INV-2031'],
      ]),
    );
    expect(Array.isArray(b.missingDetails)).toBe(true);
    expect(b.account).toMatchObject({
      accountId: a.accountId,
      name: 'Globex Corporation',
      tier: 'enterprise',
      vip: true,
      slaFirstResponseMinutes: 30,
      openInvoices: expect.arrayContaining([
        expect.objectContaining({ invoiceId: 'INV-2031', amount: 1250, status: 'disputed' }),
      ]),
    });
    expect(b.accountId).toBe(a.accountId);
    expect(b.accountLookup).toBe('found');
    expect(b.sentimentTrajectory).toHaveLength(3);
    expect(b.trajectory).toMatchObject({ messages: 3 });
    expect(b.trajectory!.smoothed).toBeLessThan(0);
    expect(b.page).toMatchObject({
      url: 'https://app.example.com/billing/invoices/INV-2031',
      path: '/billing/invoices/INV-2031',
      area: 'billing',
    });
    expect(b.pageUrl).toBe('https://app.example.com/billing/invoices/INV-2031');
    expect(ruleNames(b)).toEqual(
      expect.arrayContaining(['billing_dispute', 'billing_page_struggle']),
    );
    expect(ruleNames(b)).toEqual(ruleNames(request));
    expect(ruleNames({ triggers: b.priorityReasons })).toEqual(['vip_priority', 'sla_priority']);
    expect(b.priority).toBe(Priority.HIGH);
    expect(request.priority).toBe(b.priority);
    expect(b.language).toBe('en');
    expect(b.requiredSkills[0]).toBe('billing');
    expect(request.requiredSkills).toEqual(b.requiredSkills);
    expect(b.policyVersion).toBe(policy.version);
    expect(logged.policyVersion).toBe(policy.version);
    expect(b.customerId).toBe(`cust-briefing-${run}`);
    expect(b.channel).toBe('web');

    // The chat model's summary follows as revision 2 of the same handoff, and on the log.
    const revised = await handoffRequest(conversationId, 2);
    expect(revised.handoffId).toBe(request.handoffId);
    expect(revised.briefing?.summary).toBe(FAKE_SUMMARY);
    expect(revised.briefing?.summaryGenerator).toMatch(/^openai:/);
    expect(revised.requestedAt).toBe(request.requestedAt);
    expect(ruleNames(revised)).toEqual(ruleNames(request));
    expect({ ...revised.briefing, summary: '', summaryGenerator: '' }).toEqual({
      ...request.briefing,
      summary: '',
      summaryGenerator: '',
    });
    const [summarized] = await watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === conversationId && r.value.payload.case === 'briefingSummarized',
    );
    expect(summarized.value.payload.value).toMatchObject({
      handoffId: request.handoffId,
      summary: FAKE_SUMMARY,
      generator: revised.briefing?.summaryGenerator,
    });
    // The model was given the extractive facts, and the customer's words only as the transcript.
    const asked = fakeLlm.requests.find((r) => JSON.stringify(r.body).includes(a.name));
    expect(asked?.path).toBe('/v1/chat/completions');
    const prompt = JSON.stringify(asked?.body);
    expect(prompt).toContain('disputes a large charge');
    expect(prompt).toMatch(/<transcript>[^]*I was charged twice on INV-2031/);
  });

  describe('decisions that use the whole conversation', () => {
    // Agents of this file in the teams these handoffs are meant for, with room for many: the demo
    // roster's are shared with the other files, and the router offers a handoff to its team first.
    const specialists = [
      {
        id: `agent-am-${run}`,
        name: 'Ines Account',
        team: 'Account Management',
        skills: ['account_management', 'contracts', 'procurement'],
      },
      {
        id: `agent-tech-${run}`,
        name: 'Theo Tech',
        team: 'Technical',
        skills: ['technical', 'integrations', 'api'],
      },
    ];
    beforeAll(async () => {
      for (const agent of specialists) await registerAgent(agent);
    });
    afterAll(async () => {
      for (const agent of specialists) await removeAgent(agent.id);
    });

    /** The router's assignment of a handoff, from the log. */
    async function assignmentOf(conversationId: string) {
      const [record] = await watcher.waitFor(
        Topics.events,
        (r) =>
          r.value.conversationId === conversationId && r.value.payload.case === 'agentAssigned',
      );
      if (record.value.payload.case !== 'agentAssigned') throw new Error('unreachable');
      return record.value.payload.value;
    }

    it('hands a stated large duplicate charge to billing though the CRM knows no account', async () => {
      const [turn] = await converse(chat('dup-no-account'), [
        'Hello, our card was debited twice this week for the same subscription, £2.4k each time. Can you look into it?',
      ]);
      const handoff = await expectHandoffAt(turn);
      expect(ruleNames(handoff)).toContain('billing_dispute');
      expect(handoff.triggers.find((t) => t.rule === 'billing_dispute')).toMatchObject({
        value: 2400,
        threshold: 500,
      });
      expect(handoff.requiredSkills[0]).toBe('billing');
      expect(handoff.team).toBe('Billing');
      expect(handoff.briefing?.accountLookup).toBe('none');
    });

    it('sends a contract and custom pricing question to account management, and the router assigns that team', async () => {
      const [turn] = await converse(chat('contract'), [
        'We are rolling Ledgerly out to 250 people next quarter. Could we get custom pricing, and who reviews the order form our procurement team redlined?',
      ]);
      const handoff = await expectHandoffAt(turn);
      expect(handoff.team).toBe('Account Management');
      expect(handoff.requiredSkills[0]).toBe('contracts');
      expect(handoff.requiredSkills.indexOf('billing')).not.toBe(0);
      expect(handoff.briefing?.summary).toContain('for team Account Management;');
      const assigned = await assignmentOf(turn.sent.conversationId);
      expect(assigned.handoffId).toBe(handoff.handoffId);
      expect(assigned.team).toBe('Account Management');
    });

    it('carries the technical skill of two turns about an integration into a request for a person, and its route', async () => {
      const turns = await converse(chat('integration-then-person'), [
        'How do I connect my bank feed?',
        'Can we connect both Xero and QuickBooks Online to the same workspace?',
        'Can I talk to a real person please?',
      ]);
      await expectReleased(turns[0]);
      await expectReleased(turns[1]);
      const handoff = await expectHandoffAt(turns[2]);
      expect(ruleNames(handoff)).toEqual(['explicit_human_request']);
      expect(handoff.requiredSkills).not.toContain('general');
      expect(handoff.requiredSkills).toEqual(
        expect.arrayContaining([expect.stringMatching(/^(technical|integrations)$/)]),
      );
      expect(handoff.team).toBe('Technical');
      expect(handoff.briefing?.intent).not.toMatch(/^(human_request|unknown)$/);
      const request = await handoffRequest(turns[2].sent.conversationId);
      expect(request.requiredSkills).toEqual(handoff.requiredSkills);
      expect(request.team).toBe('Technical');
      expect((await assignmentOf(turns[2].sent.conversationId)).team).toBe('Technical');
    });

    it('hands off a shouted, urgent message from a customer locked out of their account as urgent (urgent_lockout)', async () => {
      const [turn] = await converse(chat('lockout'), [
        'I AM LOCKED OUT OF MY ACCOUNT AND OUR PAYROLL RUNS TODAY, I NEED ACCESS RIGHT NOW!!!',
      ]);
      const handoff = await expectHandoffAt(turn);
      expect(ruleNames(handoff)).toContain('urgent_lockout');
      expect(handoff.priority).toBe(Priority.URGENT);
      expect(handoff.requiredSkills).toEqual(expect.arrayContaining(['account', 'security']));
      const score = await eventOn(turn.sent, 'messageScored');
      expect(score.signals).toEqual(expect.arrayContaining(['shouting', 'urgency']));
      expect((await handoffRequest(turn.sent.conversationId)).priority).toBe(Priority.URGENT);
    });
  });

  it('replays this run under a candidate policy over HTTP and reports what would change', async () => {
    const whatif = (body: string, headers: Record<string, string> = {}) =>
      fetch(url('escalation-decider', `/v1/whatif?from=${encodeURIComponent(testsStarted)}`), {
        method: 'POST',
        headers: { 'content-type': 'application/yaml', ...headers },
        body,
      });
    const shipped = readFileSync(
      join(root, 'services/escalation-decider/policy/default.yaml'),
      'utf8',
    );
    const candidate = shipped
      .replace(/^(\s*minConfidence:) [0-9.]+/m, '$1 0.99')
      .replace(/^(\s*reviewMinConfidence:) [0-9.]+/m, '$1 0.99')
      .replace(/^version: .*$/m, 'version: strict-0.99');
    expect(candidate).toContain('minConfidence: 0.99');
    const auth = { authorization: `Bearer ${API_KEY}` };

    const res = await whatif(candidate, auth);
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      candidateVersion: string;
      conversations: number;
      decisions: number;
      recorded: { handoffs: number; rules: Record<string, number> };
      candidate: { handoffs: number; rules: Record<string, number> };
      changed: {
        conversationId: string;
        recorded: string;
        candidate: string;
        candidateRules: string[];
      }[];
      flipped: { toHuman: string[]; toAi: string[] };
    };
    // The document's version and a hash of its content (what decisions under it would carry).
    expect(report.candidateVersion).toMatch(/^strict-0\.99@[0-9a-f]{8}$/);
    expect(report.conversations).toBeGreaterThan(10);
    expect(report.candidate.handoffs).toBeGreaterThan(report.recorded.handoffs);
    expect(report.candidate.rules.low_confidence ?? 0).toBeGreaterThan(
      report.recorded.rules.low_confidence ?? 0,
    );
    expect(routineConversationId).not.toBe('');
    expect(report.flipped.toHuman).toContain(routineConversationId);
    expect(report.changed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          conversationId: routineConversationId,
          recorded: 'release',
          candidate: 'handoff',
          candidateRules: expect.arrayContaining(['low_confidence']),
        }),
      ]),
    );

    // The replay reads every conversation: it needs the key.
    expect((await whatif(candidate)).status).toBe(401);
    const invalid = await whatif('version: broken\nrules: []\n', auth);
    expect(invalid.status).toBe(400);
    const problem = (await invalid.json()) as { issues: { field: string; message: string }[] };
    // The field of the document that is wrong.
    expect(problem.issues[0].field).toBe('joinTimeoutMs');
  });

  it('never waits for the AI on an explicit request: with the AI responder down, the handoff comes at once', async () => {
    await procs.get('ai-responder')!.stop('SIGTERM');
    const [turn] = await converse(chat('human-ai-down'), [
      'I need to speak to a person about my account, please.',
    ]);
    const handoff = await expectHandoffAt(turn);
    expect(ruleNames(handoff)).toEqual(['explicit_human_request']);
    // Decided without a proposal: the AI has not spoken for this message.
    expect(
      watcher
        .records(Topics.events)
        .filter(
          (r) =>
            r.value.conversationId === turn.sent.conversationId &&
            r.value.payload.case === 'aiReplyProposed',
        ),
    ).toHaveLength(0);
    expect(handoff.briefing?.aiAttempts).toEqual([]);
    // Nor did it sit out the join's timeout for the missing proposal (policy joinTimeoutMs).
    const at = (kind: string) =>
      Date.parse(
        watcher
          .records(Topics.events)
          .find(
            (r) =>
              r.value.conversationId === turn.sent.conversationId && r.value.payload.case === kind,
          )!.value.occurredAt,
      );
    const { document } = (await (
      await fetch(url('escalation-decider', '/v1/policy'), {
        headers: { authorization: `Bearer ${API_KEY}` },
      })
    ).json()) as { document: { joinTimeoutMs: number } };
    expect(at('handoffRequested') - at('customerMessageReceived')).toBeLessThan(
      document.joinTimeoutMs,
    );

    // Back up, the responder catches up on the message, and its proposal stays unsent.
    const responder = new ServiceProcess('ai-responder');
    procs.set('ai-responder', responder);
    responder.start();
    await responder.healthy();
    await eventOn(turn.sent, 'aiReplyProposed');
    // The next customer is served as usual.
    const [next] = await converse(chat('after-restart'), ['How do I add a team member?']);
    await expectReleased(next);
    expect(aiRepliesTo(turn.sent)).toHaveLength(0);
  });

  it('sent no AI reply to any message it handed off, in the whole run', () => {
    const handedOff = watcher
      .records(Topics.events)
      .filter((r) => r.value.payload.case === 'handoffRequested')
      .map((r) => (r.value.payload.value as HandoffRequested).messageId);
    expect(handedOff.length).toBeGreaterThan(15);
    const replied = new Set(
      watcher
        .records(Topics.outbound)
        .filter((r) => r.value.kind === OutboundKind.AI_REPLY)
        .map((r) => r.value.inReplyTo),
    );
    expect(handedOff.filter((id) => replied.has(id))).toEqual([]);
  });
});
