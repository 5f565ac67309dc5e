// npm run bench [-- --messages 400 --concurrency 16]
// Pushes N customer messages through the running services (HTTP ingest ->
// Kafka -> ai-responder + sentiment-scorer -> escalation-decider -> support.outbound)
// and reports throughput and latency from the POST to the AI reply on
// support.outbound, from a triggering message to its handoff, and from the
// handoff to the router's assignment (with agents on duty who have room); in
// the same run, a raw kafkajs produce -> consume round trip on the same broker
// as the reference.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { root, services, waitHealthy } from '../scripts/services.mjs';

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
  },
});
const N = Number(args.messages);
const C = Number(args.concurrency);
const BASE = Number(args['base-port']);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const apiKey = `bench-${randomBytes(8).toString('hex')}`;
const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
const portOf = (name) => BASE + services.findIndex((s) => s.name === name);
/** Every conversation the benchmark started, by the run that started it. */
const created = new Map();

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

function startServices() {
  const env = {
    ...process.env,
    INGEST_API_KEYS: apiKey,
    ROUTER_API_KEYS: apiKey,
    // The demo roster (always on duty) is seeded, and nobody's desk reports presence here:
    // every agent on duty counts as online. The benchmark adds agents with room (benchAgents).
    ROUTER_SEED_DEMO: 'true',
    ROUTER_PRESENCE: 'ignored',
    AI_RESPONDER_API_KEYS: apiKey,
    DESK_API_KEYS: apiKey,
    DESK_SESSION_SECRET: randomBytes(24).toString('hex'),
    STREAM_TOKEN_SECRET: randomBytes(24).toString('hex'),
    LOG_LEVEL: 'warn',
  };
  return services.map((s, i) =>
    spawn(process.execPath, [join(root, 'services', s.name, 'dist', 'main.js')], {
      env: { ...env, PORT: String(BASE + i) },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
}

async function waitAllHealthy() {
  for (let i = 0; i < services.length; i++) {
    if (!(await waitHealthy(BASE + i))) throw new Error(`${services[i].name} not healthy`);
  }
}

/** POSTs n customer messages (texts in turn) with C at a time, each its own conversation; records when each went out. */
async function postMessages(texts, n, sentAt, run) {
  let next = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < n) {
        const i = next++;
        const ext = `bench-${randomUUID()}`;
        const body = {
          channel: 'bench',
          externalConversationId: ext,
          customerId: `c-${i}`,
          text: texts[i % texts.length],
          idempotencyKey: ext,
          locale: 'en',
        };
        const t0 = performance.now();
        const res = await fetch(`http://127.0.0.1:${BASE}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify(body),
        });
        const json = await res.json();
        if (res.status !== 202)
          throw new Error(`ingest answered ${res.status}: ${JSON.stringify(json)}`);
        sentAt.set(json.conversationId, t0);
        created.set(json.conversationId, run);
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
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: topic.name, fromBeginning: false });
  const sentAt = new Map();
  const latencies = [];
  let others = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const seen = match(fromBinary(schema, message.value));
      if (!seen) return;
      const t0 = sentAt.get(seen.conversationId);
      if (t0 === undefined) return;
      sentAt.delete(seen.conversationId);
      if (seen.success) latencies.push(performance.now() - t0);
      else others++;
      if (latencies.length + others === n) done();
    },
  });
  while (!joined) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  const start = performance.now();
  await postMessages(texts, n, sentAt, run);
  const timeout = setTimeout(() => done(), 120_000);
  await finished;
  clearTimeout(timeout);
  const seconds = (performance.now() - start) / 1000;
  await consumer.disconnect();
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

/**
 * Agents on duty with room for every handoff of the run: the demo roster holds 14 conversations at
 * once, and conversations of earlier runs or of `npm start` may hold or wait for them. Three
 * agents with every skill of the demo roster at level 5, all the notice languages and 100
 * conversations each, always on duty (presence is ignored), rank first for every handoff.
 */
const benchAgents = [1, 2, 3].map((i) => ({ id: `bench-agent-${i}`, name: `Bench Agent ${i}` }));
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
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: Topics.events.name, fromBeginning: false });
  const seen = new Map();
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachMessage: async ({ message }) => {
      const e = fromBinary(ConversationEventSchema, message.value);
      const kind = e.payload.case;
      if (kind !== 'handoffRequested' && kind !== 'agentAssigned' && kind !== 'handoffQueued')
        return;
      const row = seen.get(e.conversationId) ?? {};
      if (kind === 'handoffRequested') row.requestedAt ??= Date.parse(e.occurredAt);
      else if (kind === 'agentAssigned') row.assignedAt ??= Date.parse(e.occurredAt);
      else if (row.assignedAt === undefined) row.queued = true;
      seen.set(e.conversationId, row);
    },
  });
  while (!joined) await new Promise((r) => setTimeout(r, 100));
  return { seen, stop: () => consumer.disconnect() };
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

/** Closes every conversation the benchmark handed off, so that none holds an agent or waits after it. */
async function resolveHandedOff(watch) {
  const ids = [...created.keys()].filter((id) => watch.seen.get(id)?.requestedAt !== undefined);
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
      }
    }),
  );
  return ids.length;
}

/** From a question (POST) to the AI reply on support.outbound; handoffs are counted apart. */
async function pipeline() {
  const questions = [
    'How do I reset my password?',
    'Where can I download my invoices?',
    'How do I change my plan?',
    'How do I create an API key?',
    'How do I set up SSO?',
    'How can I export my data?',
    'How do I add a team member?',
    'How do I set up webhooks?',
  ];
  const { others, ...figures } = await measure({
    topic: Topics.outbound,
    schema: OutboundMessageSchema,
    match: (m) =>
      m.inReplyTo === ''
        ? undefined
        : { conversationId: m.conversationId, success: m.kind === OutboundKind.AI_REPLY },
    texts: questions,
    n: N,
    run: 'pipeline',
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

const children = startServices();
const stopAll = () => children.forEach((c) => c.kill('SIGTERM'));
process.on('exit', stopAll);
let watch;
try {
  await waitAllHealthy();
  await provisionAgents();
  watch = await watchAssignments();
  console.log(
    `settings: messages=${N} concurrency=${C} brokers=${brokers.join(',')} partitions=${Topics.events.partitions} cpus=${cpus().length} node=${process.version}`,
  );
  console.log(
    'running reference: raw kafkajs produce -> consume (acks=all, idempotent producer, 200-byte values)…',
  );
  const raw = await rawKafkaReference();
  console.log('running pipeline: POST /v1/messages -> AI reply on support.outbound…');
  const pipe = await pipeline();
  const HN = Math.max(20, Math.round(N / 4));
  console.log(
    `running handoffs: ${HN} explicit requests for a person, then ${HN} topic-risk messages…`,
  );
  const handoffsStart = performance.now();
  const explicit = await handoffLatency(
    ['I want to talk to a human', 'Can I speak to an agent please?', 'Get me a real person'],
    HN,
    'explicit',
  );
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
  const rows = [
    ['raw kafkajs round trip', raw],
    ['pipeline ingest -> AI reply', pipe],
    ['explicit request -> handoff (no wait for the AI)', explicit],
    ['topic-risk message -> handoff (after the AI and the score)', topicRisk],
    ['handoff -> agent assigned (router; agents with room)', assignment],
  ];
  console.log('\n| path | messages | throughput (msg/s) | p50 | p99 | max |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, r] of rows)
    console.log(
      `| ${name} | ${r.count} | ${r.throughput.toFixed(1)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} |`,
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
} finally {
  // Leave nothing behind: the bench agents take nothing more, the handed-off conversations are
  // closed, and the agents go.
  await retireAgents().catch(() => undefined);
  if (watch) {
    await resolveHandedOff(watch).catch((err) => console.error(`resolving: ${err.message}`));
    await watch.stop().catch(() => undefined);
  }
  await removeAgents().catch((err) => console.error(`removing bench agents: ${err.message}`));
  stopAll();
}
process.exit(0);
