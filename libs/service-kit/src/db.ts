import { Pool } from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { registerHealthCheck } from './health.js';

/**
 * Creates the database named in the URL if it does not exist yet. Services starting together on
 * a fresh server race to create it: PostgreSQL refuses all but one, with "already exists" or, when
 * they collide inside the catalogue, a unique violation on pg_database. Whichever error a loser
 * gets, the database is there afterwards, and that is what counts.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const pool = new Pool({ connectionString: admin.toString(), max: 1 });
  const exists = async () =>
    ((await pool.query('select 1 from pg_database where datname = $1', [name])).rowCount ?? 0) > 0;
  try {
    if (await exists()) return;
    try {
      await pool.query(`create database "${name.replace(/"/g, '""')}"`);
    } catch (err) {
      if (!(await exists())) throw err;
    }
  } finally {
    await pool.end();
  }
}

export interface Database<S extends Record<string, unknown>> {
  pool: Pool;
  db: NodePgDatabase<S>;
}

/** Connects, applies the service's migrations (files in the repo) in its own schema, and adds PostgreSQL to /health. */
export async function openDatabase<S extends Record<string, unknown>>(
  url: string,
  opts: { schema: S; migrationsFolder: string; pgSchema: string },
): Promise<Database<S>> {
  await ensureDatabase(url);
  const pool = new Pool({ connectionString: url, max: 5 });
  const db = drizzle(pool, { schema: opts.schema });
  // Replicas of a service starting together would race to create its schema and to apply its
  // migrations: they take turns, the later ones finding everything applied.
  const turn = await pool.connect();
  const key = `migrations:${opts.pgSchema}`;
  try {
    await turn.query('select pg_advisory_lock(hashtext($1))', [key]);
    await pool.query(`create schema if not exists "${opts.pgSchema}"`);
    await migrate(db, {
      migrationsFolder: opts.migrationsFolder,
      migrationsSchema: opts.pgSchema,
      migrationsTable: '__migrations',
    });
  } finally {
    await turn.query('select pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
    turn.release();
  }
  registerHealthCheck({ name: 'postgres', check: async () => void (await pool.query('select 1')) });
  return { pool, db };
}
