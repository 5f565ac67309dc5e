import { Pool } from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { registerHealthCheck } from './health.js';

/** Creates the database named in the URL if it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const pool = new Pool({ connectionString: admin.toString(), max: 1 });
  try {
    const { rowCount } = await pool.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount)
      await pool.query(`create database "${name.replace(/"/g, '""')}"`).catch((err: Error) => {
        if (!/already exists/.test(err.message)) throw err;
      });
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
  await pool.query(`create schema if not exists "${opts.pgSchema}"`);
  await migrate(db, {
    migrationsFolder: opts.migrationsFolder,
    migrationsSchema: opts.pgSchema,
    migrationsTable: '__migrations',
  });
  registerHealthCheck({ name: 'postgres', check: async () => void (await pool.query('select 1')) });
  return { pool, db };
}
