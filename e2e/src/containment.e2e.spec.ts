/**
 * Failure containment end to end: records of 0.9, 1.5 and 5 MB and malformed
 * ones on every topic the services consume (the topics' max.message.bytes
 * raised by hand so the broker takes them) stop no consumer. Every consuming
 * group dead-letters each of them exactly once, truncated where a whole copy
 * would not fit its dead-letter topic; every process stays up and healthy; a
 * customer's message sent after them is still answered.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { DeadLetterTopics, Topics, type TopicSpec } from '@support/bus';
import { OutboundKind } from '@support/contracts';
import { raiseMaxMessageBytes, type TopicWatcher } from '@support/testing';
import {
  customerMessage,
  kafka,
  postMessage,
  startAll,
  watchTopics,
  type ServiceName,
  type ServiceProcess,
} from './harness';

/** Who consumes what, as the services' code has it (group ids are "<service>.<group>"). */
const CONSUMERS: [TopicSpec, string[]][] = [
  [Topics.inbound, ['ingest.inbound']],
  [
    Topics.events,
    [
      'ingest.log',
      'ai-responder.log',
      'ai-responder.learning',
      'sentiment-scorer.log',
      'escalation-decider.log',
      'router.log',
      'desk.log',
      'metrics.read-model',
      'metrics.insights',
    ],
  ],
  [Topics.deskActions, ['ingest.desk-actions']],
  [Topics.outbound, ['ingest.outbound-history']],
  [Topics.presence, ['router.presence']],
  [Topics.accounts, ['escalation-decider.accounts']],
  [Topics.knowledgeReviews, ['ai-responder.reviews']],
  [Topics.knowledgeEvents, ['desk.knowledge', 'metrics.read-model-knowledge']],
  [Topics.insightAlerts, ['desk.webhooks-insights']],
  [Topics.handoffRequests, ['desk.briefings', 'desk.webhooks-requests']],
  [Topics.handoffAssignments, ['desk.assignments', 'desk.webhooks-assignments']],
];

const MiB = 1024 * 1024;
const run = randomUUID().slice(0, 8);
/** Undecodable for every schema: 0xff is a tag whose varint never ends. */
const garbage = (mb: number) => Buffer.alloc(Math.floor(mb * MiB), 0xff);
const BAD: [string, Buffer][] = [
  ['0.9MB', garbage(0.9)],
  ['1.5MB', garbage(1.5)],
  ['5MB', garbage(5)],
  ['malformed', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])],
];
const keyOf = (topic: string, label: string) => `containment-${run}-${topic}-${label}`;
const dlqOf = (t: TopicSpec) => DeadLetterTopics.find((d) => d.name === t.deadLetter)!;

let procs: Map<ServiceName, ServiceProcess>;
let watcher: TopicWatcher;

beforeAll(async () => {
  procs = await startAll();
  watcher = await watchTopics([Topics.outbound, ...CONSUMERS.map(([t]) => dlqOf(t))]);
}, 240_000);

afterAll(async () => {
  await watcher?.stop();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
});

describe('failure containment', () => {
  it('dead-letters oversized and malformed records once per consuming group, and every service goes on', async () => {
    const topics = CONSUMERS.map(([t]) => t.name);
    const restoreLimits = await raiseMaxMessageBytes(kafka, topics, 8 * MiB);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const sent = new Map<string, number>();
    try {
      for (const topic of topics)
        for (const [label, value] of BAD) {
          await producer.send({ topic, messages: [{ key: keyOf(topic, label), value }] });
          sent.set(keyOf(topic, label), value.length);
        }
    } finally {
      await producer.disconnect();
      await restoreLimits();
    }

    // A customer writes after all of that, and is answered.
    const { status, json } = await postMessage(customerMessage('How do I reset my password?'));
    expect(status).toBe(202);
    await watcher.waitFor(
      Topics.outbound,
      (r) =>
        r.value.conversationId === json.conversationId && r.value.kind === OutboundKind.AI_REPLY,
      { timeoutMs: 90_000 },
    );

    for (const [topic, groups] of CONSUMERS) {
      const ours = await watcher.waitFor(
        dlqOf(topic),
        (r) => r.key.startsWith(`containment-${run}-`),
        { count: groups.length * BAD.length, timeoutMs: 60_000 },
      );
      // Exactly one dead letter per consuming group and record, and no other group.
      const counts: Record<string, number> = {};
      for (const r of ours) counts[`${r.value.consumerGroup} ${r.key}`] ??= 0;
      for (const r of ours) counts[`${r.value.consumerGroup} ${r.key}`]++;
      const expected: Record<string, number> = {};
      for (const g of groups)
        for (const [label] of BAD) expected[`${g} ${keyOf(topic.name, label)}`] = 1;
      expect(counts).toEqual(expected);
      for (const { key, value: l, headers } of ours) {
        expect(l.originalTopic).toBe(topic.name);
        expect(l.reason).toMatch(new RegExp(`^undecodable ${topic.schema.typeName}: `));
        expect(l.originalValueSize).toBe(sent.get(key));
        expect(headers['event-id']).toMatch(/^[0-9a-f-]{36}$/);
        // A prefix of the original, whole where it fits the dead-letter topic.
        expect(l.truncated).toBe(l.originalValue.length < l.originalValueSize);
        const original = BAD.find(([label]) => key === keyOf(topic.name, label))![1];
        expect(original.subarray(0, l.originalValue.length).equals(l.originalValue)).toBe(true);
        if (key.endsWith('-5MB')) expect(l.truncated).toBe(true);
        if (key.endsWith('-0.9MB') || key.endsWith('-malformed')) expect(l.truncated).toBe(false);
      }
    }

    // Every process is alive and healthy.
    for (const p of procs.values()) await p.healthy(5_000);
  }, 180_000);
});
