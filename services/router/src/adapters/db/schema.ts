import { boolean, integer, pgSchema, text } from 'drizzle-orm/pg-core';

/** The router's own PostgreSQL schema: reference data about the people who take handoffs. */
export const routerSchema = pgSchema('router');

export const agents = routerSchema.table('agents', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  team: text('team').notNull(),
  skills: text('skills').array().notNull(),
  languages: text('languages').array().notNull(),
  maxConcurrent: integer('max_concurrent').notNull(),
  active: boolean('active').notNull().default(true),
});

export type AgentRow = typeof agents.$inferSelect;
