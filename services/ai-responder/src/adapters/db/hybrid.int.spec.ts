import { randomUUID } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import { sentenceEncoder } from '@support/encoder';
import { loadConfig, openDatabase } from '@support/service-kit';
import { configSchema } from '../../config';
import { createEmbedder } from '../embeddings';
import { MIGRATIONS_FOLDER, type KbDatabase } from './database';
import { KnowledgeBase } from './knowledge-base';
import * as schema from './schema';

jest.setTimeout(90_000);

/** A published English article of one product area, tagged with it. */
const article = (id: string, title: string, body: string, area: string) => ({
  id,
  title,
  body,
  tags: [area],
  locale: 'en',
  productAreas: [area],
  pages: [],
  status: 'published' as const,
  source: 'api' as const,
});

describe('hybrid retrieval with the offline sentence encoder (EMBEDDINGS_PROVIDER=local)', () => {
  const config = loadConfig(configSchema, { ...process.env, EMBEDDINGS_PROVIDER: 'local' });
  let database: KbDatabase;
  let kb: KnowledgeBase;
  const suffix = randomUUID().slice(0, 8);
  const ids = [`carbon-${suffix}`, `desk-booking-${suffix}`, `parking-${suffix}`];

  beforeAll(async () => {
    database = (await openDatabase(config.DATABASE_URL, {
      schema,
      migrationsFolder: MIGRATIONS_FOLDER,
      pgSchema: 'ai_responder',
    })) as KbDatabase;
    kb = new KnowledgeBase(database, await createEmbedder(config));
    await kb.import(
      [
        article(
          ids[0],
          'Sustainability report for business travel',
          'The sustainability report estimates the greenhouse-gas emissions of flights, rail journeys and hotel nights booked by your employees, per team and per quarter. Open Reports, then Sustainability.',
          'reports',
        ),
        article(
          ids[1],
          'Booking a desk in the office',
          'Employees reserve a desk for a day from the Office tab. Admins decide how many desks each floor offers.',
          'office',
        ),
      ],
      'test',
    );
  });

  afterAll(async () => {
    await database.db.delete(schema.articles).where(inArray(schema.articles.id, ids));
    await database.pool.end();
  });

  it('stores a vector per passage, named by the model that made it', async () => {
    const rows = await database.db
      .select({ model: schema.passages.embeddingModel, embedding: schema.passages.embedding })
      .from(schema.passages)
      .where(inArray(schema.passages.articleId, ids));
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const encoder = await sentenceEncoder();
    for (const r of rows) {
      expect(r.model).toBe(`local:${encoder.name}`);
      expect(r.embedding).toHaveLength(encoder.dimensions);
    }
  });

  it('finds by meaning a passage that shares no word with the question', async () => {
    const question = 'Where do I see the CO2 footprint of our trips?';
    const ranked = await kb.search(question, 'en', 5);
    const hit = ranked.find((a) => a.id === ids[0]);
    expect(hit).toBeDefined();
    expect(hit!.similarity).toBeGreaterThan(0.3);
    // The unrelated article, if retrieved at all, ranks below it.
    const rank = (id: string) => ranked.findIndex((a) => a.id === id);
    if (rank(ids[1]) >= 0) expect(rank(ids[0])).toBeLessThan(rank(ids[1]));
  });

  it('sends one revision check for the searches that arrive while it runs, and the next search sees an article stored meanwhile', async () => {
    const lexical = new KnowledgeBase(database);
    await lexical.search('desk office', 'en', 3);
    const select = jest.spyOn(database.db, 'select');
    try {
      // Past the half second a revision stays trusted.
      await new Promise((r) => setTimeout(r, 600));
      const found = await Promise.all(
        Array.from({ length: 20 }, () => lexical.search('reserve a desk', 'en', 3)),
      );
      expect(found.every((ranked) => ranked.some((a) => a.id === ids[1]))).toBe(true);
      expect(select).toHaveBeenCalledTimes(1);
    } finally {
      select.mockRestore();
    }
    await new Promise((r) => setTimeout(r, 600));
    const during = lexical.search('reserve a desk', 'en', 3);
    await lexical.import(
      [
        article(
          ids[2],
          'Parking permits for visitors',
          'Reception hands visitors a parking permit for the underground garage.',
          'office',
        ),
      ],
      'test',
    );
    await during;
    const ranked = await lexical.search('visitor parking permit', 'en', 3);
    expect(ranked.map((a) => a.id)).toContain(ids[2]);
  });
});
