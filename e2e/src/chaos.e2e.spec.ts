/**
 * Faults under traffic: customers write at a steady rate while, one after another, each pipeline
 * service is killed with SIGKILL and started again, Redis loses everything (FLUSHDB), and the
 * Kafka broker restarts. Nobody steps in. Afterwards every message has its outcome once: each
 * question one AI reply (or, counted apart, a handoff when the AI could not answer in time), each
 * request for a person one handoff and one assignment; no customer gets two answers to one
 * message. The counts are printed.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Topics } from '@support/bus';
import { OutboundKind } from '@support/contracts';
import type { TopicWatcher } from '@support/testing';
import {
  customerMessage,
  postMessage,
  registerAgent,
  removeAgent,
  root,
  sleep,
  startAll,
  watchTopics,
  type ServiceName,
  type ServiceProcess,
  trafficText,
} from './harness';

/**
 * 240 messages at 5 msg/s by default (the CI run). A longer run for a measurement:
 * CHAOS_MESSAGES=10000 CHAOS_RATE=40; the faults are then spread over it in the same proportions.
 */
const RATE = Number(process.env.CHAOS_RATE ?? 5); // messages per second
const MESSAGES = Number(process.env.CHAOS_MESSAGES ?? 240);
const SECONDS = MESSAGES / RATE;
/** When the faults come: at the same fractions of a longer run as of the 48 s of the default one. */
const SCALE = SECONDS / 48;
/** Sends under way at once, at most (a slow answer of ingest does not slow the rate). */
const IN_FLIGHT = 64;

let procs: Map<ServiceName, ServiceProcess>;
let watcher: TopicWatcher;
/**
 * Agents on duty: one for the default run; a longer one has one request in five, and an agent
 * holds at most 100 conversations, so enough of them that every request can be assigned.
 */
const onDuty = Array.from({ length: Math.max(1, Math.ceil(MESSAGES / 5 / 100)) }, (_, i) => ({
  id: `agent-chaos-${process.pid}-${i}`,
  name: i === 0 ? 'Kit Moreno' : `Kit Moreno ${i + 1}`,
  team: 'Support',
}));

beforeAll(async () => {
  procs = await startAll();
  for (const agent of onDuty) await registerAgent(agent);
  watcher = await watchTopics([Topics.events, Topics.outbound]);
}, 240_000);

afterAll(async () => {
  for (const agent of onDuty) await removeAgent(agent.id).catch(() => undefined);
  await watcher?.stop();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
}, 120_000);

interface Sent {
  conversationId: string;
  messageId: string;
  kind: 'question' | 'request';
}

/** Posts one message, again with the same idempotency key until ingest takes it (as an adapter would). */
async function send(kind: Sent['kind'], n: number): Promise<Sent> {
  const body = customerMessage(trafficText(kind, n));
  for (let attempt = 0; ; attempt++) {
    try {
      const { status, json } = await postMessage(body);
      if (status === 202 || status === 200)
        return {
          conversationId: json.conversationId as string,
          messageId: json.messageId as string,
          kind,
        };
      if (status < 500) throw new Error(`ingest refused a good message: ${status}`);
    } catch (err) {
      if ((err as Error).message.startsWith('ingest refused')) throw err;
    }
    if (attempt > 600) throw new Error('ingest did not take a message for two minutes');
    await sleep(200);
  }
}

/** The Kafka broker these tests run on, stopped and started again by the project's own script. */
function restartBroker(): void {
  const [, port] = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0].split(':');
  const env = {
    ...process.env,
    KAFKA_PORT: port,
    KAFKA_CONTROLLER_PORT: process.env.KAFKA_CONTROLLER_PORT ?? String(Number(port) + 1),
  };
  const infra = join(root, 'deploy', 'local', 'infra.sh');
  execFileSync('bash', [infra, 'down'], { env, stdio: 'ignore' });
  execFileSync('bash', [infra, 'up'], { env, stdio: 'ignore', timeout: 180_000 });
}

function flushRedis(): void {
  execFileSync('redis-cli', ['-u', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', 'flushdb']);
}

/** Per service killed, the seconds from its restart until /health answered 200 (its consumers joined). */
const backAfter: Partial<Record<ServiceName, number>> = {};

async function crash(name: ServiceName): Promise<void> {
  const p = procs.get(name)!;
  await p.stop('SIGKILL');
  const restarted = Date.now();
  p.start();
  void p.healthy(120_000).then(
    () => (backAfter[name] = Math.round((Date.now() - restarted) / 100) / 10),
    () => undefined,
  );
}

describe('faults under traffic', () => {
  it(
    'loses no message and repeats none when services crash, Redis is flushed and the broker restarts',
    async () => {
      // What happens when, in seconds from the start.
      const faults: [number, string, () => Promise<void> | void][] = [
        [5, 'ai-responder killed', () => crash('ai-responder')],
        [10, 'sentiment-scorer killed', () => crash('sentiment-scorer')],
        [15, 'escalation-decider killed', () => crash('escalation-decider')],
        [20, 'router killed', () => crash('router')],
        [25, 'ingest killed', () => crash('ingest')],
        [30, 'Redis flushed', flushRedis],
        [36, 'broker restarted', restartBroker],
      ];
      const started = Date.now();
      const faulting = (async () => {
        for (const [at, what, fault] of faults) {
          await sleep(Math.max(0, started + at * SCALE * 1000 - Date.now()));
          console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
          await fault();
        }
      })();
      const sending: Promise<Sent>[] = [];
      let inFlight = 0;
      for (let i = 0; i < MESSAGES; i++) {
        await sleep(Math.max(0, started + (i * 1000) / RATE - Date.now()));
        while (inFlight >= IN_FLIGHT) await sleep(5);
        inFlight++;
        sending.push(send(i % 5 === 4 ? 'request' : 'question', i).finally(() => inFlight--));
      }
      const sent = await Promise.all(sending);
      const sendSeconds = (Date.now() - started) / 1000;
      await faulting;
      await Promise.all([...procs.values()].map((p) => p.healthy(120_000)));

      const questions = sent.filter((s) => s.kind === 'question');
      const requests = sent.filter((s) => s.kind === 'request');
      // What the watcher saw, indexed once per look (a long run has hundreds of thousands of records).
      let seen = { events: 0, outbound: 0 };
      let index = indexOf(watcher);
      const look = () => {
        const now = {
          events: watcher.records(Topics.events).length,
          outbound: watcher.records(Topics.outbound).length,
        };
        if (now.events !== seen.events || now.outbound !== seen.outbound) index = indexOf(watcher);
        seen = now;
      };
      const distinct = (conversationId: string, kind: string) =>
        index.events.get(conversationId)?.get(kind)?.size ?? 0;
      const replies = (messageId: string) => index.replies.get(messageId)?.size ?? 0;
      const settled = () =>
        questions.every(
          (q) => replies(q.messageId) > 0 || distinct(q.conversationId, 'handoffRequested') > 0,
        ) && requests.every((r) => distinct(r.conversationId, 'agentAssigned') > 0);
      const deadline = Date.now() + 240_000 * Math.max(1, SCALE / 4);
      for (let i = 1; (look(), !settled()) && Date.now() < deadline; i++) {
        await sleep(1_000);
        if (i % 20 === 0)
          console.log(
            `${((Date.now() - started) / 1000).toFixed(0)} s: ${questions.filter((q) => replies(q.messageId) > 0).length} of ${questions.length} questions answered, ${requests.filter((r) => distinct(r.conversationId, 'agentAssigned') > 0).length} of ${requests.length} requests assigned`,
          );
      }
      await sleep(3_000); // what a duplicate would have time to show
      look();

      const handedOff = (c: string) => distinct(c, 'handoffRequested');
      const counts = {
        sent: sent.length,
        rate: Math.round((sent.length / sendSeconds) * 10) / 10,
        questions: questions.length,
        answered: questions.filter((q) => replies(q.messageId) === 1).length,
        aiUnavailableHandoffs: questions.filter(
          (q) => replies(q.messageId) === 0 && handedOff(q.conversationId) === 1,
        ).length,
        requests: requests.length,
        handedOff: requests.filter((r) => handedOff(r.conversationId) === 1).length,
        assigned: requests.filter((r) => distinct(r.conversationId, 'agentAssigned') > 0).length,
        lost:
          questions.filter((q) => replies(q.messageId) === 0 && handedOff(q.conversationId) === 0)
            .length +
          requests.filter((r) => distinct(r.conversationId, 'agentAssigned') === 0).length,
        duplicateReplies: questions.filter((q) => replies(q.messageId) > 1).length,
        duplicateHandoffs: sent.filter((s) => handedOff(s.conversationId) > 1).length,
        // An agent who declines, or does not accept in time, is replaced: that is a new assignment.
        duplicateAssignments: sent.filter(
          (s) =>
            distinct(s.conversationId, 'agentAssigned') >
            Math.min(1, handedOff(s.conversationId)) +
              distinct(s.conversationId, 'agentDeclined') +
              distinct(s.conversationId, 'acceptTimedOut'),
        ).length,
        secondsToSettle: Math.round((Date.now() - started) / 1000),
      };
      console.log(`faults under traffic: ${JSON.stringify(counts)}`);
      console.log(`seconds from restart to /health 200: ${JSON.stringify(backAfter)}`);
      expect({
        lost: counts.lost,
        duplicateReplies: counts.duplicateReplies,
        duplicateHandoffs: counts.duplicateHandoffs,
        duplicateAssignments: counts.duplicateAssignments,
        outcomes: counts.answered + counts.aiUnavailableHandoffs,
        handedOff: counts.handedOff,
        assigned: counts.assigned,
      }).toEqual({
        lost: 0,
        duplicateReplies: 0,
        duplicateHandoffs: 0,
        duplicateAssignments: 0,
        outcomes: questions.length,
        handedOff: requests.length,
        assigned: requests.length,
      });
    },
    480_000 + SECONDS * 2_000,
  );
});

/** Per conversation, the distinct event ids of each kind; per customer message, its distinct AI replies. */
function indexOf(watcher: TopicWatcher): {
  events: Map<string, Map<string, Set<string>>>;
  replies: Map<string, Set<string>>;
} {
  const events = new Map<string, Map<string, Set<string>>>();
  for (const { value } of watcher.records(Topics.events)) {
    const kinds = events.get(value.conversationId) ?? new Map<string, Set<string>>();
    events.set(value.conversationId, kinds);
    const kind = value.payload.case ?? '';
    const ids = kinds.get(kind) ?? new Set<string>();
    kinds.set(kind, ids);
    ids.add(value.eventId);
  }
  const replies = new Map<string, Set<string>>();
  for (const { value } of watcher.records(Topics.outbound)) {
    if (value.kind !== OutboundKind.AI_REPLY) continue;
    const ids = replies.get(value.inReplyTo) ?? new Set<string>();
    replies.set(value.inReplyTo, ids);
    ids.add(value.messageId);
  }
  return { events, replies };
}
