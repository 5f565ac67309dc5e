import { sql } from 'drizzle-orm';
import { boolean, integer, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';
import type { WorkingHours } from '../../domain/directory.js';

/** The router's own PostgreSQL schema: reference data about the people who take handoffs. */
export const routerSchema = pgSchema('router');

/** The skills agents, teams and handoffs may name: the directory's vocabulary, as data. */
export const skills = routerSchema.table('skills', {
  name: text('name').primaryKey(),
  description: text('description').notNull().default(''),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Teams agents belong to; a handoff's customer is told which team is coming. */
export const teams = routerSchema.table('teams', {
  name: text('name').primaryKey(),
  description: text('description').notNull().default(''),
  /** The skills the team covers (names in router.skills). */
  skills: text('skills')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const agents = routerSchema.table('agents', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** The team's name (router.teams). */
  team: text('team').notNull(),
  /** Skill names, for matching; their levels are in skill_levels. */
  skills: text('skills').array().notNull(),
  /** Level 1 (basic) to 5 (expert) per skill; a skill without a level counts as 3. */
  skillLevels: jsonb('skill_levels').$type<Record<string, number>>().notNull().default({}),
  languages: text('languages').array().notNull(),
  maxConcurrent: integer('max_concurrent').notNull(),
  active: boolean('active').notNull().default(true),
  /** Weekly hours in the agent's time zone; null: no fixed hours. */
  workingHours: jsonb('working_hours').$type<WorkingHours | null>(),
  /** IANA time zone, e.g. Europe/Berlin. */
  timeZone: text('time_zone').notNull().default('UTC'),
  email: text('email').notNull().default(''),
});

export type AgentRow = typeof agents.$inferSelect;
export type TeamRow = typeof teams.$inferSelect;
export type SkillRow = typeof skills.$inferSelect;
