import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { asc, count, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { CONFIG, JsonLogger, openDatabase, type Database } from '@support/service-kit';
import type { Config } from '../../config.js';
import { agentIdSchema, agentInputSchema, onDuty, splitSkills } from '../../domain/directory.js';
import type { AgentProfile } from '../../domain/routing.js';
import * as schema from './schema.js';
import { agents, teams, type TeamRow } from './schema.js';

/** The service's folder, the same from src/adapters/db (Jest) and dist/adapters/db (node). */
const SERVICE_ROOT = join(__dirname, '..', '..', '..');
export const MIGRATIONS_FOLDER = join(SERVICE_ROOT, 'migrations');
export const DEMO_SEED_FILE = join(SERVICE_ROOT, 'seed', 'agents.json');

const seedSchema = z.array(agentInputSchema.extend({ id: agentIdSchema }));

/** The demo roster: agents in the admin API's shape, each with its id. */
export async function readSeed(file = DEMO_SEED_FILE): Promise<AgentProfile[]> {
  return seedSchema
    .parse(JSON.parse(await readFile(file, 'utf8')))
    .map(({ skills, ...agent }) => ({ ...agent, ...splitSkills(skills) }));
}

export class UnknownTeam extends Error {}

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

  /**
   * Inserts or updates agents by id; their teams are created when missing
   * (the seed and bulk loads), unless `requireTeams` (the admin API, where an
   * unknown team is a mistake to report).
   */
  async upsert(
    list: readonly (AgentProfile & { email?: string })[],
    opts: { requireTeams?: boolean } = {},
  ): Promise<number> {
    if (list.length === 0) return 0;
    const rows = list.map((a) => ({
      ...a,
      skills: [...a.skills],
      skillLevels: { ...(a.skillLevels ?? {}) },
      languages: [...a.languages],
      workingHours: a.workingHours ?? null,
      timeZone: a.timeZone ?? 'UTC',
      email: a.email ?? '',
    }));
    await this.db.db.transaction(async (tx) => {
      const names = [...new Set(rows.map((r) => r.team))];
      if (opts.requireTeams) {
        const known = new Set(
          (await tx.select({ name: teams.name }).from(teams).where(inArray(teams.name, names))).map(
            (t) => t.name,
          ),
        );
        const missing = names.find((n) => !known.has(n));
        if (missing) throw new UnknownTeam(`unknown team "${missing}"; create it first`);
      } else {
        await tx
          .insert(teams)
          .values(names.map((name) => ({ name })))
          .onConflictDoNothing();
      }
      await tx
        .insert(agents)
        .values(rows)
        .onConflictDoUpdate({
          target: agents.id,
          set: {
            name: sql`excluded.name`,
            team: sql`excluded.team`,
            skills: sql`excluded.skills`,
            skillLevels: sql`excluded.skill_levels`,
            languages: sql`excluded.languages`,
            maxConcurrent: sql`excluded.max_concurrent`,
            active: sql`excluded.active`,
            workingHours: sql`excluded.working_hours`,
            timeZone: sql`excluded.time_zone`,
            email: sql`excluded.email`,
          },
        });
    });
    return rows.length;
  }

  async remove(id: string): Promise<boolean> {
    const deleted = await this.db.db
      .delete(agents)
      .where(eq(agents.id, id))
      .returning({ id: agents.id });
    return deleted.length > 0;
  }

  async get(id: string): Promise<schema.AgentRow | undefined> {
    const [row] = await this.db.db.select().from(agents).where(eq(agents.id, id));
    return row;
  }

  /** The whole roster, inactive agents included, by id. */
  async all(): Promise<schema.AgentRow[]> {
    return this.db.db.select().from(agents).orderBy(asc(agents.id));
  }

  async active(): Promise<schema.AgentRow[]> {
    return this.db.db.select().from(agents).where(eq(agents.active, true)).orderBy(asc(agents.id));
  }

  /** Active agents within their working hours now: who may take a new handoff. */
  async onDuty(now = new Date()): Promise<schema.AgentRow[]> {
    return (await this.active()).filter((a) => onDuty(a, now));
  }

  async teams(): Promise<(TeamRow & { agents: number })[]> {
    const rows = await this.db.db
      .select({
        name: teams.name,
        description: teams.description,
        createdAt: teams.createdAt,
        // A join, so that drizzle qualifies the columns (in a subquery "name" would be the agent's).
        agents: count(agents.id),
      })
      .from(teams)
      .leftJoin(agents, eq(agents.team, teams.name))
      .groupBy(teams.name)
      .orderBy(asc(teams.name));
    return rows;
  }

  async putTeam(name: string, description: string): Promise<void> {
    await this.db.db
      .insert(teams)
      .values({ name, description })
      .onConflictDoUpdate({ target: teams.name, set: { description } });
  }

  /** Deletes a team that no agent belongs to: 'deleted', 'missing' or 'in_use'. */
  async removeTeam(name: string): Promise<'deleted' | 'missing' | 'in_use'> {
    return this.db.db.transaction(async (tx) => {
      const [used] = await tx
        .select({ id: agents.id })
        .from(agents)
        .where(eq(agents.team, name))
        .limit(1);
      if (used) return 'in_use';
      const deleted = await tx.delete(teams).where(eq(teams.name, name)).returning();
      return deleted.length ? 'deleted' : 'missing';
    });
  }
}
