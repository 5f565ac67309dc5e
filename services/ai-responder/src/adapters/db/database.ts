import { join } from 'node:path';
import type { Provider } from '@nestjs/common';
import { CONFIG, openDatabase, type Database } from '@support/service-kit';
import type { Config } from '../../config.js';
import * as schema from './schema.js';

export type KbDatabase = Database<typeof schema>;
export const DATABASE = Symbol('DATABASE');

/** The service's folder, from src/adapters/db or dist/adapters/db alike. */
export const SERVICE_ROOT = join(__dirname, '..', '..', '..');
export const MIGRATIONS_FOLDER = join(SERVICE_ROOT, 'migrations');

/** Opens PostgreSQL (which adds it to /health) and applies the migrations. */
export const databaseProvider: Provider = {
  provide: DATABASE,
  inject: [CONFIG],
  useFactory: (config: Config): Promise<KbDatabase> =>
    openDatabase(config.DATABASE_URL, {
      schema,
      migrationsFolder: MIGRATIONS_FOLDER,
      pgSchema: 'ai_responder',
    }),
};
