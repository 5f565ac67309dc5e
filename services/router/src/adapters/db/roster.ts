import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { asc, count, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { CONFIG, JsonLogger, openDatabase, type Database } from '@support/service-kit';
import type { Config } from '../../config.js';
import {
  agentIdSchema,
  agentInputSchema,
  onDuty,
  skillName,
  splitSkills,
} from '../../domain/directory.js';
import type { AgentProfile } from '../../domain/routing.js';
import {
  agentVocabularyIssues,
  teamVocabularyIssues,
  type TeamInput,
  type Vocabulary,
  type VocabularyIssue,
} from '../../domain/vocabulary.js';
import * as schema from './schema.js';
import { agents, skills, teams, type TeamRow } from './schema.js';

/** The service's folder, the same from src/adapters/db (Jest) and dist/adapters/db (node). */
const SERVICE_ROOT = join(__dirname, '..', '..', '..');
export const MIGRATIONS_FOLDER = join(SERVICE_ROOT, 'migrations');
export const DEMO_SEED_FILE = join(SERVICE_ROOT, 'seed', 'agents.json');
/** The shipped vocabulary: the skills the AI responder and the escalation policy name, and the teams covering them. */
export const DEFAULT_VOCABULARY_FILE = join(SERVICE_ROOT, 'routing', 'teams.json');

const seedSchema = z.array(agentInputSchema.extend({ id: agentIdSchema }));

/** The demo roster: agents in the admin API's shape, each with its id. */
export async function readSeed(file = DEMO_SEED_FILE): Promise<AgentProfile[]> {
  return seedSchema
    .parse(JSON.parse(await readFile(file, 'utf8')))
    .map(({ skills, ...agent }) => ({ ...agent, ...splitSkills(skills) }));
}

const vocabularyFileSchema = z
  .strictObject({
    skills: z.array(z.strictObject({ name: skillName, description: z.string().default('') })),
    teams: z.array(
      z.strictObject({
        name: z.string().trim().min(1).max(100),
        description: z.string().default(''),
        skills: z.array(skillName).default([]),
      }),
    ),
  })
  .superRefine((file, ctx) => {
    const known = new Set(file.skills.map((k) => k.name));
    file.teams.forEach((t, i) =>
      t.skills.forEach((skill, j) => {
        if (!known.has(skill))
          ctx.addIssue({
            code: 'custom',
            path: ['teams', i, 'skills', j],
            message: `team ${t.name} covers "${skill}", which is not among the file's skills`,
          });
      }),
    );
  });

/** A vocabulary file: the skills, and the teams with the skills each covers. */
export async function readVocabularyFile(file = DEFAULT_VOCABULARY_FILE): Promise<Vocabulary> {
  const parsed = vocabularyFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success)
    throw new Error(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Names outside the directory's vocabulary: a 400 with these issues; nothing was stored. */
export class UnknownNames extends Error {
  constructor(readonly issues: VocabularyIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

type Tx = Parameters<Parameters<Database<typeof schema>['db']['transaction']>[0]>[0];

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
    if (this.config.ROUTER_VOCABULARY_FILE !== 'none') {
      const file = this.config.ROUTER_VOCABULARY_FILE || DEFAULT_VOCABULARY_FILE;
      const added = await this.addVocabulary(await readVocabularyFile(file));
      this.logger.log('vocabulary file applied', { file, ...added });
    }
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
   * Inserts or updates agents by id. Their teams and skills are added to the
   * vocabulary when missing (the seed and bulk loads), unless `requireKnown`
   * (the admin API, where an unknown name is a mistake to report: UnknownNames,
   * and nothing is stored). `written`: the skills as the request wrote them,
   * for the issues' field names.
   */
  async upsert(
    list: readonly (AgentProfile & { email?: string })[],
    opts: { requireKnown?: boolean; written?: readonly unknown[] } = {},
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
      if (opts.requireKnown) {
        const vocabulary = await this.vocabulary(tx);
        const issues = rows.flatMap((r) => agentVocabularyIssues(vocabulary, r, opts.written));
        if (issues.length) throw new UnknownNames(issues);
      } else {
        const names = [...new Set(rows.map((r) => r.team))];
        await tx
          .insert(teams)
          .values(names.map((name) => ({ name })))
          .onConflictDoNothing();
        const skillNames = [...new Set(rows.flatMap((r) => r.skills))];
        if (skillNames.length)
          await tx
            .insert(skills)
            .values(skillNames.map((name) => ({ name })))
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

  /** The vocabulary (skills, and teams with theirs), by name. */
  async vocabulary(tx: Tx | Database<typeof schema>['db'] = this.db.db): Promise<Vocabulary> {
    const [teamRows, skillRows] = await Promise.all([
      tx
        .select({ name: teams.name, description: teams.description, skills: teams.skills })
        .from(teams)
        .orderBy(asc(teams.name)),
      tx
        .select({ name: skills.name, description: skills.description })
        .from(skills)
        .orderBy(asc(skills.name)),
    ]);
    return { teams: teamRows, skills: skillRows };
  }

  /**
   * Adds the file's skills and teams that the directory lacks; those it has
   * keep what the admin API made of them.
   */
  async addVocabulary(file: Vocabulary): Promise<{ skills: number; teams: number }> {
    return this.db.db.transaction(async (tx) => {
      const addedSkills = file.skills.length
        ? await tx
            .insert(skills)
            .values(file.skills.map((k) => ({ ...k })))
            .onConflictDoNothing()
            .returning({ name: skills.name })
        : [];
      const addedTeams = file.teams.length
        ? await tx
            .insert(teams)
            .values(file.teams.map((t) => ({ ...t, skills: [...t.skills] })))
            .onConflictDoNothing()
            .returning({ name: teams.name })
        : [];
      return { skills: addedSkills.length, teams: addedTeams.length };
    });
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
        skills: teams.skills,
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

  /** Creates or replaces a team; its skills must be known (UnknownNames otherwise). */
  async putTeam(name: string, input: TeamInput): Promise<void> {
    await this.db.db.transaction(async (tx) => {
      const issues = teamVocabularyIssues(await this.vocabulary(tx), input);
      if (issues.length) throw new UnknownNames(issues);
      await this.writeTeam(tx, name, input);
    });
  }

  private async writeTeam(
    tx: Tx,
    name: string,
    { description, skills: covered }: { description: string; skills: readonly string[] },
  ): Promise<void> {
    await tx
      .insert(teams)
      .values({ name, description, skills: [...covered] })
      .onConflictDoUpdate({ target: teams.name, set: { description, skills: [...covered] } });
  }

  async skills(): Promise<(schema.SkillRow & { agents: number; teams: string[] })[]> {
    const [vocabulary, roster, rows] = await Promise.all([
      this.vocabulary(),
      this.all(),
      this.db.db.select().from(skills).orderBy(asc(skills.name)),
    ]);
    return rows.map((row) => ({
      ...row,
      agents: roster.filter((a) => a.skills.includes(row.name)).length,
      teams: vocabulary.teams.filter((t) => t.skills.includes(row.name)).map((t) => t.name),
    }));
  }

  async putSkill(name: string, description: string): Promise<void> {
    await this.db.db
      .insert(skills)
      .values({ name, description })
      .onConflictDoUpdate({ target: skills.name, set: { description } });
  }

  /**
   * Deletes a skill no agent has and no team covers: 'deleted', 'missing', or
   * who still uses it (agent ids and team names, some of them).
   */
  async removeSkill(name: string): Promise<'deleted' | 'missing' | { usedBy: string[] }> {
    return this.db.db.transaction(async (tx) => {
      const byAgents = await tx
        .select({ id: agents.id })
        .from(agents)
        .where(sql`${name} = any(${agents.skills})`)
        .limit(5);
      const byTeams = await tx
        .select({ name: teams.name })
        .from(teams)
        .where(sql`${name} = any(${teams.skills})`)
        .limit(5);
      if (byAgents.length || byTeams.length)
        return {
          usedBy: [
            ...byTeams.map((t) => `team ${t.name}`),
            ...byAgents.map((a) => `agent ${a.id}`),
          ],
        };
      const deleted = await tx.delete(skills).where(eq(skills.name, name)).returning();
      return deleted.length ? 'deleted' : 'missing';
    });
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
