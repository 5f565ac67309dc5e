import { readFile } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { z } from 'zod';
import { articles } from './schema.js';

const seedSchema = z.array(
  z.object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a slug'),
    title: z.string().min(1),
    body: z.string().min(1),
    tags: z.array(z.string()).default([]),
    locale: z.string().default('en'),
    productAreas: z.array(z.string()).default([]),
    status: z.enum(['draft', 'published', 'retired']),
  }),
);

/**
 * Upserts the seed articles by id. An article whose content changed gets the
 * next version and a new updated_at; an unchanged one is left alone.
 */
export async function seedArticles(
  db: NodePgDatabase<Record<string, unknown>>,
  file: string,
): Promise<{ articles: number; changed: number }> {
  const rows = seedSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  if (rows.length === 0) return { articles: 0, changed: 0 };
  const changed = await db
    .insert(articles)
    .values(rows)
    .onConflictDoUpdate({
      target: articles.id,
      set: {
        title: sql`excluded.title`,
        body: sql`excluded.body`,
        tags: sql`excluded.tags`,
        locale: sql`excluded.locale`,
        productAreas: sql`excluded.product_areas`,
        status: sql`excluded.status`,
        version: sql`${articles.version} + 1`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`(${articles.title}, ${articles.body}, ${articles.tags}, ${articles.locale}, ${articles.productAreas}, ${articles.status})
        is distinct from (excluded.title, excluded.body, excluded.tags, excluded.locale, excluded.product_areas, excluded.status)`,
    })
    .returning({ id: articles.id });
  return { articles: rows.length, changed: changed.length };
}
