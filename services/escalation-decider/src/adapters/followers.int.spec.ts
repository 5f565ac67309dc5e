import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Topics } from '@support/bus';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';

jest.setTimeout(90_000);

/**
 * The compacted topics every replica keeps whole (policy.versions,
 * directory.teams) are followed by one mechanism (TopicFollower) in groups
 * that do not pile up: one per process start, no committed offsets, deleted
 * on shutdown.
 */
describe('escalation-decider: the followers of compacted topics', () => {
  const config = loadConfig(configSchema, {
    ...process.env,
    LOG_LEVEL: 'error',
    LLM_PROVIDER: 'extractive',
    DECIDER_POLICY_FILE: '',
    DECIDER_POLICY_SET: `itest-${randomUUID().slice(0, 8)}`,
    CRM_LOOKUP_URL: '',
  });
  const logger = new JsonLogger(SERVICE, 'error');
  let admin: Admin;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    admin = new Kafka({
      clientId: 'decider-followers-itest',
      brokers: config.KAFKA_BROKERS,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
  });

  afterAll(async () => {
    await app?.close();
    await admin?.disconnect();
  });

  const followerGroups = async () =>
    (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((id) => id.startsWith(`${SERVICE}.policy.`) || id.startsWith(`${SERVICE}.directory.`))
      .sort();

  it('follows each in a group of the replica’s own that commits nothing and is gone after shutdown', async () => {
    const before = new Set(await followerGroups());
    app = await createServiceApp(AppModule.create(config, logger), logger);
    await app.init();
    const mine = (await followerGroups()).filter((id) => !before.has(id));
    expect(mine).toEqual([
      expect.stringMatching(new RegExp(`^${SERVICE}\\.directory\\..+-${process.pid}-[0-9a-f]{8}$`)),
      expect.stringMatching(new RegExp(`^${SERVICE}\\.policy\\..+-${process.pid}-[0-9a-f]{8}$`)),
    ]);
    // Nothing committed: after a crash the broker drops the empty group at its next clean-up.
    for (const [groupId, topic] of [
      [mine[0]!, Topics.directoryTeams.name],
      [mine[1]!, Topics.policyVersions.name],
    ]) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(offsets!.partitions.map((p) => p.offset)).toEqual(offsets!.partitions.map(() => '-1'));
    }
    await app.close();
    app = undefined;
    const after = new Set(await followerGroups());
    expect(mine.filter((id) => after.has(id))).toEqual([]);
  });
});
