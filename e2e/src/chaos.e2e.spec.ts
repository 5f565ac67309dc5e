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

const RATE = 5; // messages per second
const SECONDS = 48;

let procs: Map<ServiceName, ServiceProcess>;
let watcher: TopicWatcher;
const onDuty = { id: `agent-chaos-${process.pid}`, name: 'Kit Moreno', team: 'Support' };

beforeAll(async () => {
  procs = await startAll();
  await registerAgent(onDuty);
  watcher = await watchTopics([Topics.events, Topics.outbound]);
}, 240_000);

afterAll(async () => {
  await removeAgent(onDuty.id).catch(() => undefined);
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

async function crash(name: ServiceName): Promise<void> {
  const p = procs.get(name)!;
  await p.stop('SIGKILL');
  p.start();
}

describe('faults under traffic', () => {
  it('loses no message and repeats none when services crash, Redis is flushed and the broker restarts', async () => {
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
    const sent: Sent[] = [];
    const started = Date.now();
    const faulting = (async () => {
      for (const [at, what, fault] of faults) {
        await sleep(Math.max(0, started + at * 1000 - Date.now()));
        console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
        await fault();
      }
    })();
    for (let i = 0; i < RATE * SECONDS; i++) {
      await sleep(Math.max(0, started + (i * 1000) / RATE - Date.now()));
      sent.push(await send(i % 5 === 4 ? 'request' : 'question', i));
    }
    await faulting;
    await Promise.all([...procs.values()].map((p) => p.healthy(120_000)));

    const questions = sent.filter((s) => s.kind === 'question');
    const requests = sent.filter((s) => s.kind === 'request');
    const ids = new Set(sent.map((s) => s.conversationId));
    const conversationEvents = () =>
      watcher.records(Topics.events).filter((r) => ids.has(r.value.conversationId));
    const distinct = (conversationId: string, kind: string) =>
      new Set(
        conversationEvents()
          .filter((r) => r.value.conversationId === conversationId && r.value.payload.case === kind)
          .map((r) => r.value.eventId),
      ).size;
    const replies = (messageId: string) =>
      new Set(
        watcher
          .records(Topics.outbound)
          .filter((r) => r.value.inReplyTo === messageId && r.value.kind === OutboundKind.AI_REPLY)
          .map((r) => r.value.messageId),
      ).size;
    const settled = () =>
      questions.every(
        (q) => replies(q.messageId) > 0 || distinct(q.conversationId, 'handoffRequested') > 0,
      ) && requests.every((r) => distinct(r.conversationId, 'agentAssigned') > 0);
    const deadline = Date.now() + 240_000;
    for (let i = 1; !settled() && Date.now() < deadline; i++) {
      await sleep(1_000);
      if (i % 20 === 0)
        console.log(
          `${((Date.now() - started) / 1000).toFixed(0)} s: ${questions.filter((q) => replies(q.messageId) > 0).length} of ${questions.length} questions answered, ${requests.filter((r) => distinct(r.conversationId, 'agentAssigned') > 0).length} of ${requests.length} requests assigned`,
        );
    }
    await sleep(3_000); // what a duplicate would have time to show

    const handedOff = (c: string) => distinct(c, 'handoffRequested');
    const counts = {
      sent: sent.length,
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
  }, 480_000);
});
