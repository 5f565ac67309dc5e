// npm run bench [-- --messages 400 --concurrency 16 --rate 100 --seconds 20 --open-conversations 0]
// Pushes customer messages through the running services (HTTP ingest -> Kafka -> ai-responder +
// sentiment-scorer -> escalation-decider -> support.outbound) and reports:
// - closed loop (`--messages`, `--concurrency` POSTs at a time): throughput and latency from the
//   POST to the AI reply on support.outbound, from a triggering message to its handoff, and from
//   the handoff to the router's assignment (with agents on duty who have room); beside a raw
//   kafkajs produce -> consume round trip on the same broker;
// - at a fixed rate (open loop: each message goes out at its scheduled time, `--rate` msg/s for
//   `--seconds`), questions and explicit requests for a person mixed in one run (one in
//   `--person-every`): ingest -> AI reply, request -> HandoffRequest, handoff -> agent assigned;
// - the sustained rate: the paced rate of questions stepped up (`--steps`, `--step-seconds` each)
//   until the ingest -> AI reply p99 reaches 1 s or answers are lost, with the AI responder's
//   retrieval by words only (EMBEDDINGS_PROVIDER=none) and hybrid (local, the default: the
//   neural encoder takes part in retrieval), the responder restarted for each; beside raw batched
//   kafkajs produce (`--raw-records` of 200 bytes, `--raw-batch` per send) in the same run;
// - memory after the runs: each service process's RSS and Redis, with the conversations the run
//   left open (`--open-conversations N` opens N more first, one question each, at the sustained
//   rate or `--open-rate`).
// The services read KAFKA_BROKERS, REDIS_URL and DATABASE_URL from this environment (their
// defaults otherwise: the broker, Redis database 0 and PostgreSQL database `npm start` uses).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { root, serviceArgs, services, waitHealthy } from '../scripts/services.mjs';
import { followTopic } from './follow.mjs';
import {
  drain,
  followOutcomes,
  P99_LIMIT_MS,
  pace,
  PacedRun,
  sustainedRate,
} from './pipeline-paced.mjs';
import {
  cpuSecondsOf,
  rawBatchedProduce,
  redisMemory,
  rssOf,
  waitIdle,
} from './pipeline-resources.mjs';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');
const { Topics } = require('@support/bus');
const {
  ConversationEventSchema,
  fromBinary,
  HandoffRequestSchema,
  OutboundMessageSchema,
  OutboundKind,
} = require('@support/contracts');

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '16' },
    'base-port': { type: 'string', default: '5101' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    'person-every': { type: 'string', default: '5' },
    // Starts below 25 msg/s: on two shared cores the whole pipeline may not sustain 25.
    steps: { type: 'string', default: '5,10,25,50,100,200,400,800,1600' },
    'step-seconds': { type: 'string', default: '5' },
    'drain-seconds': { type: 'string', default: '120' },
    'raw-records': { type: 'string', default: '50000' },
    'raw-batch': { type: 'string', default: '500' },
    'open-conversations': { type: 'string', default: '0' },
    // msg/s at which they are opened: the sustained rate found with the encoder on by default,
    // 0 for --concurrency POSTs at a time (as fast as the pipeline takes them).
    'open-rate': { type: 'string' },
  },
});
const N = Number(args.messages);
const C = Number(args.concurrency);
const BASE = Number(args['base-port']);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const PERSON_EVERY = Number(args['person-every']);
const STEPS = args.steps.split(',').map(Number);
const STEP_SECONDS = Number(args['step-seconds']);
const DRAIN_MS = Number(args['drain-seconds']) * 1000;
const OPEN = Number(args['open-conversations']);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support';
const apiKey = `bench-${randomBytes(8).toString('hex')}`;
const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
const portOf = (name) => BASE + services.findIndex((s) => s.name === name);
/** Every conversation the benchmark started, by the run that started it. */
const created = new Map();
/** When each conversation's first message was POSTed (epoch ms), by conversation id. */
const postedAt = new Map();
/** The conversations the benchmark has resolved. */
const resolved = new Set();

/** Where the run happens, printed with every table. */
function where() {
  const redis = new URL(redisUrl);
  const db = new URL(databaseUrl);
  return (
    `brokers=${brokers.join(',')} redis=${redis.host}${redis.pathname || '/0'} ` +
    `postgres=${db.host}${db.pathname} partitions=${Topics.events.partitions} ` +
    `cpus=${cpus().length} node=${process.version}`
  );
}
const settings = (what) => console.log(`\nsettings: ${what} ${where()}`);

const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (ms) => `${ms.toFixed(1)} ms`;
function summarise(latencies, seconds) {
  const s = [...latencies].sort((a, b) => a - b);
  return {
    count: s.length,
    throughput: s.length / seconds,
    p50: pct(s, 50),
    p99: pct(s, 99),
    max: s.at(-1),
  };
}

async function rawKafkaReference() {
  const topic = `bench.raw.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6 }] });
  await admin.disconnect();
  await new Promise((r) => setTimeout(r, 500));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const sentAt = new Map();
  const latencies = [];
  let done;
  const finished = new Promise((r) => (done = r));
  await consumer.run({
    // Throwaway groups: committing each batch's offset would load the broker under test.
    autoCommit: false,
    partitionsConsumedConcurrently: 3,
    eachMessage: async ({ message }) => {
      const id = message.key.toString();
      latencies.push(performance.now() - sentAt.get(id));
      if (latencies.length === N) done();
    },
  });
  await new Promise((r) => setTimeout(r, 1500));
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const id = String(next++);
        sentAt.set(id, performance.now());
        await producer.send({ topic, acks: -1, messages: [{ key: id, value: randomBytes(200) }] });
      }
    }),
  );
  await finished;
  const seconds = (performance.now() - start) / 1000;
  await consumer.disconnect();
  await producer.disconnect();
  const cleanup = kafka.admin();
  await cleanup.connect();
  await cleanup.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await cleanup.disconnect();
  return summarise(latencies, seconds);
}

/** The services' environment: this one, with the benchmark's keys and the bench ports. */
function serviceEnv() {
  return {
    ...process.env,
    INGEST_API_KEYS: apiKey,
    ROUTER_API_KEYS: apiKey,
    // The demo roster (always on duty) is seeded, and nobody's desk reports presence here:
    // every agent on duty counts as online. The benchmark adds agents with room (benchAgents).
    ROUTER_SEED_DEMO: 'true',
    ROUTER_PRESENCE: 'ignored',
    AI_RESPONDER_API_KEYS: apiKey,
    DESK_API_KEYS: apiKey,
    DECIDER_API_KEYS: apiKey,
    METRICS_API_KEYS: apiKey,
    // The desk and the metrics service call each other's sibling here, not npm start's ports.
    METRICS_URL: `http://127.0.0.1:${portOf('metrics')}`,
    METRICS_API_KEY: apiKey,
    DECIDER_URL: `http://127.0.0.1:${portOf('escalation-decider')}`,
    DECIDER_API_KEY: apiKey,
    DESK_SESSION_SECRET: randomBytes(24).toString('hex'),
    STREAM_TOKEN_SECRET: randomBytes(24).toString('hex'),
    LOG_LEVEL: 'warn',
  };
}
const baseEnv = serviceEnv();

/** Processes that exited while the benchmark still needed them (reported at the end). */
const exits = [];
let stopping = false;

/** Starts service `i` (of scripts/services.mjs) on BASE + i, with `extra` settings. */
function spawnService(i, extra = {}) {
  const child = spawn(process.execPath, serviceArgs(services[i].name), {
    env: { ...baseEnv, ...extra, PORT: String(BASE + i) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (stopping || child.replaced) return;
    exits.push(`${services[i].name} (pid ${child.pid}) exited: ${code ?? signal}`);
    console.error(`bench: ${exits.at(-1)}`);
  });
  return child;
}

/** The service processes, in the order of scripts/services.mjs. */
const children = [];

/** Restarts the AI responder with `env` (e.g. another EMBEDDINGS_PROVIDER), once healthy again. */
async function restartResponder(env) {
  const i = services.findIndex((s) => s.name === 'ai-responder');
  const old = children[i];
  old.replaced = true;
  if (old.exitCode === null && old.signalCode === null) {
    const exited = new Promise((r) => old.once('exit', r));
    old.kill('SIGTERM');
    await exited;
  }
  children[i] = spawnService(i, env);
  if (!(await waitHealthy(BASE + i))) throw new Error('ai-responder not healthy after restart');
}

async function waitAllHealthy() {
  for (let i = 0; i < services.length; i++) {
    if (!(await waitHealthy(BASE + i))) throw new Error(`${services[i].name} not healthy`);
  }
}

/** POSTs one customer message as a conversation of its own, for `run`; resolves with its id. */
async function postOne(text, run) {
  const ext = `bench-${randomUUID()}`;
  const body = {
    channel: 'bench',
    externalConversationId: ext,
    customerId: `c-${ext.slice(-12)}`,
    text,
    idempotencyKey: ext,
    locale: 'en',
  };
  const at = Date.now();
  const res = await fetch(`http://127.0.0.1:${BASE}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${JSON.stringify(json)}`);
  created.set(json.conversationId, run);
  postedAt.set(json.conversationId, at);
  return json.conversationId;
}

/** POSTs n customer messages (texts in turn) with C at a time, each its own conversation; records when each went out. */
async function postMessages(texts, n, sentAt, run) {
  let next = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        sentAt.set(await postOne(texts[i % texts.length], run), t0);
      }
    }),
  );
}

/**
 * Posts n messages (texts in turn) and waits for the record each one causes on
 * `topic`: `match(value)` returns the record's conversation id and whether it
 * counts as a success (its latency is kept) or an outcome of another kind, or
 * undefined to ignore it. Resolves with the latency figures and the counts.
 */
async function measure({ topic, schema, match, texts, n, run }) {
  const sentAt = new Map();
  const latencies = [];
  let others = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const follower = await followTopic(brokers, topic.name, ({ value }) => {
    const seen = match(fromBinary(schema, value));
    if (!seen) return;
    const t0 = sentAt.get(seen.conversationId);
    if (t0 === undefined) return;
    sentAt.delete(seen.conversationId);
    if (seen.success) latencies.push(performance.now() - t0);
    else others++;
    if (latencies.length + others === n) done();
  });
  await new Promise((r) => setTimeout(r, 1000));
  const start = performance.now();
  await postMessages(texts, n, sentAt, run);
  const timeout = setTimeout(() => done(), 120_000);
  await finished;
  clearTimeout(timeout);
  const seconds = (performance.now() - start) / 1000;
  await follower.stop();
  return { ...summarise(latencies, seconds), others, missing: n - latencies.length - others };
}

/** From a triggering customer message (POST) to its HandoffRequest on handoff.requests. */
const handoffLatency = (texts, n, run) =>
  measure({
    topic: Topics.handoffRequests,
    schema: HandoffRequestSchema,
    match: (h) => ({ conversationId: h.conversationId, success: true }),
    texts,
    n,
    run,
  });

async function routerApi(method, path, body) {
  const res = await fetch(`http://127.0.0.1:${portOf('router')}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Handoffs the closed-loop runs make (explicit requests, then topic-risk messages). */
const HN = Math.max(20, Math.round(N / 4));
/** Requests for a person in the paced run. */
const PACED_PERSONS = Math.ceil((RATE * SECONDS) / PERSON_EVERY);

/**
 * Agents on duty with room for every handoff of a phase (the benchmark resolves its handed-off
 * conversations between phases): the demo roster holds 14 conversations at once, and
 * conversations of earlier runs or of `npm start` may hold or wait for them. At least three
 * agents with every skill of the demo roster at level 5, all the notice languages and 100
 * conversations each (the router's most), always on duty (presence is ignored), rank first for
 * every handoff.
 */
const benchAgents = Array.from(
  { length: Math.max(3, Math.ceil(Math.max(2 * HN, PACED_PERSONS) / 100) + 1) },
  (_, i) => ({ id: `bench-agent-${i + 1}`, name: `Bench Agent ${i + 1}` }),
);
async function provisionAgents() {
  const seed = JSON.parse(readFileSync(join(root, 'services/router/seed/agents.json'), 'utf8'));
  const skills = [
    ...new Set([
      'general',
      ...seed.flatMap((a) => a.skills.map((s) => (typeof s === 'string' ? s : s.name))),
    ]),
  ];
  const team = await routerApi('PUT', '/v1/teams/bench', { description: 'npm run bench' });
  if (team.status !== 200) throw new Error(`router: PUT /v1/teams/bench ${team.status}`);
  for (const a of benchAgents) {
    const res = await routerApi('PUT', `/v1/agents/${a.id}`, {
      name: a.name,
      team: 'bench',
      skills: skills.map((name) => ({ name, level: 5 })),
      languages: ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt'],
      maxConcurrent: 100,
      active: true,
      workingHours: null,
    });
    if (res.status !== 200)
      throw new Error(`router: PUT /v1/agents/${a.id} ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** Takes the benchmark's agents off new handoffs. */
async function retireAgents() {
  for (const a of benchAgents) await routerApi('PATCH', `/v1/agents/${a.id}`, { active: false });
}

/** Removes the benchmark's (inactive) agents once free; one still holding a conversation stays, inactive. */
async function removeAgents() {
  let kept = 0;
  for (const a of benchAgents) {
    const deadline = Date.now() + 10_000;
    let res = await routerApi('DELETE', `/v1/agents/${a.id}`);
    while (res.status === 409 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      res = await routerApi('DELETE', `/v1/agents/${a.id}`);
    }
    if (res.status === 409) kept++;
  }
  if (kept === 0) await routerApi('DELETE', '/v1/teams/bench');
  else
    console.log(`
${kept} bench agent(s) still hold conversations: left inactive`);
}

/**
 * Follows the log for handoffs and their first assignment (or queueing) from now on: when each
 * HandoffRequested and AgentAssigned happened (their occurredAt), by conversation.
 */
async function watchAssignments() {
  const seen = new Map();
  const follower = await followTopic(brokers, Topics.events.name, ({ value, timestamp }) => {
    const e = fromBinary(ConversationEventSchema, value);
    const kind = e.payload.case;
    if (HOP_EVENTS.includes(kind)) {
      const row = seen.get(e.conversationId) ?? {};
      // When its producer sent the record: a hop is the time from one record to the next.
      row.sent ??= {};
      row.sent[kind] ??= timestamp;
      seen.set(e.conversationId, row);
    }
    if (kind !== 'handoffRequested' && kind !== 'agentAssigned' && kind !== 'handoffQueued') return;
    const row = seen.get(e.conversationId) ?? {};
    if (kind === 'handoffRequested') row.requestedAt ??= Date.parse(e.occurredAt);
    else if (kind === 'agentAssigned') row.assignedAt ??= Date.parse(e.occurredAt);
    else if (row.assignedAt === undefined) row.queued = true;
    seen.set(e.conversationId, row);
  });
  return { seen, stop: () => follower.stop() };
}

/** The log events whose records' times the hops are read from. */
const HOP_EVENTS = [
  'customerMessageReceived',
  'messageScored',
  'aiReplyProposed',
  'aiReplyReleased',
  'handoffRequested',
];

/**
 * Where a message's time goes on the log, for the conversations of these runs: from each record
 * to the one it caused, by the times their producers sent them (one clock: one machine). The
 * scorer and the responder each start from the received message; the decider from whichever of
 * the score and the proposal came last.
 */
function hopLatency(watch, runs) {
  const hops = new Map([
    ['POST → customerMessageReceived (ingest, through support.inbound)', []],
    ['customerMessageReceived → messageScored (sentiment scorer)', []],
    ['customerMessageReceived → aiReplyProposed (AI responder)', []],
    ['later of score and proposal → aiReplyReleased (decider)', []],
    ['customerMessageReceived → handoffRequested (decider, a request for a person)', []],
  ]);
  const [received, scored, proposed, released, requested] = [...hops.values()];
  for (const [id, run] of created) {
    if (!runs.includes(run)) continue;
    const t = watch.seen.get(id)?.sent;
    const at = t?.customerMessageReceived;
    if (at === undefined) continue;
    if (postedAt.has(id)) received.push(at - postedAt.get(id));
    if (t.messageScored !== undefined) scored.push(t.messageScored - at);
    if (t.aiReplyProposed !== undefined) proposed.push(t.aiReplyProposed - at);
    if (t.aiReplyReleased !== undefined && t.aiReplyProposed !== undefined)
      released.push(t.aiReplyReleased - Math.max(t.aiReplyProposed, t.messageScored ?? 0));
    if (t.handoffRequested !== undefined) requested.push(t.handoffRequested - at);
  }
  return [...hops]
    .filter(([, values]) => values.length > 0)
    .map(([hop, values]) => ({
      hop,
      ...summarise(
        values.map((v) => Math.max(0, v)),
        1,
      ),
    }));
}

/**
 * From HandoffRequested (the decider's time on the log) to AgentAssigned (the router's), for the
 * handoffs of these runs that an agent with room took at once; the ones that had to wait are
 * counted apart. Waits up to 30 s for the router to have decided on every one.
 */
async function assignmentLatency(watch, runs, seconds) {
  const handedOff = () =>
    [...created]
      .filter(([, run]) => runs.includes(run))
      .map(([id]) => watch.seen.get(id))
      .filter((row) => row?.requestedAt !== undefined);
  const deadline = Date.now() + 30_000;
  while (
    handedOff().some((row) => row.assignedAt === undefined && !row.queued) &&
    Date.now() < deadline
  )
    await new Promise((r) => setTimeout(r, 100));
  const rows = handedOff();
  const direct = rows.filter((row) => row.assignedAt !== undefined && !row.queued);
  return {
    ...summarise(
      direct.map((row) => Math.max(0, row.assignedAt - row.requestedAt)),
      seconds,
    ),
    queued: rows.filter((row) => row.queued).length,
    undecided: rows.filter((row) => row.assignedAt === undefined && !row.queued).length,
  };
}

/**
 * Closes every conversation the benchmark handed off and has not closed yet, so that none holds an
 * agent or waits after it.
 */
async function resolveHandedOff(watch) {
  const ids = [...created.keys()].filter(
    (id) => !resolved.has(id) && watch.seen.get(id)?.requestedAt !== undefined,
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < ids.length) {
        const id = ids[next++];
        const res = await fetch(
          `http://127.0.0.1:${portOf('ingest')}/v1/conversations/${id}/resolve`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
            body: JSON.stringify({ resolvedBy: 'bench' }),
          },
        );
        await res.text();
        if (res.ok) resolved.add(id);
      }
    }),
  );
  return ids.length;
}

/** Questions the demo knowledge base answers. */
const QUESTIONS = [
  'How do I reset my password?',
  'Where can I download my invoices?',
  'How do I change my plan?',
  'How do I create an API key?',
  'How do I set up SSO?',
  'How can I export my data?',
  'How do I add a team member?',
  'How do I set up webhooks?',
];
/** Explicit requests for a person (handed off without waiting for the AI). */
const PERSON_REQUESTS = [
  'I want to talk to a human',
  'Can I speak to an agent please?',
  'Get me a real person',
];

/** From a question (POST) to the AI reply on support.outbound; handoffs are counted apart. */
async function pipeline(n = N, run = 'pipeline') {
  const { others, ...figures } = await measure({
    topic: Topics.outbound,
    schema: OutboundMessageSchema,
    match: (m) =>
      m.inReplyTo === ''
        ? undefined
        : { conversationId: m.conversationId, success: m.kind === OutboundKind.AI_REPLY },
    texts: QUESTIONS,
    n,
    run,
  });
  return { ...figures, handoffs: others };
}

/** Per consumer group, from each service's Prometheus histograms: how long records waited and how long handling took. */
async function consumerStats() {
  const rows = new Map();
  for (let i = 0; i < services.length; i++) {
    const text = await (await fetch(`http://127.0.0.1:${BASE + i}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m =
        /^bus_(record_age|handle)_seconds_(sum|count)\{topic="([^"]+)",group="([^"]+)"\} (\S+)$/.exec(
          line,
        );
      if (!m) continue;
      const key = `${m[4]} (${m[3]})`;
      const row = rows.get(key) ?? { group: key };
      row[`${m[1]}_${m[2]}`] = Number(m[5]);
      rows.set(key, row);
    }
  }
  return [...rows.values()].map((r) => ({
    group: r.group,
    count: r.handle_count ?? 0,
    age: r.record_age_count ? r.record_age_sum / r.record_age_count : 0,
    handle: r.handle_count ? r.handle_sum / r.handle_count : 0,
  }));
}

const fmtOr = (ms) => (ms === undefined ? '-' : fmt(ms));
const mib = (bytes) => (bytes === undefined ? 'exited' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

/** Waits for the services to catch up with the pipeline's topics; says so if they did not. */
async function settle(what, ms = 300_000) {
  const lag = await waitIdle(kafka, ms);
  if (lag > 0) console.log(`${what}: the services still had ${lag} records to handle`);
}

/** Today's closed-loop runs: the raw round trip, ingest -> AI reply, handoffs, assignment. */
async function closedLoopRuns(watch) {
  console.log(
    'running reference: raw kafkajs produce -> consume (acks=all, idempotent producer, 200-byte values)…',
  );
  const raw = await rawKafkaReference();
  console.log('running pipeline: POST /v1/messages -> AI reply on support.outbound…');
  const pipe = await pipeline();
  console.log(
    `running handoffs: ${HN} explicit requests for a person, then ${HN} topic-risk messages…`,
  );
  const handoffsStart = performance.now();
  const explicit = await handoffLatency(PERSON_REQUESTS, HN, 'explicit');
  const topicRisk = await handoffLatency(
    [
      'Please delete all personal data you hold about me under GDPR.',
      'Someone signed in to our account from an unknown country and changed the bank details.',
    ],
    HN,
    'topic-risk',
  );
  const assignment = await assignmentLatency(
    watch,
    ['explicit', 'topic-risk'],
    (performance.now() - handoffsStart) / 1000,
  );
  return { raw, pipe, explicit, topicRisk, assignment };
}

/** Prints the closed-loop table, the consumer groups' table and what went amiss. */
async function printClosedLoop({ raw, pipe, explicit, topicRisk, assignment }) {
  const rows = [
    ['raw kafkajs round trip', raw],
    ['pipeline ingest -> AI reply', pipe],
    ['explicit request -> handoff (no wait for the AI)', explicit],
    ['topic-risk message -> handoff (after the AI and the score)', topicRisk],
    ['handoff -> agent assigned (router; agents with room)', assignment],
  ];
  settings(`closed loop: messages=${N} handoff messages=${HN}+${HN} concurrency=${C}`);
  console.log('\n| path | messages | throughput (msg/s) | p50 | p99 | max |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, r] of rows)
    console.log(
      `| ${name} | ${r.count} | ${r.throughput.toFixed(1)} | ${fmtOr(r.p50)} | ${fmtOr(r.p99)} | ${fmtOr(r.max)} |`,
    );
  console.log('\n| consumer group | records | mean wait before handling | mean handling time |');
  console.log('|---|---|---|---|');
  for (const row of await consumerStats())
    console.log(
      `| ${row.group} | ${row.count} | ${fmt(row.age * 1000)} | ${fmt(row.handle * 1000)} |`,
    );
  for (const [name, r] of [
    ['explicit', explicit],
    ['topic-risk', topicRisk],
  ])
    if (r.missing) console.log(`\n${name}: ${r.missing} without a handoff in time`);
  if (assignment.queued || assignment.undecided)
    console.log(
      `\nassignment: ${assignment.queued} handoffs queued (no agent with room), ${assignment.undecided} without an assignment in time`,
    );
  if (pipe.handoffs || pipe.missing)
    console.log(
      `\npipeline: ${pipe.handoffs} handed off instead of answered, ${pipe.missing} without an answer in time`,
    );
  console.log(
    `\npipeline p50 is ${(pipe.p50 / raw.p50).toFixed(1)}x the raw Kafka round trip (four Kafka hops plus HTTP, Redis and PostgreSQL work).`,
  );
}

/** Message i of the paced run: one in PERSON_EVERY asks for a person, the others are questions. */
const pacedMessage = (i) =>
  PERSON_EVERY > 0 && i % PERSON_EVERY === PERSON_EVERY - 1
    ? { text: PERSON_REQUESTS[i % PERSON_REQUESTS.length], kind: 'person' }
    : { text: QUESTIONS[i % QUESTIONS.length], kind: 'question' };

/** The fixed-rate run: questions and requests for a person mixed, open loop. */
async function pacedRun(watch, outcomes) {
  const count = Math.round(RATE * SECONDS);
  console.log(
    `running at a fixed rate: ${count} messages at ${RATE} msg/s (1 in ${PERSON_EVERY} asks for a person), open loop…`,
  );
  const run = new PacedRun();
  outcomes.target = run;
  const post = (text, kind) => postOne(text, kind === 'person' ? 'paced-person' : 'paced');
  const started = performance.now();
  const { sent, seconds } = await pace({ rate: RATE, count, message: pacedMessage, post, run });
  await drain(run, DRAIN_MS);
  outcomes.target = undefined;
  const assignment = await assignmentLatency(
    watch,
    ['paced', 'paced-person'],
    (performance.now() - started) / 1000,
  );
  return {
    sent,
    seconds,
    questions: run.figures('question'),
    persons: run.figures('person'),
    assignment,
    hops: hopLatency(watch, ['paced', 'paced-person']),
    lag: run.senderLag(),
    errors: run.errors,
  };
}

/** The AI responder's retrieval as the environment sets it at start (the services' default: local). */
const startMode = `EMBEDDINGS_PROVIDER=${process.env.EMBEDDINGS_PROVIDER ?? 'local'}`;

/** A row of the paced table: messages of one kind and how many had each outcome. */
const pacedRow = (name, f, other) =>
  `| ${name} | ${f.sent} | ${f.answered} | ${other} | ${f.missing + f.errors} | ${fmtOr(f.p50)} | ${fmtOr(f.p99)} | ${fmtOr(f.max)} |`;

function printPaced({ sent, seconds, questions, persons, assignment, hops, lag, errors }) {
  settings(
    `fixed rate, open loop (each message at its scheduled time; latency from that time), ` +
      `questions and requests for a person mixed in one run (1 in ${PERSON_EVERY} asks for a person): ` +
      `rate=${RATE} msg/s seconds=${SECONDS} messages=${sent} (${questions.sent} questions, ` +
      `${persons.sent} requests for a person) ai-responder ${startMode} bench agents=${benchAgents.length}x100`,
  );
  console.log(
    `\n| path | messages | with the outcome | other outcome | lost (no outcome within ${DRAIN_MS / 1000} s, or POST failed) | p50 | p99 | max |`,
  );
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(
    pacedRow(
      'ingest POST -> AI reply (support.outbound)',
      questions,
      `${questions.others} handed off`,
    ),
  );
  console.log(pacedRow('request for a person -> HandoffRequest (handoff.requests)', persons, '-'));
  const a = assignment;
  console.log(
    `| handoff -> agent assigned (HandoffRequested -> AgentAssigned occurredAt; agents with room) | ${a.count + a.queued + a.undecided} | ${a.count} | ${a.queued} queued | ${a.undecided} | ${fmtOr(a.p50)} | ${fmtOr(a.p99)} | ${fmtOr(a.max)} |`,
  );
  console.log(
    `\nsender: ${sent} messages in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(1)} msg/s); ` +
      `POSTs started ${fmt(lag.p99)} (p99), ${fmt(lag.max)} (max) after their scheduled time`,
  );
  if (errors.length) console.log(`ingest errors: ${errors.length}, first: ${errors[0]}`);
  console.log(
    '\nwhere the time goes on the log (from a record to the one it caused, by the times their producers sent them):',
  );
  console.log('\n| hop | messages | p50 | p99 | max |');
  console.log('|---|---|---|---|---|');
  for (const h of hops)
    console.log(`| ${h.hop} | ${h.count} | ${fmtOr(h.p50)} | ${fmtOr(h.p99)} | ${fmtOr(h.max)} |`);
}

/** The AI responder's retrieval modes the sustained rate is found for, in turn. */
const MODES = [
  { label: 'words only (EMBEDDINGS_PROVIDER=none)', env: { EMBEDDINGS_PROVIDER: 'none' } },
  {
    label: 'hybrid, neural encoder on (EMBEDDINGS_PROVIDER=local)',
    env: { EMBEDDINGS_PROVIDER: 'local' },
  },
];

/** The sustained rate per retrieval mode, the AI responder restarted and warmed up for each. */
async function sustainedPhase(outcomes) {
  const results = [];
  for (const mode of MODES) {
    console.log(`running the sustained rate, AI responder retrieval ${mode.label}…`);
    await restartResponder(mode.env);
    await pipeline(Math.max(10, C), 'warm-up');
    await settle('after the warm-up');
    const found = await sustainedRate({
      steps: STEPS,
      stepSeconds: STEP_SECONDS,
      drainMs: DRAIN_MS,
      outcomes,
      post: (text) => postOne(text, 'sustained'),
      texts: QUESTIONS,
      idle: () => settle('after a step'),
    });
    results.push({ mode, ...found });
  }
  return results;
}

/** What became of a step. */
function stepResult(r) {
  if (r.pass) return 'pass';
  const why = [];
  if (r.sent < r.planned) why.push(`stopped after ${r.sent} of ${r.planned} (p99 >= 1 s certain)`);
  else if (r.p99 === undefined || r.p99 >= P99_LIMIT_MS) why.push('p99 >= 1 s');
  if (r.lost) why.push(`${r.lost} lost`);
  return `fail: ${why.join(', ')}`;
}

/** A rate as a share of another: a percentage and 1 : n. */
const ratio = (rate, of) => `${((rate / of) * 100).toFixed(3)}% (1 : ${Math.round(of / rate)})`;

function printSustained(results, produce) {
  settings(
    `sustained rate: open loop, questions only, steps=${STEPS.join(',')} msg/s, ${STEP_SECONDS} s each, ` +
      `drain=${DRAIN_MS / 1000} s; a step passes while ingest -> AI reply p99 < ${P99_LIMIT_MS} ms and no answer is lost; ` +
      `the AI responder restarted for each mode (the intent classifier encodes every message in both)`,
  );
  console.log(
    '\n| AI responder retrieval | rate (msg/s) | messages | answered | handed off | lost | p50 | p99 | max | sender lag p99 | result |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { mode, rows } of results)
    for (const r of rows)
      console.log(
        `| ${mode.label} | ${r.rate} | ${r.sent} | ${r.answered} | ${r.others} | ${r.lost} | ${fmtOr(r.p50)} | ${fmtOr(r.p99)} | ${fmtOr(r.max)} | ${fmt(r.lag.p99)} | ${stepResult(r)} |`,
      );
  settings(
    `raw batched produce: kafkajs idempotent, acks=all, records=${produce.records} of ${produce.bytes} bytes, ` +
      `${produce.batch} per send, one send at a time, a throwaway topic of 6 partitions`,
  );
  console.log('\n| path | records | seconds | records/s | MB/s |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| raw kafkajs batched produce | ${produce.records} | ${produce.seconds.toFixed(2)} | ${produce.perSecond.toFixed(0)} | ${((produce.perSecond * produce.bytes) / 1e6).toFixed(2)} |`,
  );
  console.log(
    '\n| AI responder retrieval | sustained rate (msg/s, p99 < 1 s) | raw batched produce (records/s) | sustained / raw |',
  );
  console.log('|---|---|---|---|');
  for (const { mode, best } of results)
    console.log(
      `| ${mode.label} | ${best ?? `< ${STEPS[0]} (the first step failed)`} | ${produce.perSecond.toFixed(0)} | ${best === undefined ? '-' : ratio(best, produce.perSecond)} |`,
    );
}

/**
 * Opens n more conversations, one question each: paced at `rate` msg/s (the sustained rate found)
 * when there is one, else C POSTs at a time. Resolves with how many ingest took.
 */
async function openConversations(n, rate) {
  console.log(
    `opening ${n} conversations (one question each), ${rate ? `at ${rate} msg/s` : `${C} POSTs at a time`}…`,
  );
  if (!rate) {
    await postMessages(QUESTIONS, n, new Map(), 'open');
    return n;
  }
  const run = new PacedRun();
  const message = (i) => ({ text: QUESTIONS[i % QUESTIONS.length], kind: 'question' });
  await pace({ rate, count: n, message, post: (text) => postOne(text, 'open'), run });
  if (run.errors.length)
    console.log(`ingest errors: ${run.errors.length}, first: ${run.errors[0]}`);
  return n - run.errors.length;
}

/** Closes the handed-off conversations of the phase and waits for the services to catch up. */
async function betweenPhases(watch, ms) {
  await resolveHandedOff(watch);
  await settle('between phases', ms);
}

async function printMemory(opened) {
  const redis = await redisMemory(redisUrl);
  const open = [...created.keys()].filter((id) => !resolved.has(id)).length;
  settings(
    `memory after the runs: conversations the run created=${created.size} ` +
      `(opened by --open-conversations: ${opened}; resolved by the bench: ${resolved.size}), ` +
      `still open=${open} (answered ones stay open for ingest's quiet window, 30 min by default); ` +
      `ai-responder ${MODES.at(-1).label}`,
  );
  // CPU since each process started (the AI responder's since its restart for the last mode).
  console.log('\n| process | pid | VmRSS | CPU (user + system) |');
  console.log('|---|---|---|---|');
  let total = 0;
  let cpu = 0;
  services.forEach((s, i) => {
    const bytes = rssOf(children[i].pid);
    const seconds = cpuSecondsOf(children[i].pid);
    total += bytes ?? 0;
    cpu += seconds ?? 0;
    console.log(`| ${s.name} | ${children[i].pid} | ${mib(bytes)} | ${seconds?.toFixed(1)} s |`);
  });
  console.log(`| all services | | ${mib(total)} | ${cpu.toFixed(1)} s |`);
  console.log(`| bench (this process) | ${process.pid} | ${mib(rssOf(process.pid))} |`);
  console.log(`\n| Redis | keys | memory |`);
  console.log('|---|---|---|');
  console.log(
    `| used_memory (INFO memory: the whole instance, every database) | | ${mib(redis.usedMemory)} |`,
  );
  console.log(
    `| database ${redis.db} (the services'): sum of MEMORY USAGE | ${redis.keys} | ${mib(redis.bytes)} |`,
  );
}

let watch;
let outcomes;
const stopAll = () => {
  stopping = true;
  children.forEach((c) => c.kill('SIGTERM'));
};
process.on('exit', stopAll);
try {
  services.forEach((_, i) => children.push(spawnService(i)));
  await waitAllHealthy();
  await provisionAgents();
  watch = await watchAssignments();
  console.log(
    `settings: messages=${N} concurrency=${C} rate=${RATE} seconds=${SECONDS} steps=${STEPS.join(',')} ${where()}`,
  );
  await printClosedLoop(await closedLoopRuns(watch));
  await betweenPhases(watch);
  outcomes = await followOutcomes(brokers);
  printPaced(await pacedRun(watch, outcomes));
  await betweenPhases(watch);
  console.log('running raw batched produce (kafkajs, idempotent, acks=all)…');
  const produce = await rawBatchedProduce(kafka, {
    records: Number(args['raw-records']),
    batch: Number(args['raw-batch']),
  });
  const sustained = await sustainedPhase(outcomes);
  printSustained(sustained, produce);
  const openRate =
    args['open-rate'] === undefined ? sustained.at(-1).best : Number(args['open-rate']);
  const opened = OPEN > 0 ? await openConversations(OPEN, openRate) : 0;
  await betweenPhases(watch, Math.max(300_000, opened * 200));
  await printMemory(opened);
  if (exits.length) console.log(`\nservices that exited during the run:\n${exits.join('\n')}`);
} finally {
  // Leave nothing behind: the bench agents take nothing more, the handed-off conversations are
  // closed, and the agents go.
  await outcomes?.stop().catch(() => undefined);
  await retireAgents().catch(() => undefined);
  if (watch) {
    await resolveHandedOff(watch).catch((err) => console.error(`resolving: ${err.message}`));
    await watch.stop().catch(() => undefined);
  }
  await removeAgents().catch((err) => console.error(`removing bench agents: ${err.message}`));
  stopAll();
}
process.exit(0);
