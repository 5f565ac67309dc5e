import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { inArray, sql } from 'drizzle-orm';
import { Bus, Topics } from '@support/bus';
import {
  create,
  KnowledgeEventSchema,
  Priority,
  Resolution,
  type ConversationEvent,
  type KnowledgeEvent,
  type MessageInitShape,
} from '@support/contracts';
import { conversationEvent, type PayloadInitOf } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  checkServedOpenApi,
  expectMatchesOpenApi,
  waitUntil,
  type OpenApiDoc,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema } from '../config';
import { foldEvents } from '../domain/read-model';
import { processedEvents } from './db/schema';
import {
  applyConversationEventsToDatabase,
  applyKnowledgeEventToDatabase,
  openMetricsDatabase,
  type MetricsDatabase,
} from './db/store';
import { rebuildReadModel } from './rebuild';
import { ReadModelService } from './read-model.service';

jest.setTimeout(120_000);

const KEY = 'analyst-key';
/** A day of its own at midnight UTC, so that only this run's conversations are in the range. */
const DAY = 86_400;
const base = Date.UTC(2003, 0, 1) + Math.floor(Math.random() * 3000) * DAY * 1000;
const at = (s: number) => new Date(base + s * 1000).toISOString();
const range = `from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(2 * DAY))}`;
const run = randomUUID().slice(0, 8);
// Topics of their own too: articles are global, and earlier runs published on theirs.
const billing = `billing-${run}`;
const shipping = `shipping-${run}`;

const accounts = {
  A: {
    accountId: `acct-A-${run}`,
    name: 'Acme',
    tier: 'enterprise',
    monthlyValue: 5000,
    currency: 'EUR',
    owner: 'Ana <ana@example.com>',
    atRisk: false,
  },
  B: {
    accountId: `acct-B-${run}`,
    name: 'Bolt',
    tier: 'pro',
    monthlyValue: 300,
    currency: 'EUR',
    owner: 'Bo',
    atRisk: true,
  },
  C: {
    accountId: `acct-C-${run}`,
    name: 'Cobalt',
    tier: 'pro',
    monthlyValue: 80,
    currency: 'EUR',
    owner: 'Cy',
    atRisk: false,
  },
};
type AccountInit = (typeof accounts)[keyof typeof accounts];

/** Writes one conversation's events as the services that own them would. */
function conversation(name: string) {
  const id = `${name}-${run}`;
  const events: ConversationEvent[] = [];
  const add = <K extends Parameters<typeof conversationEvent>[2]>(
    kind: K,
    value: PayloadInitOf<K>,
    s: number,
  ) => {
    const e = conversationEvent(id, randomUUID(), kind, value, at(s));
    events.push(e);
    return e;
  };
  const c = {
    id,
    events,
    message: (s: number, messageId: string, channel = 'web', locale = 'en') =>
      add(
        'customerMessageReceived',
        { messageId: `${id}-${messageId}`, channel, text: 'hello', locale },
        s,
      ),
    proposed: (s: number, messageId: string, topic: string) =>
      add(
        'aiReplyProposed',
        { messageId: `${id}-${messageId}`, replyId: randomUUID(), topic, confidence: 0.95 },
        s,
      ),
    released: (s: number, policyVersion: string, account?: AccountInit) =>
      add(
        'aiReplyReleased',
        { messageId: 'm', replyId: randomUUID(), policyVersion, context: { account } },
        s,
      ),
    scored: (s: number, smoothed: number, change: number) =>
      add(
        'messageScored',
        { messageId: 'm', valence: smoothed, trajectory: { smoothed, change, messages: 1 } },
        s,
      ),
    handoff: (
      s: number,
      handoffId: string,
      trigger: string,
      triggers: { rule: string; value: number; threshold: number }[],
      policyVersion: string,
      briefing: { account?: AccountInit; topic?: string } = {},
    ) =>
      add(
        'handoffRequested',
        {
          handoffId,
          messageId: `${id}-${trigger}`,
          triggers,
          priority: Priority.NORMAL,
          language: 'en',
          policyVersion,
          briefing,
        },
        s,
      ),
    assigned: (s: number, handoffId: string) =>
      add('agentAssigned', { handoffId, agentId: 'ag-1', agentName: 'Ann', team: 'T' }, s),
    declined: (s: number, handoffId: string) =>
      add('agentDeclined', { handoffId, agentId: 'ag-1' }, s),
    accepted: (s: number, handoffId: string) =>
      add('agentAccepted', { handoffId, agentId: 'ag-2' }, s),
    replied: (s: number, handoffId: string) =>
      add('agentReplied', { handoffId, agentId: 'ag-2', text: 'on it' }, s),
    marked: (s: number, handoffId: string) =>
      add('falseEscalationMarked', { handoffId, agentId: 'ag-2' }, s),
    handedBack: (s: number, handoffId: string) =>
      add('handedBack', { handoffId, agentId: 'ag-2' }, s),
    resolved: (s: number, resolution: Resolution, assumed = false) =>
      add(
        'conversationResolved',
        { resolution, resolvedBy: assumed ? 'quiet_window' : 'customer', assumed },
        s,
      ),
    csatRequested: (s: number) =>
      add('csatRequested', { requestId: randomUUID(), channel: 'web' }, s),
    rated: (s: number, score: number) => add('csatRated', { score }, s),
  };
  return c;
}

const knowledge = (
  payload: MessageInitShape<typeof KnowledgeEventSchema>['payload'],
  s: number,
): KnowledgeEvent =>
  create(KnowledgeEventSchema, { eventId: randomUUID(), occurredAt: at(s), payload });

// ---- The conversations (seconds from the first day's midnight; day 2 starts at DAY) ----
const d2 = DAY;
// c1: AI only, confirmed, rated 5 (account A).
const c1 = conversation('c1');
c1.message(0, 'm1');
c1.proposed(5, 'm1', billing);
c1.released(10, 'v1', accounts.A);
c1.resolved(100, Resolution.AI);
c1.csatRequested(101);
c1.rated(120, 5);
// c2: AI only, assumed after the quiet window.
const c2 = conversation('c2');
c2.message(1000, 'm1');
c2.proposed(1005, 'm1', billing);
c2.released(1010, 'v1');
c2.resolved(2900, Resolution.AI, true);
// c3: AI resolved, reopened, AI resolved again, rated 2: a missed escalation (account C, e-mail, German).
const c3 = conversation('c3');
c3.message(2000, 'm1', 'email', 'de-DE');
c3.proposed(2005, 'm1', billing);
c3.released(2010, 'v1', accounts.C);
c3.resolved(2100, Resolution.AI);
c3.message(2200, 'm2', 'email', 'de-DE');
c3.released(2210, 'v1', accounts.C);
c3.resolved(2300, Resolution.AI);
c3.csatRequested(2301);
c3.rated(2400, 2);
// c4: handed off on low confidence 0.87 after the second message, declined and re-routed, accepted,
// answered, marked a false escalation, resolved by a person, rated 1 (account A).
const c4 = conversation('c4');
c4.message(3000, 'm1');
c4.proposed(3005, 'm1', billing);
c4.released(3010, 'v1', accounts.A);
c4.message(3100, 'm2');
c4.scored(3101, -0.6, -0.5);
const h4 = `h4-${run}`;
const c4handoff = c4.handoff(
  3130,
  h4,
  'm2',
  [{ rule: 'low_confidence', value: 0.87, threshold: 0.9 }],
  'v1',
  { account: accounts.A },
);
c4.assigned(3140, h4);
c4.declined(3150, h4);
c4.assigned(3160, h4);
c4.accepted(3190, h4);
c4.replied(3250, h4);
c4.replied(3260, h4);
c4.marked(3300, h4);
c4.resolved(3400, Resolution.HUMAN);
c4.csatRequested(3401);
c4.rated(3500, 1);
// c5: day 2, handed off on low confidence 0.88 at once; the resolution matched an article (account B, at risk).
const c5 = conversation('c5');
c5.message(d2, 'm1');
c5.proposed(d2 + 5, 'm1', billing);
c5.scored(d2 + 6, -0.35, -0.1);
const h5 = `h5-${run}`;
c5.handoff(d2 + 20, h5, 'm1', [{ rule: 'low_confidence', value: 0.88, threshold: 0.9 }], 'v2', {
  account: accounts.B,
});
c5.assigned(d2 + 30, h5);
c5.accepted(d2 + 50, h5);
c5.replied(d2 + 110, h5);
c5.resolved(d2 + 200, Resolution.HUMAN);
c5.csatRequested(d2 + 201);
c5.rated(d2 + 300, 4);
// c6: WhatsApp, French, explicit request, handed back, then resolved by the AI: human-involved.
const c6 = conversation('c6');
c6.message(d2 + 1000, 'm1', 'whatsapp', 'fr-FR');
const h6 = `h6-${run}`;
c6.handoff(
  d2 + 1010,
  h6,
  'm1',
  [{ rule: 'explicit_human_request', value: 1, threshold: 1 }],
  'v2',
  { topic: billing },
);
c6.assigned(d2 + 1020, h6);
c6.accepted(d2 + 1100, h6);
c6.replied(d2 + 1160, h6);
c6.handedBack(d2 + 1200, h6);
c6.message(d2 + 1300, 'm2', 'whatsapp', 'fr-FR');
c6.released(d2 + 1310, 'v2');
c6.resolved(d2 + 1400, Resolution.AI);
// c7: shipping, frustration and low confidence, assigned, never accepted (account A).
const c7 = conversation('c7');
c7.message(d2 + 2000, 'm1');
c7.proposed(d2 + 2005, 'm1', shipping);
c7.message(d2 + 2050, 'm2');
c7.scored(d2 + 2051, -0.2, -0.45);
const h7 = `h7-${run}`;
c7.handoff(
  d2 + 2060,
  h7,
  'm2',
  [
    { rule: 'frustration', value: -0.7, threshold: -0.5 },
    { rule: 'low_confidence', value: 0.5, threshold: 0.9 },
  ],
  'v2',
  { account: accounts.A },
);
c7.assigned(d2 + 2070, h7);
// c8: shipping, AI only. c9: billing, AI only, rated 5 (account C). c10: billing, AI only.
const c8 = conversation('c8');
c8.message(d2 + 3000, 'm1');
c8.proposed(d2 + 3005, 'm1', shipping);
c8.released(d2 + 3010, 'v2');
c8.resolved(d2 + 3100, Resolution.AI);
const c9 = conversation('c9');
c9.message(d2 + 4000, 'm1');
c9.proposed(d2 + 4005, 'm1', billing);
c9.released(d2 + 4010, 'v2', accounts.C);
c9.resolved(d2 + 4100, Resolution.AI);
c9.csatRequested(d2 + 4101);
c9.rated(d2 + 4200, 5);
const c10 = conversation('c10');
c10.message(d2 + 4500, 'm1');
c10.proposed(d2 + 4505, 'm1', billing);
c10.released(d2 + 4510, 'v2');
c10.resolved(d2 + 4600, Resolution.AI);
// c11: one message with no locale, nothing else: every segment unknown.
const c11 = conversation('c11');
c11.message(d2 + 5000, 'm1', 'web', '');

const all = [c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11];
const articleOld = `art-old-${run}`;
const articleNew = `art-new-${run}`;
const knowledgeEvents = [
  // Published the day before the range, and in the middle of day 2 (after c5, before c6).
  knowledge(
    {
      case: 'articlePublished',
      value: { articleId: articleOld, title: 'Refund rules', topic: billing, origin: 'import' },
    },
    -DAY,
  ),
  knowledge(
    {
      case: 'articlePublished',
      value: {
        articleId: articleNew,
        title: 'Invoices explained',
        topic: billing,
        origin: 'suggestion',
      },
    },
    d2 + 500,
  ),
  knowledge(
    {
      case: 'resolutionMatched',
      value: {
        conversationId: c5.id,
        handoffId: h5,
        articleId: articleOld,
        similarity: 0.9,
        topic: billing,
      },
    },
    d2 + 250,
  ),
];

/** A fake escalation decider: its policy, and a what-if that records the candidate it was sent. */
const policyDocument = {
  version: 'v2',
  joinTimeoutMs: 8000,
  thresholds: { minConfidence: 0.9, frustratedValence: -0.5 },
  rules: [
    {
      name: 'low_confidence',
      detail: 'unsure',
      when: {
        all: [
          { fact: 'proposalKind', operator: 'in', value: ['answer'] },
          { fact: 'confidence', operator: 'lessThan', value: { threshold: 'minConfidence' } },
        ],
      },
    },
    {
      name: 'frustration',
      detail: 'upset',
      when: {
        all: [
          {
            fact: 'valence',
            operator: 'lessThanInclusive',
            value: { threshold: 'frustratedValence' },
          },
        ],
      },
    },
  ],
};
const whatIfCalls: { url: string; auth: string | undefined; body: Record<string, unknown> }[] = [];
function startFakeDecider(): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== 'Bearer decider-key') {
        res.statusCode = 401;
        res.end('{}');
      } else if (req.method === 'GET' && req.url === '/v1/policy') {
        res.end(JSON.stringify({ version: 'v2', document: policyDocument, yaml: '' }));
      } else if (req.method === 'POST' && req.url?.startsWith('/v1/whatif')) {
        const candidate = JSON.parse(body) as Record<string, unknown>;
        whatIfCalls.push({ url: req.url, auth: req.headers.authorization, body: candidate });
        res.end(
          JSON.stringify({
            candidateVersion: candidate.version,
            window: { from: '', to: '' },
            conversations: 11,
            decisions: 14,
            recorded: { handoffs: 4, handoffRate: 0.286, conversationsHandedOff: 4, rules: {} },
            candidate: { handoffs: 2, handoffRate: 0.143, conversationsHandedOff: 2, rules: {} },
            changed: [],
            flipped: { toHuman: [], toAi: [c4.id, c5.id] },
          }),
        );
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Every table of the read model, in a stable order. */
async function tables(database: MetricsDatabase) {
  const read = async (q: string) => (await database.db.execute(sql.raw(q))).rows;
  return {
    processed: await read('select event_id from metrics.processed_events order by 1'),
    conversations: await read('select * from metrics.conversations order by conversation_id'),
    handoffs: await read('select * from metrics.handoffs order by handoff_id'),
    articles: await read('select * from metrics.articles order by article_id'),
  };
}

describe('metrics against Kafka and PostgreSQL', () => {
  let app: INestApplication;
  let url: string;
  let bus: Bus;
  let decider: Server;
  let readModel: ReadModelService;
  let openapi: OpenApiDoc;

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, {
      headers: { authorization: `Bearer ${KEY}`, ...headers },
    });
    const text = await res.text();
    return {
      path,
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      text,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are checked field by field
      body: (text.startsWith('{') ? JSON.parse(text) : undefined) as any,
    };
  };
  const publishEvents = async (events: ConversationEvent[]) => {
    for (const e of events)
      await bus.publish({
        topic: Topics.events,
        key: e.conversationId,
        value: e,
        eventId: e.eventId,
      });
  };
  const publishKnowledge = async (events: KnowledgeEvent[]) => {
    for (const e of events)
      await bus.publish({
        topic: Topics.knowledgeEvents,
        key: e.eventId,
        value: e,
        eventId: e.eventId,
      });
  };
  const applied = async (ids: string[]) => {
    const [r] = await readModel.db.db
      .select({ n: sql<number>`count(*)::int` })
      .from(processedEvents)
      .where(inArray(processedEvents.eventId, ids));
    return r!.n;
  };
  const eventIds = [
    ...all.flatMap((c) => c.events.map((e) => e.eventId)),
    ...knowledgeEvents.map((e) => `knowledge:${e.eventId}`),
  ];

  beforeAll(async () => {
    decider = await startFakeDecider();
    const config = loadConfig(configSchema, {
      ...process.env,
      METRICS_API_KEYS: KEY,
      QUIET_WINDOW_SECONDS: '600',
      DECIDER_URL: `http://127.0.0.1:${(decider.address() as AddressInfo).port}`,
      DECIDER_API_KEY: 'decider-key',
    });
    const logger = new JsonLogger('metrics', 'warn');
    bus = new Bus({ service: 'metrics-itest', brokers: config.KAFKA_BROKERS, logger });
    await bus.ensureTopics();
    // Earlier runs may have left the tables behind the log: start from the log's fold.
    const database = await openMetricsDatabase(config.DATABASE_URL);
    await rebuildReadModel(bus, database);
    await database.pool.end();
    app = await createServiceApp(AppModule.create(config, logger), logger);
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    readModel = app.get(ReadModelService);
    const appBus = app.get(Bus);
    await waitUntil('the consumers to join their groups', () => appBus.health().ok, {
      timeoutMs: 60_000,
    });
    openapi = (await get('/v1/openapi.json')).body;

    // The handoff of c4 is delivered twice at once, the match twice, as after a producer retry.
    const events = all.flatMap((c) => c.events);
    await publishEvents(events.flatMap((e) => (e === c4handoff ? [e, e] : [e])));
    await publishKnowledge([...knowledgeEvents, knowledgeEvents[2]!]);
    await waitUntil(
      'every event to be applied',
      async () => (await applied(eventIds)) === eventIds.length,
      { timeoutMs: 60_000 },
    );
    // A second copy later: c1's rating, c3's reopening message and the article, then a marker behind them.
    const marker = c11.message(d2 + 5001, 'm2', 'web', '');
    await publishEvents([c1.events.at(-1)!, c3.events[4]!, c4handoff, marker]);
    await publishKnowledge([knowledgeEvents[1]!]);
    await waitUntil(
      'the marker to be applied',
      async () => (await applied([marker.eventId])) === 1,
    );
  }, 180_000);

  afterAll(async () => {
    await bus?.close();
    await app?.close();
    decider?.close();
  });

  /** Validates a GET's response against the OpenAPI document's schema for its path and status. */
  const conforms = (res: Awaited<ReturnType<typeof get>>) =>
    expectMatchesOpenApi(openapi, 'GET', res.path, res.status, res.body ?? res.text, res.type);

  it('serves its OpenAPI document at both addresses, describing every route it serves', async () => {
    expect(await checkServedOpenApi(app, url)).toEqual(openapi);
    expect((await get('/v1/metrics/openapi.json')).body).toEqual(openapi);
  });

  it('answers every metric of the overview as computed by hand', async () => {
    const res = await get(`/v1/metrics/overview?${range}`);
    expect(res.status).toBe(200);
    conforms(res);
    expect(res.body).toEqual({
      filters: { from: at(0), to: at(2 * DAY) },
      conversations: 11,
      automation: {
        // AI-resolved without a handoff: c1, c2 (assumed), c3, c8, c9, c10; c6 was handed back first.
        resolved: 6,
        confirmed: 5,
        assumed: 1,
        rate: 0.5455, // 6 / 11
        quietWindowMinutes: 10, // 600 s
      },
      // c4, c5, c6, c7: 4 / 11; the redelivered handoff of c4 counts once.
      handoff: { conversations: 4, handoffs: 4, rate: 0.3636 },
      csat: {
        // Rated: c1 5, c3 2, c4 1, c5 4, c9 5 -> 17 / 5 = 3.4; 4 or 5: c1, c5, c9 = 3 / 5.
        overall: { requested: 5, responses: 5, average: 3.4, satisfied: 0.6 },
        // Without handoff: c1 5, c3 2, c9 5 -> 12 / 3 = 4; satisfied 2 / 3.
        aiOnly: { requested: 3, responses: 3, average: 4, satisfied: 0.6667 },
        // Handed off: c4 1, c5 4 -> 2.5; satisfied 1 / 2.
        handedOff: { requested: 2, responses: 2, average: 2.5, satisfied: 0.5 },
      },
      // h4 marked by the agent, h5 matched an article published before: 2 / 4.
      falseEscalation: { handoffs: 4, marked: 1, matchedArticle: 1, total: 2, rate: 0.5 },
      // AI-resolved: c1, c2, c3, c8, c9, c10; c3 was reopened and rated 2 (counted once): 1 / 6.
      missedEscalation: { aiResolved: 6, reopened: 1, ratedBadly: 1, total: 1, rate: 0.1667 },
      latency: {
        // First message to first handoff: c6 10, c5 20, c7 60, c4 130. percentile_cont over 4:
        // p50 at 1.5 -> 20 + 0.5 * 40 = 40; p90 at 2.7 -> 60 + 0.7 * 70 = 109; p99 at 2.97 -> 60 + 0.97 * 70 = 127.9.
        timeToHandoff: { count: 4, p50: 40, p90: 109, p99: 127.9 },
        // Trigger message to handoff: h6 10, h7 10, h5 20, h4 30 -> p50 at 1.5 -> 15, p90 at 2.7 ->
        // 20 + 0.7 * 10 = 27, p99 at 2.97 -> 20 + 0.97 * 10 = 29.7.
        timeToHandoffFromTrigger: { count: 4, p50: 15, p90: 27, p99: 29.7 },
        // Handoff to acceptance (h7 never accepted; h4 re-routed, its one acceptance): h5 30, h4 60, h6 90
        // -> p50 60, p90 at 1.8 -> 60 + 0.8 * 30 = 84, p99 at 1.98 -> 60 + 0.98 * 30 = 89.4.
        waitToAccept: { count: 3, p50: 60, p90: 84, p99: 89.4 },
        // Handoff to the first reply: h5 90, h4 120 (its second reply ignored), h6 150 -> 120, 144, 149.4.
        timeToFirstHumanReply: { count: 3, p50: 120, p90: 144, p99: 149.4 },
      },
      // No conversation of this log had an AI draft held for review.
      review: {
        reviews: 0,
        approved: 0,
        edited: 0,
        takenOver: 0,
        pending: 0,
        approvedRate: 0,
        timeToReview: { count: 0, p50: null, p90: null, p99: null },
      },
    });
  });

  it('filters on segments, "unknown" being what the log never named', async () => {
    const whatsapp = (await get(`/v1/metrics/overview?${range}&channel=whatsapp`)).body;
    expect(whatsapp.filters).toEqual({ from: at(0), to: at(2 * DAY), channel: 'whatsapp' });
    expect([whatsapp.conversations, whatsapp.handoff.rate, whatsapp.automation.resolved]).toEqual([
      1, 1, 0,
    ]);
    // No account: c2, c6, c8, c10, c11.
    expect((await get(`/v1/metrics/overview?${range}&tier=unknown`)).body.conversations).toBe(5);
    // Policy v1 (the latest version each conversation saw): c1, c2, c3, c4.
    expect((await get(`/v1/metrics/overview?${range}&policyVersion=v1`)).body.conversations).toBe(
      4,
    );
  });

  it('answers a daily timeseries', async () => {
    const res = await get(`/v1/metrics/timeseries?${range}&interval=day`);
    conforms(res);
    expect(res.body.points).toEqual([
      {
        // Day 1: c1..c4; AI-resolved c1, c2, c3; h4 false; AI-only CSAT (5 + 2) / 2; handed off c4 1.
        start: at(0).replace('.000Z', 'Z'),
        conversations: 4,
        handoffs: 1,
        automationRate: 0.75,
        handoffRate: 0.25,
        falseEscalationRate: 1,
        csatAiOnly: 3.5,
        csatHandedOff: 1,
        timeToHandoff: { count: 1, p50: 130, p90: 130, p99: 130 },
        waitToAccept: { count: 1, p50: 60, p90: 60, p99: 60 },
        timeToFirstHumanReply: { count: 1, p50: 120, p90: 120, p99: 120 },
      },
      {
        // Day 2: c5..c11; AI-resolved c8, c9, c10 (3 / 7); handoffs h5, h6, h7 (3 / 7), h5 false (1 / 3).
        start: at(DAY).replace('.000Z', 'Z'),
        conversations: 7,
        handoffs: 3,
        automationRate: 0.4286,
        handoffRate: 0.4286,
        falseEscalationRate: 0.3333,
        csatAiOnly: 5,
        csatHandedOff: 4,
        // 10, 20, 60: p90 at 1.8 -> 20 + 0.8 * 40 = 52, p99 -> 20 + 0.98 * 40 = 59.2.
        timeToHandoff: { count: 3, p50: 20, p90: 52, p99: 59.2 },
        // 30, 90: p50 60, p90 30 + 0.9 * 60 = 84, p99 30 + 0.99 * 60 = 89.4.
        waitToAccept: { count: 2, p50: 60, p90: 84, p99: 89.4 },
        // 90, 150: 120, 144, 149.4.
        timeToFirstHumanReply: { count: 2, p50: 120, p90: 144, p99: 149.4 },
      },
    ]);
  });

  it('answers a breakdown by channel and by language', async () => {
    const res = await get(`/v1/metrics/breakdown?${range}&groupBy=channel`);
    conforms(res);
    expect(res.body.rows).toEqual([
      // web: c1 c2 c4 c5 c7 c8 c9 c10 c11. AI-resolved c1 c2 c8 c9 c10 (5 / 9), handed off c4 c5 c7 (3 / 9),
      // false h4 h5 of h4 h5 h7 (2 / 3), missed none of 5, AI-only CSAT c1 5 c9 5, handed off (1 + 4) / 2.
      {
        key: 'web',
        conversations: 9,
        automationRate: 0.5556,
        handoffRate: 0.3333,
        falseEscalationRate: 0.6667,
        missedEscalationRate: 0,
        csatAiOnly: 5,
        csatHandedOff: 2.5,
      },
      // email: c3, AI-resolved, reopened and rated 2: missed 1 / 1.
      {
        key: 'email',
        conversations: 1,
        automationRate: 1,
        handoffRate: 0,
        falseEscalationRate: 0,
        missedEscalationRate: 1,
        csatAiOnly: 2,
        csatHandedOff: null,
      },
      // whatsapp: c6, handed off (not false), resolved by the AI after the handback: not automation.
      {
        key: 'whatsapp',
        conversations: 1,
        automationRate: 0,
        handoffRate: 1,
        falseEscalationRate: 0,
        missedEscalationRate: 0,
        csatAiOnly: null,
        csatHandedOff: null,
      },
    ]);
    const languages = (await get(`/v1/metrics/breakdown?${range}&groupBy=language`)).body.rows;
    expect(
      languages.map((r: { key: string; conversations: number }) => [r.key, r.conversations]),
    ).toEqual([
      ['en', 8],
      ['de', 1],
      ['fr', 1],
      ['unknown', 1],
    ]);
  });

  it('answers handoffs by rule and by trigger', async () => {
    const res = await get(`/v1/metrics/handoffs?${range}`);
    conforms(res);
    expect(res.body).toEqual({
      filters: { from: at(0), to: at(2 * DAY) },
      handoffs: 4,
      // h4, h5, h7 under low_confidence; h7 under frustration too; h6 an explicit request.
      byRule: [
        { rule: 'low_confidence', handoffs: 3, share: 0.75 },
        { rule: 'explicit_human_request', handoffs: 1, share: 0.25 },
        { rule: 'frustration', handoffs: 1, share: 0.25 },
      ],
      // First rules: h4, h5 low_confidence (confidence), h6 explicit request, h7 frustration (sentiment).
      byTrigger: [
        { trigger: 'confidence', handoffs: 2, share: 0.5 },
        { trigger: 'explicit_request', handoffs: 1, share: 0.25 },
        { trigger: 'sentiment', handoffs: 1, share: 0.25 },
      ],
    });
  });

  it('answers rules with a threshold suggestion named from the policy', async () => {
    const res = await get(`/v1/metrics/rules?${range}`);
    conforms(res);
    expect(res.body).toEqual({
      filters: { from: at(0), to: at(2 * DAY) },
      policyVersion: 'v2',
      rules: [
        {
          rule: 'low_confidence',
          fires: 3,
          falseEscalations: 2, // h4 (0.87) and h5 (0.88); h7 (0.5, with frustration) confirmed.
          falseEscalationRate: 0.6667,
          // minConfidence is compared with lessThan: at 0.87 neither 0.87 nor 0.88 fires; h7 fired
          // with another rule, so no confirmed handoff is missed (1 confirmed: none may be).
          suggestion: {
            threshold: 'minConfidence',
            current: 0.9,
            suggested: 0.87,
            rationale:
              "Lowering minConfidence from 0.9 to 0.87 would have kept 2 of low_confidence's 2 false escalations from a person and sent 0 of its 1 confirmed handoffs to the AI instead (at most 0 allowed).",
            wouldAvoidFalse: 2,
            wouldMissConfirmed: 0,
          },
        },
        {
          rule: 'explicit_human_request',
          fires: 1,
          falseEscalations: 0,
          falseEscalationRate: 0,
          suggestion: null,
        },
        {
          rule: 'frustration',
          fires: 1,
          falseEscalations: 0,
          falseEscalationRate: 0,
          suggestion: null,
        },
      ],
    });
  });

  it('answers topics with their trend and the rate before and after each article', async () => {
    const res = await get(`/v1/metrics/topics?${range}&interval=day`);
    conforms(res);
    const day1 = at(0).replace('.000Z', 'Z');
    const day2 = at(DAY).replace('.000Z', 'Z');
    expect(res.body.topics).toEqual([
      {
        // billing: c1 c2 c3 c4 (day 1), c5 c6 c9 c10 (day 2); escalated c4 | c5 c6: 1 -> 2, +100 %.
        topic: billing,
        conversations: 8,
        escalations: 3,
        trend: 'rising',
        change: 1,
        series: [
          { start: day1, conversations: 4, escalations: 1 },
          { start: day2, conversations: 4, escalations: 2 },
        ],
        articles: [
          // Published before the range: every billing conversation is after it, 3 / 8.
          {
            articleId: articleOld,
            title: 'Refund rules',
            publishedAt: at(-DAY),
            before: { conversations: 0, escalations: 0, rate: 0 },
            after: { conversations: 8, escalations: 3, rate: 0.375 },
          },
          // Day 2 + 500 s: before c1..c5 (escalated c4, c5: 2 / 5), after c6 c9 c10 (c6: 1 / 3).
          {
            articleId: articleNew,
            title: 'Invoices explained',
            publishedAt: at(d2 + 500),
            before: { conversations: 5, escalations: 2, rate: 0.4 },
            after: { conversations: 3, escalations: 1, rate: 0.3333 },
          },
        ],
      },
      // shipping: c7 (escalated), c8, both day 2: 0 -> 1.
      {
        topic: shipping,
        conversations: 2,
        escalations: 1,
        trend: 'rising',
        change: 1,
        series: [{ start: day2, conversations: 2, escalations: 1 }],
        articles: [],
      },
      {
        topic: 'unknown',
        conversations: 1,
        escalations: 0,
        trend: 'flat',
        change: 0,
        series: [{ start: day2, conversations: 1, escalations: 0 }],
        articles: [],
      },
    ]);
  });

  it('answers churn risk for accounts that matter showing trouble', async () => {
    const res = await get(`/v1/metrics/churn-risk?${range}`);
    conforms(res);
    expect(res.body.accounts).toEqual([
      {
        // A: enterprise; c1, c4, c7; c4 fell to -0.6 (a fall of -0.5), c7 fell by -0.45; c4 handed off and rated 1.
        ...accounts.A,
        atRisk: false,
        conversations: 3,
        handoffs: 2,
        lastConversationId: c7.id,
        lastAt: at(d2 + 2000),
        sentiment: -0.6,
        change: -0.5,
        lowestCsat: 1,
        reasons: [
          'enterprise tier',
          'sentiment fell to -0.6',
          'sentiment dropped by 0.5 within a conversation',
          'a handed-off conversation was rated 1 of 5',
        ],
      },
      {
        // B: at risk in the CRM; c5 at -0.35.
        ...accounts.B,
        conversations: 1,
        handoffs: 1,
        lastConversationId: c5.id,
        lastAt: at(d2),
        sentiment: -0.35,
        change: -0.1,
        lowestCsat: 4,
        reasons: ['the CRM flags the account at risk', 'sentiment fell to -0.35'],
      },
      // C (pro, not at risk) rated c3 2 without a handoff: no churn risk.
    ]);
  });

  it('keeps /summary working', async () => {
    const res = await get(`/v1/metrics/summary?${range}`);
    conforms(res);
    expect(res.body).toEqual(
      expect.objectContaining({
        conversations: 11,
        handoffs: 4,
        aiResolutions: 7,
        humanResolutions: 2,
        assigned: 4,
      }),
    );
  });

  it('answers the same rows as CSV', async () => {
    const overview = await get(`/v1/metrics/overview?${range}&format=csv`);
    expect(overview.type).toMatch(/text\/csv/);
    conforms(overview);
    const [header, row] = overview.text.trim().split('\n');
    const values = Object.fromEntries(header!.split(',').map((h, i) => [h, row!.split(',')[i]]));
    expect(values).toEqual(
      expect.objectContaining({
        conversations: '11',
        'automation.rate': '0.5455',
        'latency.waitToAccept.p90': '84',
      }),
    );
    const breakdown = await get(`/v1/metrics/breakdown?${range}`, { accept: 'text/csv' });
    expect(breakdown.text.trim().split('\n')).toEqual([
      'key,conversations,automationRate,handoffRate,falseEscalationRate,missedEscalationRate,csatAiOnly,csatHandedOff',
      'web,9,0.5556,0.3333,0.6667,0,5,2.5',
      'email,1,1,0,0,1,2,',
      'whatsapp,1,0,1,0,0,,',
    ]);
    for (const path of ['timeseries', 'handoffs', 'rules', 'topics', 'churn-risk', 'summary'])
      expect((await get(`/v1/metrics/${path}?${range}&format=csv`)).type).toMatch(/text\/csv/);
  });

  it('refuses bad input with a 400 naming the field, and reads without a key', async () => {
    for (const [query, field] of [
      ['to=not-a-date', 'to'],
      ['from=2026-02-30', 'from'],
      ['interval=month', 'interval'],
      ['groupBy=agent', 'groupBy'],
    ]) {
      const res = await get(`/v1/metrics/breakdown?${query}`);
      expect(res.status).toBe(400);
      conforms(res);
      expect(res.body.issues).toEqual([expect.objectContaining({ field })]);
    }
    const anonymous = await fetch(`${url}/v1/metrics/overview`);
    expect(anonymous.status).toBe(401);
    expectMatchesOpenApi(openapi, 'GET', '/v1/metrics/overview', 401, await anonymous.json());
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const prom = await (await fetch(`${url}/metrics`)).text();
    expect(prom).toMatch(/^metrics_handoff_rate_24h \d/m);
    expect(prom).toMatch(/^metrics_wait_to_accept_p90_seconds_24h \d/m);
  });

  it("replays a rule's suggestion with the decider's what-if", async () => {
    const post = (rule: string, key = KEY) =>
      fetch(`${url}/v1/metrics/rules/${rule}/whatif?${range}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
      });
    expect((await post('low_confidence', 'wrong')).status).toBe(401);
    const unknown = await post('nothing_like_it');
    expect(unknown.status).toBe(404);
    expectMatchesOpenApi(
      openapi,
      'POST',
      '/v1/metrics/rules/nothing_like_it/whatif',
      404,
      await unknown.json(),
    );
    expect((await post('frustration')).status).toBe(409);
    const res = await post('low_confidence');
    expect(res.status).toBe(200);
    const body = await res.json();
    expectMatchesOpenApi(openapi, 'POST', '/v1/metrics/rules/low_confidence/whatif', 200, body);
    expect(body).toEqual({
      rule: 'low_confidence',
      suggestion: expect.objectContaining({ threshold: 'minConfidence', suggested: 0.87 }),
      candidateVersion: 'v2+minConfidence=0.87',
      recorded: { handoffs: 4, handoffRate: 0.286, conversationsHandedOff: 4 },
      candidate: { handoffs: 2, handoffRate: 0.143, conversationsHandedOff: 2 },
      flipped: { toHuman: 0, toAi: 2 },
    });
    // The decider got the policy in force with only the threshold changed, over the same window.
    expect(whatIfCalls.at(-1)).toEqual({
      url: `/v1/whatif?from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(2 * DAY))}`,
      auth: 'Bearer decider-key',
      body: {
        ...policyDocument,
        version: 'v2+minConfidence=0.87',
        thresholds: { minConfidence: 0.87, frustratedValence: -0.5 },
      },
    });
    await new Promise<void>((resolve) => decider.close(() => resolve()));
    decider.closeAllConnections();
    const down = await post('low_confidence');
    expect(down.status).toBe(502);
    expect(((await down.json()) as { message: string }).message).toMatch(/escalation decider/);
  });

  it('rebuilds the same tables from the log, and the pure fold gives the same rows', async () => {
    const before = await tables(readModel.db);
    await rebuildReadModel(bus, readModel.db);
    expect(await tables(readModel.db)).toEqual(before);

    // The fold over this run's events, repeats included, equals the rows the consumers wrote.
    const events = all.flatMap((c) => c.events);
    const folded = foldEvents(
      [...events, events[3]!, c4handoff],
      [...knowledgeEvents, knowledgeEvents[2]!],
    );
    const mine = before.conversations.filter((r) => String(r.conversation_id).endsWith(run));
    expect(folded.conversations).toHaveLength(11);
    expect(mine).toHaveLength(11);
    for (const row of folded.conversations) {
      const stored = mine.find((r) => r.conversation_id === row.conversationId)!;
      expect([stored.handoffs, stored.resolved_as, stored.csat_score, stored.topic]).toEqual([
        row.handoffs,
        row.resolvedAs,
        row.csatScore,
        row.topic,
      ]);
    }
  });

  it('applies a whole batch of events in one transaction to the rows that one at a time gave', async () => {
    const before = await tables(readModel.db);
    // This run's rows and ids go, then come back from one batch (repeats in it) and the knowledge events.
    const { db } = readModel.db;
    for (const table of ['conversations', 'handoffs', 'reviews'])
      await db.execute(
        sql.raw(`delete from metrics.${table} where conversation_id like '%-${run}'`),
      );
    const events = all.flatMap((c) => c.events); // the marker included
    const ids = [...events.map((e) => e.eventId), ...eventIds];
    await db.delete(processedEvents).where(inArray(processedEvents.eventId, ids));
    const batch = [...events, events[3]!, c4handoff].map((event) => ({
      event,
      fallbackAt: new Date(),
    }));
    const unique = new Set(events.map((e) => e.eventId)).size;
    expect(await applyConversationEventsToDatabase(readModel.db, batch)).toBe(unique);
    expect(await applyConversationEventsToDatabase(readModel.db, batch)).toBe(0); // redelivered
    for (const e of [...knowledgeEvents, knowledgeEvents[2]!])
      await applyKnowledgeEventToDatabase(readModel.db, e, new Date());
    expect(await tables(readModel.db)).toEqual(before);
  });
});
