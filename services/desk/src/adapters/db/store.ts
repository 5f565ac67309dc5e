import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { CONFIG, JsonLogger, openDatabase, type Database } from '@support/service-kit';
import type { Config } from '../../config.js';
import { hashPassword } from '../../domain/password.js';
import * as schema from './schema.js';
import { logins, type LoginRow } from './schema.js';

/** The service's folder, the same from src/adapters/db (Jest) and dist/adapters/db (node). */
const SERVICE_ROOT = join(__dirname, '..', '..', '..');
export const MIGRATIONS_FOLDER = join(SERVICE_ROOT, 'migrations');
export const DEMO_LOGINS_FILE = join(SERVICE_ROOT, 'seed', 'logins.json');

export const loginInputSchema = z.object({
  agentId: z.string().trim().min(1).max(100),
  name: z.string().trim().min(1).max(200),
  team: z.string().trim().max(100).default(''),
  password: z.string().min(10, { message: 'must be at least 10 characters' }).max(200),
  disabled: z.boolean().default(false),
});
export type LoginInput = z.output<typeof loginInputSchema>;

export const loginNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(3)
  .max(200)
  .regex(/^[a-z0-9._%+@-]+$/, { message: 'letters, digits and . _ % + @ - only' });

/** The desk's PostgreSQL (schema "desk"): logins, webhooks and their deliveries. */
@Injectable()
export class DeskDatabase implements OnModuleInit, OnApplicationShutdown {
  private database?: Database<typeof schema>;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly logger: JsonLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.database = await openDatabase(this.config.DATABASE_URL, {
      schema,
      migrationsFolder: MIGRATIONS_FOLDER,
      pgSchema: 'desk',
    });
    if (this.config.DESK_DEMO_PASSWORD) {
      const seed = z
        .array(
          z.object({
            login: loginNameSchema,
            agentId: z.string(),
            name: z.string(),
            team: z.string(),
          }),
        )
        .parse(JSON.parse(await readFile(DEMO_LOGINS_FILE, 'utf8')));
      for (const s of seed)
        await this.putLogin(s.login, {
          ...s,
          password: this.config.DESK_DEMO_PASSWORD,
          disabled: false,
        });
      this.logger.log('demo logins seeded', { logins: seed.length });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database?.pool.end().catch(() => undefined);
  }

  get db(): Database<typeof schema>['db'] {
    if (!this.database) throw new Error('the desk database is not open yet');
    return this.database.db;
  }

  /** Creates or replaces a login. */
  async putLogin(login: string, input: LoginInput): Promise<void> {
    const row = {
      login,
      agentId: input.agentId,
      name: input.name,
      team: input.team,
      passwordHash: await hashPassword(input.password),
      disabled: input.disabled,
    };
    await this.db
      .insert(logins)
      .values(row)
      .onConflictDoUpdate({ target: logins.login, set: { ...row, login: undefined } });
  }

  async login(login: string): Promise<LoginRow | undefined> {
    const [row] = await this.db.select().from(logins).where(eq(logins.login, login.toLowerCase()));
    return row;
  }

  async logins(): Promise<Omit<LoginRow, 'passwordHash'>[]> {
    const rows = await this.db.select().from(logins).orderBy(asc(logins.login));
    return rows.map(({ passwordHash: _hash, ...rest }) => rest);
  }

  async deleteLogin(login: string): Promise<boolean> {
    const removed = await this.db.delete(logins).where(eq(logins.login, login)).returning();
    return removed.length > 0;
  }
}
