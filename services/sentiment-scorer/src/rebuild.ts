import { Redis } from 'ioredis';
import { Bus } from '@support/bus';
import {
  baseConfigSchema,
  loadConfig,
  rebuildSnapshots,
  SnapshotStore,
} from '@support/service-kit';
import { SERVICE } from './config.js';

/** Throws away sentiment-scorer's snapshots and recreates them from the log. */
async function main(): Promise<void> {
  const config = loadConfig(baseConfigSchema);
  const bus = new Bus({ service: SERVICE, brokers: config.KAFKA_BROKERS });
  const redis = new Redis(config.REDIS_URL);
  const result = await rebuildSnapshots(bus, new SnapshotStore(redis, SERVICE));
  console.log(JSON.stringify({ service: SERVICE, rebuilt: result }));
  await bus.close();
  await redis.quit();
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
