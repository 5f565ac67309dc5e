import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { register } from 'prom-client';
import { fetchTopicEnds, Topics } from '@support/bus';
import { ReplyKind } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { groupPositions } from '@support/stream';
import {
  customerMessageReceived,
  healthy,
  startServiceRig,
  waitUntil,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DEFAULT_POLICY_FILE } from '../domain/decide';

jest.setTimeout(90_000);

/**
 * A decision's wait lives in the process that read the customer's message. When the message's
 * offset is committed and the conversation then reaches another process (a restart, or a
 * partition moved to another replica), that process takes the wait up: from the registry once it
 * has caught the partition up, or when the first input of the message arrives. A missing input
 * still ends in a decision, after the join's timeout, instead of never.
 */
describe('escalation-decider: a wait taken over by the process that has the conversation now', () => {
  const policyFile = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.yaml');
  writeFileSync(
    policyFile,
    readFileSync(DEFAULT_POLICY_FILE, 'utf8')
      .replace(/joinTimeoutMs: \d+/, 'joinTimeoutMs: 1500')
      .replace(/aiOutageWaitMs: \d+/, 'aiOutageWaitMs: 1000'),
  );
  const config = loadConfig(configSchema, {
    ...process.env,
    LOG_LEVEL: 'warn',
    DECIDER_POLICY_FILE: policyFile,
  });
  const logger = new JsonLogger(SERVICE, 'warn');
  /** An app that may be closed by the test and again by the rig. */
  const createApp = async () => {
    const app = await createServiceApp(AppModule.create(config, logger), logger);
    const close = app.close.bind(app);
    let closing: Promise<void> | undefined;
    app.close = () => (closing ??= close());
    return app;
  };
  let rig: ServiceRig<INestApplication>;
  /** The decider running now, once the rig's first one has been closed. */
  let current: INestApplication | undefined;

  /** Waits until the running decider has committed past everything on the log now. */
  const committedPastTheLog = async () => {
    const admin = rig.bus.kafka.admin();
    await admin.connect();
    const ends = await fetchTopicEnds(admin, Topics.events.name);
    await admin.disconnect();
    await waitUntil('the decider committed past the message', async () => {
      const at = await groupPositions(rig.bus, `${SERVICE}.log`);
      return ends.every((e) => (at.get(e.partition) ?? 0n) >= BigInt(e.high));
    });
  };

  /** Closes the running decider and starts another in its place. */
  const restart = async () => {
    await (current ?? rig.app).close();
    // (A second app in this process registers its metrics again.)
    register.clear();
    current = await createApp();
    await current.listen(0, '127.0.0.1');
    const url = await current.getUrl();
    await waitUntil('the restarted decider is healthy', () => healthy(url));
  };

  /** Waits for the message's handoff (the AI's outage budget spent, as no input came). */
  const handedToAPerson = async (conversationId: string, messageId: string) => {
    const [handoff] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === conversationId && r.value.payload.case === 'handoffRequested',
      { timeoutMs: 30_000 },
    );
    if (handoff.value.payload.case !== 'handoffRequested') throw new Error('unreachable');
    expect(handoff.value.payload.value.messageId).toBe(messageId);
  };

  /** Appends messages of new conversations until one lands on the partition. */
  const anotherOnThePartitionOf = async (partition: number) => {
    for (let tries = 0; tries < 100; tries++) {
      const other = randomUUID();
      await rig.append(customerMessageReceived(other, { messageId: randomUUID(), text: 'Hello?' }));
      const [r] = await rig.watcher.waitFor(Topics.events, (w) => w.value.conversationId === other);
      if (r.partition === partition) return;
    }
    throw new Error(`no new conversation landed on partition ${partition}`);
  };

  beforeAll(async () => {
    rig = await startServiceRig({
      name: 'decider-wait-takeover-itest',
      brokers: config.KAFKA_BROKERS,
      createApp,
      watch: [Topics.events],
    });
  });

  afterAll(async () => {
    await current?.close();
    await rig?.close();
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  it('decides on a proposal that reaches a restarted decider after its message, when the score never comes', async () => {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId, text: 'Invoices?' }));
    // The first process reads the message (it waits for its inputs) and commits past it.
    await committedPastTheLog();
    await restart();
    await rig.append(
      conversationEvent(conversationId, `proposal-${messageId}`, 'aiReplyProposed', {
        messageId,
        replyId: `reply-${messageId}`,
        text: 'Open Settings, then Billing.',
        confidence: 0.97,
        intent: 'billing',
        kind: ReplyKind.ANSWER,
        requiredSkills: ['billing'],
        citations: [],
      }),
    );
    // No score ever arrives: the restarted process never saw the message, yet decides.
    const [released] = await rig.watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.conversationId === conversationId && r.value.payload.case === 'aiReplyReleased',
      { timeoutMs: 20_000 },
    );
    if (released.value.payload.case !== 'aiReplyReleased') throw new Error('unreachable');
    expect(released.value.payload.value.missingInputs).toEqual(['sentiment']);
  });

  it('decides on a message whose inputs never come, from the wait the restarted decider takes up from its registry', async () => {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(
      customerMessageReceived(conversationId, { messageId, text: 'Where is my refund?' }),
    );
    const [received] = await rig.watcher.waitFor(
      Topics.events,
      (r) => r.value.conversationId === conversationId,
    );
    await committedPastTheLog();
    await restart();
    // A record of another conversation on the same partition: the restarted decider catches the
    // partition up before it, and takes up the waits left there. Nothing of the message comes.
    await anotherOnThePartitionOf(received.partition);
    // Neither the proposal nor the score ever comes, and the AI responder is nowhere: once its
    // outage budget is spent, the message goes to a person rather than waiting for ever.
    await handedToAPerson(conversationId, messageId);
  });

  it('decides on a message whose inputs never come when nothing more reaches its partition after the restart', async () => {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId, text: 'Any news?' }));
    await committedPastTheLog();
    await restart();
    // No record comes: the restarted decider catches its quiet partitions up by itself, and
    // takes up the waits left there.
    await handedToAPerson(conversationId, messageId);
  });

  it('decides on a message whose inputs never come after Redis lost the registry with the snapshots, from the wait its restore finds', async () => {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId, text: 'My parcel?' }));
    const [received] = await rig.watcher.waitFor(
      Topics.events,
      (r) => r.value.conversationId === conversationId,
    );
    await committedPastTheLog();
    // Redis loses what the decider kept (its snapshots, their marks, its waits); it restarts.
    const redis = new Redis(config.REDIS_URL);
    for (const pattern of [
      `snap:${SERVICE}:*`,
      `snap-partition:${SERVICE}:*`,
      `${SERVICE}:waits:*`,
    ]) {
      const keys = await redis.keys(pattern);
      if (keys.length) await redis.del(...keys);
    }
    await redis.quit();
    await restart();
    await anotherOnThePartitionOf(received.partition);
    await handedToAPerson(conversationId, messageId);
  });
});
