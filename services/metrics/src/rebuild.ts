import { rebuildMain } from '@support/service-kit';
import { SERVICE } from './config.js';
import { rebuildReadModel } from './adapters/rebuild.js';
import { openMetricsDatabase } from './adapters/db/store.js';

/**
 * Recreates the read model from the whole log and the knowledge events: the same fold as the live
 * consumers (each event id once), written in one transaction that empties the tables first.
 */
rebuildMain(SERVICE, async ({ bus, config }) => {
  const database = await openMetricsDatabase(config.DATABASE_URL);
  try {
    return await rebuildReadModel(bus, database);
  } finally {
    await database.pool.end();
  }
});
