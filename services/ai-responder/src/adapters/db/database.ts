import { join } from 'node:path';
import type { Provider } from '@nestjs/common';
import { CONFIG, JsonLogger, openDatabase, type Database } from '@support/service-kit';
import type { Config } from '../../config.js';
import * as schema from './schema.js';
import { seedArticles } from './seed.js';

export type KbDatabase = Database<typeof schema>;
export const DATABASE = Symbol('DATABASE');

/** The service's folder, from src/adapters/db or dist/adapters/db alike. */
const SERVICE_ROOT = join(__dirname, '..', '..', '..');
export const MIGRATIONS_FOLDER = join(SERVICE_ROOT, 'migrations');
export const SEED_FILE = join(SERVICE_ROOT, 'seed', 'articles.json');

/** Opens PostgreSQL (which adds it to /health), applies the migrations and seeds the demo knowledge base. */
export const databaseProvider: Provider = {
  provide: DATABASE,
  inject: [CONFIG, JsonLogger],
  useFactory: async (config: Config, logger: JsonLogger): Promise<KbDatabase> => {
    const database = await openDatabase(config.DATABASE_URL, {
      schema,
      migrationsFolder: MIGRATIONS_FOLDER,
      pgSchema: 'ai_responder',
    });
    if (config.KB_SEED) {
      const seeded = await seedArticles(database.db, SEED_FILE);
      logger.log('knowledge base seeded', seeded);
    }
    return database;
  },
};
