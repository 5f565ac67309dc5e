import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { and, asc, eq, lt, ne } from 'drizzle-orm';
import { z } from 'zod';
import { CONFIG, JsonLogger, openDatabase, type Database } from '@support/service-kit';
import type { Config } from '../../config.js';
import { hashPassword, verifyPassword } from '../../domain/password.js';
import * as schema from './schema.js';
import { logins, sessions, type LoginRow } from './schema.js';

/** The service's folder, the same from src/adapters/db (Jest) and dist/adapters/db (node). */
const SERVICE_ROOT = join(__dirname, '..', '..', '..');
export const MIGRATIONS_FOLDER = join(SERVICE_ROOT, 'migrations');
export const DEMO_LOGINS_FILE = join(SERVICE_ROOT, 'seed', 'logins.json');

/** The password policy: 10 to 200 characters. */
export const passwordSchema = z
  .string()
  .min(10, { message: 'must be at least 10 characters' })
  .max(200);

export const loginInputSchema = z.object({
  agentId: z.string().trim().min(1).max(100),
  name: z.string().trim().min(1).max(200),
  team: z.string().trim().max(100).default(''),
  password: passwordSchema,
  disabled: z.boolean().default(false),
});
export type LoginInput = z.output<typeof loginInputSchema>;

/** What a PUT of a login did: created it, or which fields it changed (`password` included). */
export interface LoginChange {
  created: boolean;
  changed: ('agentId' | 'name' | 'team' | 'password' | 'disabled')[];
  /** Whether the login's sessions were ended (a new password or agent, or disabled). */
  sessionsEnded: boolean;
}

export const loginNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(3)
  .max(200)
  .regex(/^[a-z0-9._%+@-]+$/, { message: 'letters, digits and . _ % + @ - only' });

/** The desk's PostgreSQL (schema "desk"): logins and their sessions, webhooks and their deliveries. */
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

  /**
   * Creates or replaces a login. A new password, another agent or disabling it ends the
   * login's sessions (the same password again keeps them, so re-seeding signs nobody out).
   */
  async putLogin(login: string, input: LoginInput): Promise<LoginChange> {
    const before = await this.login(login);
    const samePassword = !!before && (await verifyPassword(input.password, before.passwordHash));
    const row = {
      login,
      agentId: input.agentId,
      name: input.name,
      team: input.team,
      passwordHash:
        before && samePassword ? before.passwordHash : await hashPassword(input.password),
      disabled: input.disabled,
    };
    await this.db
      .insert(logins)
      .values(row)
      .onConflictDoUpdate({ target: logins.login, set: { ...row, login: undefined } });
    if (!before) return { created: true, changed: [], sessionsEnded: false };
    const changed = (['agentId', 'name', 'team', 'disabled'] as const).filter(
      (k) => before[k] !== row[k],
    ) as LoginChange['changed'];
    if (!samePassword) changed.push('password');
    const sessionsEnded = !samePassword || before.agentId !== row.agentId || row.disabled;
    if (sessionsEnded) await this.endSessions(login);
    return { created: false, changed, sessionsEnded };
  }

  /** Sets a new password and ends every session of the login except `keepSessionId`. */
  async setPassword(login: string, password: string, keepSessionId?: string): Promise<void> {
    await this.db
      .update(logins)
      .set({ passwordHash: await hashPassword(password) })
      .where(eq(logins.login, login));
    await this.endSessions(login, keepSessionId);
  }

  /** Ends the login's sessions (all, or all but one); returns how many. */
  async endSessions(login: string, exceptId?: string): Promise<number> {
    const ended = await this.db
      .delete(sessions)
      .where(
        exceptId
          ? and(eq(sessions.login, login), ne(sessions.id, exceptId))
          : eq(sessions.login, login),
      )
      .returning({ id: sessions.id });
    return ended.length;
  }

  /** Stores a new session (and clears expired ones). */
  async openSession(id: string, login: string, expiresAt: Date): Promise<void> {
    await this.db.delete(sessions).where(lt(sessions.expiresAt, new Date()));
    await this.db.insert(sessions).values({ id, login, expiresAt });
  }

  /** A session that is still open, with its login; undefined when ended, expired or unknown. */
  async session(id: string): Promise<{ expiresAt: Date; login: LoginRow } | undefined> {
    const [row] = await this.db
      .select({ expiresAt: sessions.expiresAt, login: logins })
      .from(sessions)
      .innerJoin(logins, eq(sessions.login, logins.login))
      .where(eq(sessions.id, id));
    return row && row.expiresAt.getTime() > Date.now() ? row : undefined;
  }

  /** Ends one session; whether it was open. */
  async closeSession(id: string): Promise<boolean> {
    const ended = await this.db
      .delete(sessions)
      .where(eq(sessions.id, id))
      .returning({ id: sessions.id });
    return ended.length > 0;
  }

  async login(login: string): Promise<LoginRow | undefined> {
    const [row] = await this.db.select().from(logins).where(eq(logins.login, login.toLowerCase()));
    return row;
  }

  async logins(): Promise<Omit<LoginRow, 'passwordHash'>[]> {
    const rows = await this.db.select().from(logins).orderBy(asc(logins.login));
    return rows.map(({ passwordHash: _hash, ...rest }) => rest);
  }

  /** Removes a login (its sessions go with it); the removed row, or undefined if there was none. */
  async deleteLogin(login: string): Promise<LoginRow | undefined> {
    const [removed] = await this.db.delete(logins).where(eq(logins.login, login)).returning();
    return removed;
  }
}
