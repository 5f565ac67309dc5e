import type { INestApplication } from '@nestjs/common';
import { Bus } from '@support/bus';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { startServiceRig, type ServiceRig, type WatchedTopic } from '@support/testing';
import { AppModule } from '../src/app.module';
import { configSchema, SERVICE, type Config } from '../src/config';

/**
 * Ingest as its integration tests run it: the app on real Kafka and Redis with the given settings
 * on top of the environment, ready once its consumers have joined their groups, watching `watch`.
 * `config` and `logger` are returned for a test that starts a second replica of the same app.
 */
export async function startIngestRig(
  name: string,
  settings: Record<string, string>,
  watch: WatchedTopic[],
): Promise<{ rig: ServiceRig<INestApplication>; config: Config; logger: JsonLogger }> {
  const config = loadConfig(configSchema, {
    ...process.env,
    LOG_LEVEL: 'error',
    // The sentence encoder is loaded only by the tests of message vectors (inbound.int.spec.ts).
    INGEST_MESSAGE_VECTORS: 'none',
    ...settings,
  });
  const logger = new JsonLogger(SERVICE, 'error');
  const rig = await startServiceRig({
    name,
    brokers: config.KAFKA_BROKERS,
    createApp: () => createServiceApp(AppModule.create(config, logger), logger),
    ready: {
      what: "ingest's consumers to join their groups",
      check: (app) => app.get(Bus).health().ok,
    },
    watch,
  });
  return { rig, config, logger };
}
