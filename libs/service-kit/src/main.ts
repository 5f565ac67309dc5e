import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Bus } from '@support/bus';
import { baseConfigSchema, loadConfig, type BaseConfig } from './config.js';
import { JsonLogger } from './logger.js';
import { runService } from './nest.js';
import {
  projectionNamespace,
  rebuildSnapshots,
  SnapshotStore,
  type OfConversation,
  type Projection,
} from '@support/stream';

/**
 * A service's entry point: validates the configuration, builds its module and
 * listens; any start-up failure is logged as one fatal line and exits 1.
 */
export function serviceMain<C extends BaseConfig & { PORT: number }>(
  service: string,
  load: () => C,
  createModule: (config: C, logger: JsonLogger) => DynamicModule,
  beforeStart?: (config: C, logger: JsonLogger) => void,
): void {
  const run = async () => {
    const config = load();
    const logger = new JsonLogger(service, config.LOG_LEVEL);
    beforeStart?.(config, logger);
    await runService(createModule(config, logger), {
      service,
      host: config.HOST,
      port: config.PORT,
      logger,
    });
  };
  run().catch((err: Error) => {
    console.error(JSON.stringify({ level: 'fatal', service, msg: err.message, stack: err.stack }));
    process.exit(1);
  });
}

export interface RebuildContext {
  bus: Bus;
  redis: Redis;
  config: BaseConfig;
}

/**
 * A service's rebuild command: connects to Kafka and Redis, runs the work,
 * prints its result as one JSON line and closes everything.
 */
export function rebuildMain(
  service: string,
  work: (ctx: RebuildContext) => Promise<unknown>,
): void {
  const run = async () => {
    const config = loadConfig(baseConfigSchema);
    const bus = new Bus({ service, brokers: config.KAFKA_BROKERS });
    const redis = new Redis(config.REDIS_URL);
    try {
      console.log(JSON.stringify({ service, rebuilt: await work({ bus, redis, config }) }));
    } finally {
      await bus.close();
      await redis.quit();
    }
  };
  run().catch((err: Error) => {
    console.error(err);
    process.exit(1);
  });
}

/**
 * The rebuild of a service whose only derived state is its snapshots of the
 * log: those of its log consumer (of `projection`, default the whole
 * conversation), and of any other consumer group of the log with snapshots of
 * its own (`{ group, namespace, projection }`, the projection by default the whole conversation).
 */
export function snapshotRebuildMain<S extends OfConversation>(
  service: string,
  others: { group: string; namespace: string; projection?: Projection<OfConversation> }[] = [],
  projection?: Projection<S>,
): void {
  rebuildMain(service, async ({ bus, redis }) => {
    const log = projection
      ? new SnapshotStore<S>(redis, projectionNamespace(service, projection), projection)
      : new SnapshotStore(redis, service);
    const rebuilt: Record<string, unknown> = {
      log: await rebuildSnapshots<OfConversation>(bus, log as SnapshotStore<OfConversation>),
    };
    for (const { group, namespace, projection: theirs } of others)
      rebuilt[group] = await rebuildSnapshots(
        bus,
        theirs
          ? new SnapshotStore<OfConversation>(redis, namespace, theirs)
          : new SnapshotStore(redis, namespace),
        undefined,
        group,
      );
    return rebuilt;
  });
}
