import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { CONFIG, JsonLogger, openDatabase, type Database } from '@support/service-kit';
import type { Config } from '../../config.js';
import type { AgentProfile } from '../../domain/routing.js';
import * as schema from './schema.js';
import { agents } from './schema.js';

/** The service's folder, the same from src/adapters/db (Jest) and dist/adapters/db (node). */
const SERVICE_ROOT = join(__dirname, '..', '..', '..');
export const MIGRATIONS_FOLDER = join(SERVICE_ROOT, 'migrations');
export const DEMO_SEED_FILE = join(SERVICE_ROOT, 'seed', 'agents.json');

const seedSchema = z.array(
  z.object({
    id: z.string().min(1).max(100),
    name: z.string().min(1).max(200),
    team: z.string().min(1).max(100),
    skills: z.array(z.string().min(1)).default([]),
    languages: z.array(z.string().min(1)).default([]),
    maxConcurrent: z.number().int().min(0),
    active: z.boolean().default(true),
  }),
);

export async function readSeed(file = DEMO_SEED_FILE): Promise<AgentProfile[]> {
  return seedSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** The agents roster in PostgreSQL (schema "router"), migrated and seeded at start-up. */
@Injectable()
export class Roster implements OnModuleInit, OnApplicationShutdown {
  private database?: Database<typeof schema>;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly logger: JsonLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.database = await openDatabase(this.config.DATABASE_URL, {
      schema,
      migrationsFolder: MIGRATIONS_FOLDER,
      pgSchema: 'router',
    });
    if (this.config.ROUTER_SEED_DEMO) {
      const seeded = await this.upsert(await readSeed());
      this.logger.log('demo roster seeded', { agents: seeded });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database?.pool.end().catch(() => undefined);
  }

  get db(): Database<typeof schema> {
    if (!this.database) throw new Error('the roster database is not open yet');
    return this.database;
  }

  /** Inserts or updates agents by id. */
  async upsert(list: readonly AgentProfile[]): Promise<number> {
    if (list.length === 0) return 0;
    const rows = list.map((a) => ({ ...a, skills: [...a.skills], languages: [...a.languages] }));
    await this.db.db
      .insert(agents)
      .values(rows)
      .onConflictDoUpdate({
        target: agents.id,
        set: {
          name: sql`excluded.name`,
          team: sql`excluded.team`,
          skills: sql`excluded.skills`,
          languages: sql`excluded.languages`,
          maxConcurrent: sql`excluded.max_concurrent`,
          active: sql`excluded.active`,
        },
      });
    return rows.length;
  }

  async remove(id: string): Promise<void> {
    await this.db.db.delete(agents).where(eq(agents.id, id));
  }

  /** The whole roster, inactive agents included, by id. */
  async all(): Promise<AgentProfile[]> {
    return this.db.db.select().from(agents).orderBy(asc(agents.id));
  }

  async active(): Promise<AgentProfile[]> {
    return this.db.db.select().from(agents).where(eq(agents.active, true)).orderBy(asc(agents.id));
  }
}
