import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { inArray, like } from 'drizzle-orm';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  checkServedOpenApi,
  fetchChecked,
  startServiceRig,
  type OpenApiDoc,
  type ServiceRig,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DATABASE, type KbDatabase } from './db/database';
import { articles, kbSuggestions } from './db/schema';

jest.setTimeout(60_000);

const API_KEY = `kb-openapi-itest-${randomUUID()}`;
/** In every article and suggestion id of this run, so that reruns never collide. */
const RUN = randomUUID().replace(/-/g, '').slice(0, 10);

describe("the AI responder's OpenAPI document against its real answers", () => {
  let rig: ServiceRig<INestApplication>;
  let db: KbDatabase['db'];
  let doc: OpenApiDoc;
  const published: string[] = [];

  /** A call with the key (or `key`, none when null), checked against the document. */
  const call = (
    method: string,
    path: string,
    body?: unknown,
    { key = API_KEY, contentType }: { key?: string | null; contentType?: string } = {},
  ) =>
    fetchChecked(doc, rig.url, method, path, {
      body,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(contentType ? { 'content-type': contentType } : {}),
      },
    });

  /** A pending suggestion, as the learning loop would have stored it from a resolution. */
  async function suggestion(name: string): Promise<string> {
    const suggestionId = `oa-${name}-${RUN}`;
    await db.insert(kbSuggestions).values({
      suggestionId,
      title: `How do I export ${name} reports (${RUN})?`,
      body: 'Open Reports, choose the period, then Export as CSV.',
      tags: ['reports'],
      topic: 'reports',
      sources: [
        {
          conversationId: randomUUID(),
          handoffId: randomUUID(),
          agentId: 'ag-1',
          question: 'export?',
        },
      ],
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    return suggestionId;
  }

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      LOG_LEVEL: 'warn',
      AI_RESPONDER_API_KEYS: API_KEY,
      KB_SEED: 'true',
      LLM_PROVIDER: 'extractive',
      EMBEDDINGS_PROVIDER: 'none',
    });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'ai-responder-openapi-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [],
      readyTimeoutMs: 90_000,
    });
    db = rig.app.get<KbDatabase>(DATABASE).db;
    doc = await checkServedOpenApi(rig.app, rig.url);
  }, 150_000);

  afterAll(async () => {
    if (db) {
      await db.delete(kbSuggestions).where(like(kbSuggestions.suggestionId, `%${RUN}%`));
      await db.delete(articles).where(like(articles.id, `%${RUN}%`));
      if (published.length) await db.delete(articles).where(inArray(articles.id, published));
    }
    await rig?.close();
  });

  it('creates, lists, reads, changes and retires an article as documented', async () => {
    const id = `oa-article-${RUN}`;
    const article = {
      id,
      title: `Exporting ledgers ${RUN}`,
      body: 'Open **Ledgers**.\n\n## Export\n\nChoose Export, then CSV.',
      tags: ['export'],
      pages: ['/ledgers/*'],
    };
    expect((await call('POST', '/v1/kb/articles', article)).body).toEqual(
      expect.objectContaining({ id, outcome: 'created', version: 1 }),
    );
    const again = await call('POST', '/v1/kb/articles', article);
    expect([again.status, again.body.error]).toEqual([409, 'already_exists']);

    const listed = await call('GET', `/v1/kb/articles?q=${RUN}&status=published&limit=10`);
    expect(listed.body.articles.map((a: { id: string }) => a.id)).toEqual([id]);
    const read = await call('GET', `/v1/kb/articles/${id}`);
    expect(read.body.passages.length).toBeGreaterThan(0);

    const changed = await call('PATCH', `/v1/kb/articles/${id}`, {
      title: 'Exporting ledgers as CSV',
      expectedVersion: 1,
    });
    expect(changed.body).toEqual(expect.objectContaining({ outcome: 'updated', version: 2 }));
    const stale = await call('PATCH', `/v1/kb/articles/${id}`, {
      tags: ['csv'],
      expectedVersion: 1,
    });
    expect([stale.status, stale.body.error]).toEqual([409, 'version_conflict']);
    expect((await call('POST', `/v1/kb/articles/${id}/retire`)).body.status).toBe('retired');
    const versions = await call('GET', `/v1/kb/articles/${id}/versions`);
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);

    const missing = `oa-missing-${RUN}`;
    expect((await call('GET', `/v1/kb/articles/${missing}`)).status).toBe(404);
    expect((await call('GET', `/v1/kb/articles/${missing}/versions`)).status).toBe(404);
    expect((await call('PATCH', `/v1/kb/articles/${missing}`, { title: 'x' })).status).toBe(404);
    expect((await call('POST', `/v1/kb/articles/${missing}/retire`)).status).toBe(404);
  });

  it('imports JSON and Markdown, and refuses other content types', async () => {
    const json = await call('POST', '/v1/kb/import?status=draft', {
      articles: [{ id: `oa-json-${RUN}`, title: 'From JSON', body: 'Imported as JSON.' }],
    });
    expect(json.body).toEqual(expect.objectContaining({ imported: 1, created: 1 }));
    const markdown = await call(
      'POST',
      '/v1/kb/import',
      `---\nid: oa-md-${RUN}\ntags: [import]\n---\n# From Markdown\n\nImported as Markdown.\n`,
      { contentType: 'text/markdown' },
    );
    expect(markdown.body.results).toEqual([
      expect.objectContaining({ id: `oa-md-${RUN}`, outcome: 'created' }),
    ]);
    const plain = await call('POST', '/v1/kb/import', 'just text', { contentType: 'text/plain' });
    expect([plain.status, plain.body.error]).toEqual([415, 'unsupported_media_type']);
  });

  it('reviews suggestions as documented: approve, reject, and no second review', async () => {
    const approveId = await suggestion('approve');
    const rejectId = await suggestion('reject');
    const pending = await call('GET', '/v1/kb/suggestions?status=pending&limit=200');
    expect(pending.body.suggestions.map((s: { suggestionId: string }) => s.suggestionId)).toEqual(
      expect.arrayContaining([approveId, rejectId]),
    );

    const approved = await call('POST', `/v1/kb/suggestions/${approveId}/approve`, {
      tags: ['reports', 'csv'],
    });
    expect(approved.status).toBe(200);
    published.push(approved.body.article.id);
    expect(approved.body.suggestion.status).toBe('approved');
    const rejected = await call('POST', `/v1/kb/suggestions/${rejectId}/reject`, {
      reason: 'duplicate',
    });
    expect(rejected.body).toEqual(expect.objectContaining({ kind: 'rejected' }));

    const twice = await call('POST', `/v1/kb/suggestions/${rejectId}/approve`, {});
    expect([twice.status, twice.body.error]).toEqual([409, 'already_reviewed']);
    expect((await call('POST', `/v1/kb/suggestions/oa-none-${RUN}/reject`, {})).status).toBe(404);
  });

  it('previews an answer as documented', async () => {
    const preview = await call('POST', '/v1/kb/preview', {
      text: 'How do I reset my password?',
      pageUrl: '/settings',
    });
    expect(preview.status).toBe(200);
    expect(preview.body.kind).toBe('answer');
  });

  it('answers invalid input with the documented 400 naming field and rule', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/kb/articles', { id: 'Not A Slug', title: '', body: 'x' }, 'id'],
      [
        'POST',
        '/v1/kb/import',
        { articles: [{ id: `oa-bad-${RUN}`, body: 'no title' }] },
        'articles[0].title',
      ],
      ['GET', '/v1/kb/articles?limit=0', undefined, 'limit'],
      ['GET', '/v1/kb/articles/Bad_Id', undefined, 'id'],
      ['PATCH', `/v1/kb/articles/oa-x-${RUN}`, { expectedVersion: 1 }, '(body)'],
      ['GET', '/v1/kb/suggestions?status=lost', undefined, 'status'],
      ['POST', `/v1/kb/suggestions/oa-x-${RUN}/approve`, { title: '' }, 'title'],
      ['POST', `/v1/kb/suggestions/oa-x-${RUN}/reject`, { reason: 'x'.repeat(2001) }, 'reason'],
      ['POST', '/v1/kb/preview', { text: '   ' }, 'text'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await call(method, path, body);
      expect({
        path,
        status: res.status,
        fields: res.body.issues.map((i: { field: string }) => i.field),
      }).toEqual({
        path,
        status: 400,
        fields: expect.arrayContaining([field]),
      });
    }
  });

  it('answers the documented 401 without a valid key', async () => {
    expect((await call('GET', '/v1/kb/articles', undefined, { key: null })).status).toBe(401);
    expect((await call('POST', '/v1/kb/preview', { text: 'hi' }, { key: 'wrong' })).status).toBe(
      401,
    );
    expect((await call('GET', '/v1/kb/suggestions', undefined, { key: null })).status).toBe(401);
  });
});
