import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { openDatabase, type Database } from './db';

const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/support_test');

/** A migrations folder of one migration, in drizzle-kit's layout. */
function migrationsFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  mkdirSync(join(dir, 'meta'));
  const entry = {
    idx: 0,
    version: '7',
    when: 1_700_000_000_000,
    tag: '0000_notes',
    breakpoints: true,
  };
  writeFileSync(
    join(dir, 'meta', '_journal.json'),
    JSON.stringify({ version: '7', dialect: 'postgresql', entries: [entry] }),
  );
  writeFileSync(
    join(dir, '0000_notes.sql'),
    'CREATE TABLE "race"."notes" ("id" text PRIMARY KEY NOT NULL);',
  );
  return dir;
}

describe('a database opened by several processes at once', () => {
  const name = `support_race_${randomUUID().slice(0, 8)}`;
  const url = new URL(base);
  url.pathname = `/${name}`;
  const opened: Database<Record<string, never>>[] = [];

  afterAll(async () => {
    await Promise.all(opened.map((d) => d.pool.end()));
    const admin = new URL(base);
    admin.pathname = '/postgres';
    const pool = new Pool({ connectionString: admin.toString(), max: 1 });
    await pool.query(`drop database if exists "${name}"`);
    await pool.end();
  });

  it('is created once, its schema and migrations applied once, and every opener succeeds', async () => {
    const folder = migrationsFolder();
    // Six services (or replicas) starting together on a fresh server.
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        openDatabase(url.toString(), { schema: {}, migrationsFolder: folder, pgSchema: 'race' }),
      ),
    );
    for (const r of results) if (r.status === 'fulfilled') opened.push(r.value);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const { rows } = await opened[0]!.pool.query(
      'select count(*)::int as n from "race"."__migrations"',
    );
    expect(rows[0].n).toBe(1);
    await opened[0]!.pool.query(`insert into "race"."notes" values ('applied')`);
  });
});
