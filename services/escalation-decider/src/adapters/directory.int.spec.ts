import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Partitioners } from 'kafkajs';
import { register } from 'prom-client';
import { Bus, DeadLetterTopics, Topics } from '@support/bus';
import { create, DirectoryVocabularySchema, ReplyKind } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  customerMessageReceived,
  sleep,
  startServiceRig,
  waitUntil,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DEFAULT_POLICY_FILE } from '../domain/decide';
import { DirectoryVocabularyStore } from './directory';
import { PolicyStore } from './policy-store';

jest.setTimeout(90_000);

const shipped = readFileSync(DEFAULT_POLICY_FILE, 'utf8');

/** The shipped policy with the billing_dispute rule sending its handoffs to `team`. */
const disputesTo = (team: string, version: string) =>
  shipped
    .replace(/^version: .*$/m, `version: ${version}`)
    .replace(/joinTimeoutMs: \d+/, 'joinTimeoutMs: 1500')
    .replace(
      /(- name: billing_dispute\n(?: {4}.*\n)*? {4}skills: \[billing\]\n)/,
      `$1    team: ${team}\n`,
    );

/** A vocabulary as the router publishes it: Billing and Disputes both cover billing. */
function vocabulary(withDisputes = true) {
  // Every skill the shipped policy names (its routing rules: legal, contracts, account_management).
  const skills = ['general', 'account', 'billing', 'refunds', 'retention', 'technical'].concat([
    'security',
    'legal',
    'contracts',
    'account_management',
  ]);
  return create(DirectoryVocabularySchema, {
    teams: [
      { name: 'Billing', skills: ['billing', 'refunds', 'retention'] },
      ...(withDisputes ? [{ name: 'Disputes', skills: ['billing'] }] : []),
      { name: 'Support', skills: ['general', 'account'] },
      { name: 'Technical', skills: ['technical'] },
      { name: 'Account Management', skills: ['account_management', 'contracts'] },
      { name: 'Legal', skills: ['legal', 'contracts'] },
    ],
    skills: skills.map((name) => ({ name })),
    publishedAt: new Date().toISOString(),
  });
}

const directoryDeadLetters = DeadLetterTopics.find(
  (t) => t.name === Topics.directoryTeams.deadLetter,
)!;

describe('escalation-decider with the directory vocabulary (directory.teams)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-directory-'));
  const policyFile = join(dir, 'policy.yaml');
  const config = loadConfig(configSchema, {
    ...process.env,
    LOG_LEVEL: 'warn',
    DECIDER_POLICY_FILE: policyFile,
    DECIDER_POLICY_POLL_MS: '200',
    // A policy set of this run only: an activation on the default set (an e2e run) would put the file out of force.
    DECIDER_POLICY_SET: `itest-${randomUUID().slice(0, 8)}`,
  });
  const logger = new JsonLogger(SERVICE, 'error');
  let publisher: Bus;
  let rig: ServiceRig<INestApplication>;

  const publish = (withDisputes: boolean) =>
    publisher.publish({
      topic: Topics.directoryTeams,
      key: 'vocabulary',
      value: vocabulary(withDisputes),
    });

  beforeAll(async () => {
    publisher = new Bus({ service: 'decider-directory-itest', brokers: config.KAFKA_BROKERS });
    await publisher.ensureTopics();
    await publish(true);
  });

  afterAll(async () => {
    await rig?.close();
    await publisher?.close();
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  it('refuses to start with a policy rule that names a team the directory does not know', async () => {
    writeFileSync(policyFile, disputesTo('Payments', 'itest-unknown-team'));
    const app = await createServiceApp(AppModule.create(config, logger), logger);
    try {
      await expect(app.init()).rejects.toThrow(
        /rules\[billing_dispute\]\.team: rule billing_dispute names team "Payments", which the directory does not know; known teams: Billing, Disputes, Support, Technical/,
      );
    } finally {
      await app.close().catch(() => undefined);
    }
  });

  describe('once started with a valid policy', () => {
    beforeAll(async () => {
      writeFileSync(policyFile, disputesTo('Disputes', 'itest-directory-1'));
      // The app that failed to start registered its metrics in this process already.
      register.clear();
      rig = await startServiceRig({
        name: 'decider-directory-itest',
        brokers: config.KAFKA_BROKERS,
        createApp: () => createServiceApp(AppModule.create(config, logger), logger),
        watch: [Topics.events, Topics.handoffRequests, directoryDeadLetters],
      });
    });

    /** A customer message with a weak billing answer: handed off. */
    async function handOff(text: string) {
      const conversationId = randomUUID();
      const messageId = randomUUID();
      await rig.append(customerMessageReceived(conversationId, { messageId, text }));
      await rig.append(
        conversationEvent(conversationId, `proposal-${messageId}`, 'aiReplyProposed', {
          messageId,
          replyId: `reply-${messageId}`,
          text: 'Open Settings, then Billing.',
          confidence: 0.2,
          intent: 'billing',
          kind: ReplyKind.ANSWER,
          requiredSkills: ['billing'],
          citations: [],
        }),
      );
      await rig.append(
        conversationEvent(conversationId, `score-${messageId}`, 'messageScored', {
          messageId,
          valence: -0.1,
          label: 'neutral',
          signals: [],
        }),
      );
      const [request] = await rig.watcher.waitFor(
        Topics.handoffRequests,
        (r) => r.value.conversationId === conversationId,
      );
      const [logged] = await rig.watcher.waitFor(
        Topics.events,
        (r) =>
          r.value.conversationId === conversationId && r.value.payload.case === 'handoffRequested',
      );
      if (logged.value.payload.case !== 'handoffRequested') throw new Error('unreachable');
      return { messageId, request: request.value, logged: logged.value.payload.value };
    }

    it('names the team a fired rule asks for, and the customer message that triggered the handoff', async () => {
      const { messageId, request, logged } = await handOff(
        'I dispute the charge of €1,250 on my last invoice, it is wrong',
      );
      expect(request.triggers.map((t) => t.rule)).toContain('billing_dispute');
      expect(request).toEqual(
        expect.objectContaining({ team: 'Disputes', triggerMessageId: messageId }),
      );
      expect(logged).toEqual(expect.objectContaining({ team: 'Disputes', messageId }));
      expect(request.briefing?.summary).toContain('for team Disputes;');
    });

    it('names the team whose skills cover the handoff when no rule names one', async () => {
      const { messageId, request, logged } = await handOff('How do I change my billing address?');
      expect(request.triggers.map((t) => t.rule)).not.toContain('billing_dispute');
      // Billing and Disputes both cover billing; the name breaks the tie.
      expect(request).toEqual(
        expect.objectContaining({ team: 'Billing', triggerMessageId: messageId }),
      );
      expect(logged.team).toBe('Billing');
    });

    it('keeps the vocabulary through records of other keys: a tombstone deletes nothing, a vocabulary is dead-lettered', async () => {
      const stray = `stray-${randomUUID()}`;
      const producer = publisher.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      try {
        await producer.send({
          topic: Topics.directoryTeams.name,
          messages: [{ key: `${stray}-gone`, value: null }],
        });
      } finally {
        await producer.disconnect();
      }
      await publisher.publish({
        topic: Topics.directoryTeams,
        key: stray,
        value: vocabulary(false),
      });
      // One partition, read in order: once the second is dead-lettered, the first was read too.
      const [letter] = await rig.watcher.waitFor(directoryDeadLetters, (r) => r.key === stray);
      expect(letter.value.reason).toMatch(/^not the vocabulary: keyed "stray-/);
      // Neither emptied the vocabulary nor replaced it with the one without Disputes.
      const store = rig.app.get(DirectoryVocabularyStore);
      expect(store.current.teams.map((t) => t.name)).toContain('Disputes');
    });

    it('follows the vocabulary as it changes, and refuses a policy file naming a team it no longer knows', async () => {
      const store = rig.app.get(DirectoryVocabularyStore);
      await publish(false);
      await waitUntil('the vocabulary without Disputes', async () =>
        store.current.teams.every((t) => t.name !== 'Disputes'),
      );
      // The policy in force still names Disputes: the check (file reload and policy API alike) now reports it.
      const policies = rig.app.get(PolicyStore);
      expect(policies.issues(policies.current)).toEqual([
        expect.objectContaining({ rule: 'unknown_team' }),
      ]);
      // An edit naming another unknown team is not loaded: the policy in force stays.
      writeFileSync(policyFile, disputesTo('Payments', 'itest-directory-2'));
      await sleep(1000);
      const { request } = await handOff('I dispute the charge of €900 on invoice INV-77');
      expect(request.briefing?.policyVersion).toMatch(/^itest-directory-1@[0-9a-f]{8}$/);
      // A valid edit is.
      writeFileSync(policyFile, disputesTo('Billing', 'itest-directory-3'));
      await waitUntil(
        'the valid edit to be loaded',
        async () => rig.app.get(PolicyStore).current.document.version === 'itest-directory-3',
      );
      const after = await handOff('I dispute the charge of €700 on invoice INV-78');
      expect(after.request).toEqual(
        expect.objectContaining({ team: 'Billing', triggerMessageId: after.messageId }),
      );
    });
  });
});
