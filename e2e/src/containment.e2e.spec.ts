/**
 * Failure containment end to end: records of 0.9, 1.5 and 5 MB and malformed
 * ones on every topic the services consume (the topics' max.message.bytes
 * raised by hand so the broker takes them) stop no consumer. Every consuming
 * group dead-letters each of them exactly once, truncated where a whole copy
 * would not fit its dead-letter topic; every process stays up and healthy; a
 * customer's message sent after them is still answered.
 *
 * Who consumes what is read from the running processes, not listed here: the
 * consumer groups each service's /health reports (every group its bus consumes
 * in, the escalation decider's per-process followers of compacted topics
 * included) and the topic each group's member subscribes to, as the broker
 * has it. A new consumer (through Bus.consume, as every consumer is) is
 * covered without a change to this file.
 *
 * A follower of a compacted topic (policy.versions, directory.teams: a group
 * of its own per process start, reading from the beginning, committing
 * nothing) dead-letters each bad record once per group, that is once per
 * process start: a decider started later reads them again, in a new group.
 * The bad records, and a tombstone of a key nobody uses before them, must not
 * disturb what it follows: the policy in force and the directory's vocabulary
 * stay, also for a decider started after them, and a valid record after them
 * is applied.
 * (The bad records stay on the compacted topics for good; `npm test` starts
 * from a fresh broker.)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssignerProtocol, Partitioners } from 'kafkajs';
import { DeadLetterTopics, Topics, type TopicSpec } from '@support/bus';
import { OutboundKind } from '@support/contracts';
import { raiseMaxMessageBytes, waitUntil, type TopicWatcher } from '@support/testing';
import {
  API_KEY,
  SERVICES,
  customerMessage,
  kafka,
  postMessage,
  root,
  startAll,
  url,
  watchTopics,
  type ServiceName,
  type ServiceProcess,
} from './harness';

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
const CATALOGUE = new Map<string, TopicSpec>(Object.values(Topics).map((t) => [t.name, t]));

/** A team of this file's own in the router's directory, named by a policy version after the bad records. */
const TEAM = `containment-${run}`;

let procs: Map<ServiceName, ServiceProcess>;
let watcher: TopicWatcher;
/** Consuming groups by topic, as the services ran when the bad records were sent. */
let consumers: Map<TopicSpec, string[]>;
/** Each bad record's size, by key. */
const sent = new Map<string, number>();
/** The policy version activated before the bad records. */
let before: string;

/** The consumer groups a service's /health reports (its body lists them when unhealthy, too). */
async function groupsOf(service: ServiceName): Promise<string[]> {
  const res = await fetch(url(service, '/health'));
  const { consumers } = (await res.json()) as { consumers?: Record<string, string> };
  return Object.keys(consumers ?? {});
}

/**
 * Every consuming group of the running services by the topic it reads: the groups from /health,
 * each group's topics from what its member subscribed with (once every group has one).
 */
async function consumedTopics(services: readonly ServiceName[]): Promise<Map<TopicSpec, string[]>> {
  const groups = (await Promise.all(services.map(groupsOf))).flat();
  const byTopic = new Map<TopicSpec, string[]>();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitUntil('every consumer group to have a member', async () => {
      byTopic.clear();
      const described = await admin.describeGroups(groups);
      for (const g of described.groups) {
        const [member] = g.members;
        if (!member) return false;
        const topics = AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.topics ?? [];
        if (!topics.length) return false;
        for (const name of topics) {
          const spec = CATALOGUE.get(name);
          if (!spec) throw new Error(`${g.groupId} consumes ${name}, which is not in Topics`);
          byTopic.set(spec, [...(byTopic.get(spec) ?? []), g.groupId].sort());
        }
      }
      return described.groups.length === groups.length;
    });
  } finally {
    await admin.disconnect();
  }
  return byTopic;
}

/** A call to a service's API with the e2e key. */
async function api(service: ServiceName, method: string, path: string, body?: unknown) {
  const res = await fetch(url(service, path), {
    method,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      ...(typeof body === 'string' ? { 'content-type': 'text/yaml' } : {}),
      ...(body !== undefined && typeof body !== 'string'
        ? { 'content-type': 'application/json' }
        : {}),
    },
    body: typeof body === 'string' || body === undefined ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const SHIPPED = readFileSync(
  join(root, 'services', 'escalation-decider', 'policy', 'default.yaml'),
  'utf8',
);
/** The shipped policy as version `name`, its first rule (ai_unavailable) meant for `team` if given. */
function policyText(name: string, team?: string): string {
  const text = SHIPPED.replace(/^version: .*$/m, `version: ${name}`);
  if (!team) return text;
  const withTeam = text.replace(/^( {2}- name: ai_unavailable\n)/m, `$1    team: ${team}\n`);
  if (withTeam === text) throw new Error('default.yaml has no ai_unavailable rule to give a team');
  return withTeam;
}

/** Submits a policy version (stored already, or new) and activates it; returns its name. */
async function activate(text: string): Promise<string> {
  const submitted = await api('escalation-decider', 'POST', '/v1/policy/versions', text);
  expect([200, 201]).toContain(submitted.status);
  const version = submitted.json.version as string;
  const activated = await api(
    'escalation-decider',
    'POST',
    `/v1/policy/versions/${encodeURIComponent(version)}/activate`,
    { reason: 'containment e2e' },
  );
  expect(activated.status).toBe(200);
  expect(activated.json).toMatchObject({ changed: true, active: version });
  return version;
}

/** The policy version in force on the decider. */
const inForce = async () => (await api('escalation-decider', 'GET', '/v1/policy')).json.version;

beforeAll(async () => {
  // A policy set of this file's own: the versions it activates reach no other test file.
  procs = await startAll({
    'escalation-decider': { DECIDER_POLICY_SET: `e2e-containment-${run}` },
  });
  consumers = await consumedTopics(SERVICES);
  watcher = await watchTopics([Topics.outbound, ...[...consumers.keys()].map(dlqOf)]);
  // A version in force from the topic (not the file), for the bad records to leave alone.
  before = await activate(policyText(`containment-before-${run}`));

  const topics = [...consumers.keys()].map((t) => t.name);
  const restoreLimits = await raiseMaxMessageBytes(kafka, topics, 8 * MiB);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (const topic of topics) {
      // On a compacted topic, first a tombstone of a key nobody uses: it deletes that key and
      // nothing else (or is dead-lettered, where the topic has no deletions: policy.versions).
      if (CATALOGUE.get(topic)!.cleanupPolicy === 'compact')
        await producer.send({ topic, messages: [{ key: keyOf(topic, 'stray'), value: null }] });
      for (const [label, value] of BAD) {
        await producer.send({ topic, messages: [{ key: keyOf(topic, label), value }] });
        sent.set(keyOf(topic, label), value.length);
      }
    }
  } finally {
    await producer.disconnect();
    await restoreLimits();
  }
}, 240_000);

afterAll(async () => {
  // The version naming the team out of force first, then the team out of the shared roster.
  if (procs && (await inForce().catch(() => before)) !== before)
    await api('escalation-decider', 'POST', '/v1/policy/rollback', { version: before }).catch(
      () => undefined,
    );
  await api('router', 'DELETE', `/v1/teams/${TEAM}`).catch(() => undefined);
  await watcher?.stop();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
});

/**
 * Waits for this run's dead letters of `topic` by `groups` and checks them: each bad record
 * exactly once per group, by no other group (but those of `earlier` processes), each the
 * original's prefix (whole where it fits).
 */
async function expectDeadLettered(
  topic: TopicSpec,
  groups: string[],
  earlier: string[] = [],
): Promise<void> {
  const letters = await watcher.waitFor(
    dlqOf(topic),
    (r) => sent.has(r.key) && !earlier.includes(r.value.consumerGroup),
    { count: groups.length * BAD.length, timeoutMs: 60_000 },
  );
  const counts: Record<string, number> = {};
  for (const r of letters) counts[`${r.value.consumerGroup} ${r.key}`] ??= 0;
  for (const r of letters) counts[`${r.value.consumerGroup} ${r.key}`]++;
  const expected: Record<string, number> = {};
  for (const g of groups)
    for (const [label] of BAD) expected[`${g} ${keyOf(topic.name, label)}`] = 1;
  expect(counts).toEqual(expected);
  for (const { key, value: l, headers } of letters) {
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

describe('failure containment', () => {
  it('finds every consumer: the groups of every service, the decider’s followers among them', () => {
    const all = [...consumers.values()].flat();
    expect(new Set(all).size).toBe(all.length); // one topic per group
    // The followers of the compacted topics, one group each for this decider process.
    const follower = (name: string) =>
      new RegExp(`^escalation-decider\\.${name}\\..+-\\d+-[0-9a-f]{8}$`);
    expect(consumers.get(Topics.policyVersions)).toEqual([
      expect.stringMatching(follower('policy')),
    ]);
    expect(consumers.get(Topics.directoryTeams)).toEqual([
      expect.stringMatching(follower('directory')),
    ]);
    expect(consumers.get(Topics.audit)).toEqual(['desk.audit']);
    for (const topic of consumers.keys()) expect(topic.deadLetter).toBeDefined();
  });

  it('dead-letters oversized and malformed records once per consuming group, and every service goes on', async () => {
    // A customer writes after all of that, and is answered.
    const { status, json } = await postMessage(customerMessage('How do I reset my password?'));
    expect(status).toBe(202);
    await watcher.waitFor(
      Topics.outbound,
      (r) =>
        r.value.conversationId === json.conversationId && r.value.kind === OutboundKind.AI_REPLY,
      { timeoutMs: 90_000 },
    );

    for (const [topic, groups] of consumers) await expectDeadLettered(topic, groups);

    // Every process is alive and healthy.
    for (const p of procs.values()) await p.healthy(5_000);
  }, 180_000);

  /** Refuses a policy naming TEAM while the decider knows a vocabulary without it. */
  const naming = policyText(`containment-after-${run}`, TEAM);
  async function expectVocabularyKept(): Promise<void> {
    const refused = await api('escalation-decider', 'POST', '/v1/policy/versions', naming);
    expect(refused.status).toBe(400);
    expect(refused.json.issues).toEqual([
      expect.objectContaining({ field: 'rules[ai_unavailable].team', rule: 'unknown_team' }),
    ]);
  }

  it('the decider keeps the policy in force and the vocabulary it had', async () => {
    // Both followers are past the bad records: they have dead-lettered every one.
    await expectDeadLettered(Topics.policyVersions, consumers.get(Topics.policyVersions)!);
    await expectDeadLettered(Topics.directoryTeams, consumers.get(Topics.directoryTeams)!);
    expect(await inForce()).toBe(before);
    // Known still (an unknown vocabulary checks nothing): a team the router lacks is refused.
    await expectVocabularyKept();
  });

  it('a decider started after them reads past them at start-up, dead-lettering each once in its new groups', async () => {
    // The bad records are the last ones of both topics now: the start-up catch-up must get past them.
    const decider = procs.get('escalation-decider')!;
    await decider.stop('SIGTERM');
    decider.start();
    await decider.healthy();
    const fresh = await consumedTopics(['escalation-decider']);
    for (const topic of [Topics.policyVersions, Topics.directoryTeams]) {
      const groups = fresh.get(topic)!;
      expect(groups).toHaveLength(1);
      expect(groups).not.toEqual(consumers.get(topic));
      await expectDeadLettered(topic, groups, consumers.get(topic));
    }
    expect(await inForce()).toBe(before);
    await expectVocabularyKept();
    for (const p of procs.values()) await p.healthy(5_000);
  }, 120_000);

  it('the decider applies the valid records that come after them', async () => {
    // The router publishes a vocabulary with the team: the decider takes it.
    expect((await api('router', 'PUT', `/v1/teams/${TEAM}`, { description: 'e2e' })).status).toBe(
      200,
    );
    await waitUntil('the decider to know the new team', async () => {
      const { status } = await api('escalation-decider', 'POST', '/v1/policy/versions', naming);
      return status !== 400;
    });
    // A new activation on policy.versions is applied (the write waits until this replica has).
    const after = await activate(naming);
    expect(await inForce()).toBe(after);
  });
});
