import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
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
 * partition moved to another replica), the first input to arrive there takes the wait over:
 * a missing input still ends in a decision, after the join's timeout, instead of never.
 */
describe('escalation-decider: a wait taken over by the process that has the conversation now', () => {
  const policyFile = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.yaml');
  writeFileSync(
    policyFile,
    readFileSync(DEFAULT_POLICY_FILE, 'utf8').replace(/joinTimeoutMs: \d+/, 'joinTimeoutMs: 1500'),
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
  let second: INestApplication | undefined;

  beforeAll(async () => {
    rig = await startServiceRig({
      name: 'decider-wait-takeover-itest',
      brokers: config.KAFKA_BROKERS,
      createApp,
      watch: [Topics.events],
    });
  });

  afterAll(async () => {
    await second?.close();
    await rig?.close();
    rmSync(dirname(policyFile), { recursive: true, force: true });
  });

  it('decides on a proposal that reaches a restarted decider after its message, when the score never comes', async () => {
    const conversationId = randomUUID();
    const messageId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId, text: 'Invoices?' }));
    // The first process reads the message (it waits for its inputs) and commits past it.
    const admin = rig.bus.kafka.admin();
    await admin.connect();
    const ends = await fetchTopicEnds(admin, Topics.events.name);
    await admin.disconnect();
    await waitUntil('the decider committed past the message', async () => {
      const at = await groupPositions(rig.bus, `${SERVICE}.log`);
      return ends.every((e) => (at.get(e.partition) ?? 0n) >= BigInt(e.high));
    });
    await rig.app.close();

    // (A second app in this process registers its metrics again.)
    register.clear();
    second = await createApp();
    await second.listen(0, '127.0.0.1');
    const url = await second.getUrl();
    await waitUntil('the restarted decider is healthy', () => healthy(url));
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
});
