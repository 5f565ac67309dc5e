import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { like } from 'drizzle-orm';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { startServiceRig, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DATABASE, SERVICE_ROOT, type KbDatabase } from './db/database';
import { articles } from './db/schema';

jest.setTimeout(60_000);

const API_KEY = `kb-itest-${randomUUID()}`;
const SECOND_KEY = `kb-itest-other-${randomUUID()}`;
/** In every article id (and some titles) of this run, so that reruns never collide. */
const RUN = randomUUID().replace(/-/g, '').slice(0, 10);
const FIXTURES = join(SERVICE_ROOT, 'test', 'fixtures');

interface Issue {
  field: string;
  rule: string;
  message: string;
}
interface ImportResult {
  id: string;
  outcome: 'created' | 'updated' | 'unchanged';
  version: number;
  status: string;
  passages: number;
}
interface ImportResponse {
  imported: number;
  created: number;
  updated: number;
  unchanged: number;
  results: ImportResult[];
}
interface Passage {
  id: string;
  ordinal: number;
  heading: string;
  text: string;
  articleVersion: number;
}
interface Article {
  id: string;
  title: string;
  body: string;
  tags: string[];
  locale: string;
  productAreas: string[];
  status: string;
  version: number;
  source: string;
  passages: Passage[];
}
interface Version {
  articleId: string;
  version: number;
  title: string;
  body: string;
  status: string;
  source: string;
  changedBy: string;
}
interface Citation {
  articleId: string;
  passageId: string;
  articleVersion: number;
  title: string;
  snippet: string;
}
interface Proposal {
  kind: string;
  text: string;
  confidence: number;
  citations: Citation[];
  articlesTried: string[];
  generator: string;
}

interface Reply<T> {
  status: number;
  body: T;
}

describe('knowledge-base admin API over HTTP on the real PostgreSQL', () => {
  let rig: ServiceRig<INestApplication>;
  let db: KbDatabase['db'];

  /** Calls the API with the test's key (or `key`, or none when null); JSON unless `contentType` says otherwise. */
  async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; contentType?: string; key?: string | null; auth?: string } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    const key = options.key === undefined ? API_KEY : options.key;
    if (options.auth !== undefined) headers.authorization = options.auth;
    else if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const res = await fetch(`${rig.url}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T };
  }

  const importJson = (body: unknown, query = '') =>
    call<ImportResponse>('POST', `/v1/kb/import${query}`, { body });
  const getArticle = (id: string) => call<Article>('GET', `/v1/kb/articles/${id}`);
  const versionsOf = (id: string) =>
    call<{ id: string; versions: Version[] }>('GET', `/v1/kb/articles/${id}/versions`);
  const list = (query: string) =>
    call<{ total: number; articles: Omit<Article, 'passages'>[] }>(
      'GET',
      `/v1/kb/articles?${query}`,
    );
  const preview = (text: string) =>
    call<Proposal>('POST', '/v1/kb/preview', { body: { text, locale: 'en' } });
  const issuesOf = (reply: Reply<unknown>) => (reply.body as { issues: Issue[] }).issues;
  const fieldsOf = (reply: Reply<unknown>) => issuesOf(reply).map((i) => i.field);

  const article = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    title: `Article ${id}`,
    body: `The body of ${id}.\n\n## Details\n\nSome details about ${id}.`,
    ...extra,
  });

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      LOG_LEVEL: 'warn',
      AI_RESPONDER_API_KEYS: `${API_KEY},${SECOND_KEY}`,
      KB_SEED: 'true',
      LLM_PROVIDER: 'extractive',
      EMBEDDINGS_PROVIDER: 'none',
    });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'ai-responder-kb-api-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [],
      readyTimeoutMs: 90_000,
    });
    db = rig.app.get<KbDatabase>(DATABASE).db;
  }, 150_000);

  afterAll(async () => {
    // Every article of this run (their versions and passages go with them).
    await db?.delete(articles).where(like(articles.id, `%${RUN}%`));
    await rig?.close();
  });

  describe('authentication', () => {
    const id = `auth-${RUN}`;

    beforeAll(async () => {
      expect((await call('POST', '/v1/kb/articles', { body: article(id) })).status).toBe(201);
    });

    // Three entries each: Jest takes a test function with more parameters than the row for a done-callback test.
    const routes: [string, string, unknown][] = [
      ['GET', '/v1/kb/articles', undefined],
      ['GET', `/v1/kb/articles/${id}`, undefined],
      ['GET', `/v1/kb/articles/${id}/versions`, undefined],
      ['POST', '/v1/kb/import', [article(`auth-new-${RUN}`)]],
      ['POST', '/v1/kb/articles', article(`auth-new-${RUN}`)],
      ['PATCH', `/v1/kb/articles/${id}`, { title: 'Changed by an intruder' }],
      ['POST', `/v1/kb/articles/${id}/retire`, undefined],
      ['POST', '/v1/kb/preview', { text: 'How do I reset my password?' }],
    ];

    it.each(routes)('%s %s answers 401 without a key and with a wrong one', async (m, p, b) => {
      const attempts = [
        { key: null },
        { key: 'wrong-key' },
        { key: `${API_KEY}x` },
        { auth: API_KEY }, // the key without the Bearer scheme
        { auth: `Basic ${API_KEY}` },
      ];
      for (const attempt of attempts) {
        const reply = await call(m, p, { ...attempt, body: b });
        expect({ attempt, status: reply.status }).toEqual({ attempt, status: 401 });
      }
    });

    it('changes nothing on a rejected write', async () => {
      const wrong = { key: 'wrong-key' };
      await call('PATCH', `/v1/kb/articles/${id}`, { ...wrong, body: { title: 'Intruder' } });
      await call('POST', `/v1/kb/articles/${id}/retire`, wrong);
      await call('POST', '/v1/kb/import', { ...wrong, body: [article(id, { title: 'Intruder' })] });
      await call('POST', '/v1/kb/articles', { ...wrong, body: article(`auth-new-${RUN}`) });

      const current = await getArticle(id);
      expect(current.status).toBe(200);
      expect(current.body).toMatchObject({
        title: `Article ${id}`,
        status: 'published',
        version: 1,
      });
      expect((await versionsOf(id)).body.versions).toHaveLength(1);
      expect((await getArticle(`auth-new-${RUN}`)).status).toBe(404);
    });

    it('accepts every configured key and records which one made a change, not the key itself', async () => {
      const reply = await call('PATCH', `/v1/kb/articles/${id}`, {
        key: SECOND_KEY,
        body: { tags: ['edited'] },
      });
      expect(reply.status).toBe(200);
      const [latest, first] = (await versionsOf(id)).body.versions;
      const fingerprint = (k: string) =>
        `key:${createHash('sha256').update(k).digest('hex').slice(0, 8)}`;
      expect(latest).toMatchObject({ version: 2, changedBy: fingerprint(SECOND_KEY) });
      expect(first).toMatchObject({ version: 1, changedBy: fingerprint(API_KEY) });
      expect(JSON.stringify(latest)).not.toContain(SECOND_KEY);
    });
  });

  describe('import', () => {
    it('imports a JSON array, with ?status= and ?locale= as the defaults', async () => {
      const a = `json-array-a-${RUN}`;
      const b = `json-array-b-${RUN}`;
      const reply = await importJson(
        [
          article(a, { tags: ['one', 'two'], productAreas: ['billing'] }),
          article(b, { status: 'published', locale: 'fr' }),
        ],
        '?status=draft&locale=de',
      );
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ imported: 2, created: 2, updated: 0, unchanged: 0 });
      expect(reply.body.results).toEqual([
        expect.objectContaining({ id: a, outcome: 'created', version: 1, status: 'draft' }),
        expect.objectContaining({ id: b, outcome: 'created', version: 1, status: 'published' }),
      ]);
      expect((await getArticle(a)).body).toMatchObject({
        title: `Article ${a}`,
        tags: ['one', 'two'],
        productAreas: ['billing'],
        locale: 'de',
        status: 'draft',
        version: 1,
        source: 'json',
      });
      expect((await getArticle(b)).body).toMatchObject({ locale: 'fr', status: 'published' });
    });

    it('imports { articles } and { files } carrying Markdown, HTML and JSON files', async () => {
      const viaArticles = `json-articles-${RUN}`;
      const reply = await importJson({ articles: [article(viaArticles)] });
      expect(reply.status).toBe(200);
      expect(reply.body.results).toEqual([
        expect.objectContaining({ id: viaArticles, outcome: 'created', version: 1 }),
      ]);
      expect((await getArticle(viaArticles)).body).toMatchObject({
        source: 'json',
        status: 'published',
        locale: 'en',
      });

      const md = `files-md-${RUN}`;
      const html = `files-html-${RUN}`;
      const json = `files-json-${RUN}`;
      const files = await importJson({
        files: [
          {
            name: 'one.md',
            content: `---\nid: ${md}\ntags: a, b\n---\n# From a Markdown file\n\nMarkdown body.`,
          },
          {
            name: 'two.html',
            content: `<html lang="es"><body><article data-id="${html}" data-tags="x"><h1>From HTML</h1><p>HTML body.</p></article></body></html>`,
          },
          { name: 'three.json', content: JSON.stringify([article(json)]) },
        ],
      });
      expect(files.status).toBe(200);
      expect(files.body.results.map((r) => [r.id, r.outcome])).toEqual([
        [md, 'created'],
        [html, 'created'],
        [json, 'created'],
      ]);
      expect((await getArticle(md)).body).toMatchObject({
        title: 'From a Markdown file',
        body: 'Markdown body.',
        tags: ['a', 'b'],
        source: 'markdown',
      });
      expect((await getArticle(html)).body).toMatchObject({
        title: 'From HTML',
        body: 'HTML body.',
        tags: ['x'],
        locale: 'es',
        source: 'html',
      });
      expect((await getArticle(json)).body).toMatchObject({ source: 'json' });
    });

    it('imports the Markdown fixtures as text/markdown, with their front matter', async () => {
      const dir = join(FIXTURES, 'markdown');
      const read = async (file: string) =>
        (await readFile(join(dir, file), 'utf8')).replace(
          /^id: (.+)$/m,
          (_, id: string) => `id: ${id}-${RUN}`,
        );
      const reminders = await read('customer-invoice-reminders.md');
      const po = await read('purchase-orders-beta.md');

      const first = await call<ImportResponse>('POST', '/v1/kb/import', {
        body: reminders,
        contentType: 'text/markdown; charset=utf-8',
      });
      expect(first.status).toBe(200);
      const id = `customer-invoice-reminders-${RUN}`;
      expect(first.body.results).toEqual([
        expect.objectContaining({ id, outcome: 'created', version: 1, status: 'published' }),
      ]);
      const stored = (await getArticle(id)).body;
      expect(stored).toMatchObject({
        id,
        title: 'Automatic payment reminders for your customer invoices',
        tags: ['invoice_reminders', 'invoicing', 'accounts_receivable'],
        locale: 'en',
        productAreas: ['invoices'],
        status: 'published',
        version: 1,
        source: 'markdown',
      });
      expect(stored.body).toMatch(/^Ledgerly can chase unpaid invoices for you\./);
      expect(stored.body).not.toContain('productAreas:');
      expect(stored.passages.length).toBeGreaterThan(1);
      expect(stored.passages.length).toBe(first.body.results[0].passages);
      stored.passages.forEach((p, i) => {
        expect(p).toMatchObject({ id: `${id}#${i}`, ordinal: i, articleVersion: 1 });
        expect(p.text.length).toBeGreaterThan(0);
      });
      expect(stored.passages.map((p) => p.heading)).toEqual(
        expect.arrayContaining(['Turn on reminders', 'Good to know']),
      );
      expect(stored.passages.map((p) => p.text).join('\n')).toContain('7 days after the due date');

      const draft = await call<ImportResponse>('POST', '/v1/kb/import', {
        body: po,
        contentType: 'text/markdown',
      });
      expect(draft.status).toBe(200);
      expect((await getArticle(`purchase-orders-beta-${RUN}`)).body).toMatchObject({
        title: 'Purchase orders (beta)',
        tags: ['purchase_orders', 'beta', 'bills'],
        productAreas: ['bills'],
        status: 'draft',
        version: 1,
        source: 'markdown',
      });
    });

    it('imports the help-center HTML export as text/html, one article per <article>, without the page around it', async () => {
      const html = (await readFile(join(FIXTURES, 'help-center-export.html'), 'utf8')).replace(
        /data-id="([^"]+)"/g,
        (_, id: string) => `data-id="${id}-${RUN}"`,
      );
      const reply = await call<ImportResponse>('POST', '/v1/kb/import', {
        body: html,
        contentType: 'text/html',
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ imported: 3, created: 3 });
      const expected = [
        {
          id: `expense-categories-${RUN}`,
          title: 'Managing expense categories',
          tags: ['expense_categories', 'expenses', 'accounting'],
          productAreas: ['expenses'],
          heading: 'Add or edit a category',
          says: 'Settings → Expenses → Categories',
        },
        {
          id: `employee-reimbursements-${RUN}`,
          title: 'Reimbursing employees for out-of-pocket expenses',
          tags: ['reimbursements', 'expenses', 'payouts'],
          productAreas: ['expenses'],
          heading: 'When you are paid',
          says: 'every **Tuesday**',
        },
        {
          id: `vendor-bills-${RUN}`,
          title: 'Recording and paying vendor bills',
          tags: ['bills', 'accounts_payable', 'vendors'],
          productAreas: ['bills'],
          heading: 'Duplicate protection',
          says: 'duplicate bills are the most common cause of double payments',
        },
      ];
      expect(reply.body.results.map((r) => r.id)).toEqual(expected.map((e) => e.id));
      for (const e of expected) {
        const stored = (await getArticle(e.id)).body;
        expect(stored).toMatchObject({
          id: e.id,
          title: e.title,
          tags: e.tags,
          productAreas: e.productAreas,
          locale: 'en',
          status: 'published',
          version: 1,
          source: 'html',
        });
        expect(stored.body).toContain(e.says);
        expect(stored.body).toMatch(/^## /m); // headings kept as Markdown
        for (const chrome of [
          e.title, // the <h1> is the title, not part of the body
          'window.helpCenter',
          'Search the help center',
          'Popular articles',
          'All rights reserved',
          'Getting started',
        ])
          expect(stored.body).not.toContain(chrome);
        expect(stored.passages.length).toBeGreaterThan(0);
        expect(stored.passages.every((p) => p.articleVersion === 1)).toBe(true);
        expect(stored.passages.map((p) => p.heading)).toContain(e.heading);
      }
    });

    it('reports unchanged content as unchanged, and makes a new version of changed content', async () => {
      const id = `versioned-${RUN}`;
      const v1 = article(id, { tags: ['a'] });
      expect((await importJson([v1])).body.results[0]).toMatchObject({
        outcome: 'created',
        version: 1,
      });

      const again = await importJson([v1]);
      expect(again.body).toMatchObject({ imported: 1, created: 0, updated: 0, unchanged: 1 });
      expect(again.body.results[0]).toMatchObject({ id, outcome: 'unchanged', version: 1 });
      expect((await getArticle(id)).body.version).toBe(1);
      expect((await versionsOf(id)).body.versions).toHaveLength(1);

      const v2 = { ...v1, body: `${v1.body}\n\nA new paragraph.` };
      const changed = await importJson([v2]);
      expect(changed.body).toMatchObject({ updated: 1, unchanged: 0 });
      expect(changed.body.results[0]).toMatchObject({ id, outcome: 'updated', version: 2 });
      const stored = (await getArticle(id)).body;
      expect(stored).toMatchObject({ version: 2, body: v2.body });
      expect(stored.passages.every((p) => p.articleVersion === 2)).toBe(true);
      expect(stored.passages.map((p) => p.text).join('\n')).toContain('A new paragraph.');

      const versions = await versionsOf(id);
      expect(versions.status).toBe(200);
      expect(versions.body.id).toBe(id);
      expect(versions.body.versions.map((v) => [v.version, v.body, v.source])).toEqual([
        [2, v2.body, 'json'],
        [1, v1.body, 'json'],
      ]);

      // The same Markdown fixture again: unchanged.
      const md = (
        await readFile(join(FIXTURES, 'markdown', 'customer-invoice-reminders.md'), 'utf8')
      ).replace(/^id: (.+)$/m, (_, x: string) => `id: ${x}-${RUN}`);
      const mdId = `customer-invoice-reminders-${RUN}`;
      await call('POST', '/v1/kb/import', { body: md, contentType: 'text/markdown' });
      const mdAgain = await call<ImportResponse>('POST', '/v1/kb/import', {
        body: md,
        contentType: 'text/markdown',
      });
      expect(mdAgain.body.results[0]).toMatchObject({ id: mdId, outcome: 'unchanged' });
      expect((await versionsOf(mdId)).body.versions).toHaveLength(1);
    });
  });

  describe('rejected input', () => {
    it('names the field of an invalid article and stores nothing from the import', async () => {
      const good = `reject-good-${RUN}`;
      const reply = await importJson([
        article(good),
        { id: `reject-bad-${RUN}`, body: 'No title' },
      ]);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error: 'validation_failed' });
      expect(fieldsOf(reply)).toEqual(['articles[1].title']);
      expect((await getArticle(good)).status).toBe(404);
      expect((await getArticle(`reject-bad-${RUN}`)).status).toBe(404);
    });

    it('rejects an id that is not a slug', async () => {
      const good = `reject-slug-good-${RUN}`;
      const reply = await importJson([article(good), article(`Not A Slug ${RUN}`)]);
      expect(reply.status).toBe(400);
      expect(issuesOf(reply)).toEqual([
        expect.objectContaining({
          field: 'articles[1].id',
          message: expect.stringMatching(/slug/),
        }),
      ]);
      expect((await getArticle(good)).status).toBe(404);

      const created = await call('POST', '/v1/kb/articles', { body: article('-leading-dash') });
      expect(created.status).toBe(400);
      expect(fieldsOf(created)).toEqual(['id']);

      const read = await call('GET', '/v1/kb/articles/Not_A_Slug');
      expect(read.status).toBe(400);
      expect(fieldsOf(read)).toEqual(['id']);
    });

    it('rejects unknown fields', async () => {
      const id = `reject-unknown-${RUN}`;
      const reply = await importJson([article(id, { colour: 'red' })]);
      expect(reply.status).toBe(400);
      expect(issuesOf(reply)).toEqual([
        expect.objectContaining({ field: 'articles[0].colour', rule: 'unknown_field' }),
      ]);
      expect((await getArticle(id)).status).toBe(404);

      const single = await call('POST', '/v1/kb/articles', { body: article(id, { source: 'x' }) });
      expect(single.status).toBe(400);
      expect(issuesOf(single)).toEqual([
        expect.objectContaining({ field: 'source', rule: 'unknown_field' }),
      ]);
      expect((await getArticle(id)).status).toBe(404);
    });

    it('rejects the same id twice in one import and stores neither', async () => {
      const id = `reject-dup-${RUN}`;
      const other = `reject-dup-other-${RUN}`;
      const reply = await importJson([
        article(id),
        article(other),
        article(id, { title: 'Again' }),
      ]);
      expect(reply.status).toBe(400);
      expect(issuesOf(reply)).toEqual([
        expect.objectContaining({ field: 'articles[2].id', rule: 'unique' }),
      ]);
      expect((await getArticle(id)).status).toBe(404);
      expect((await getArticle(other)).status).toBe(404);
    });

    it('rejects Markdown whose front matter is not valid YAML', async () => {
      const id = `reject-yaml-${RUN}`;
      const reply = await call('POST', '/v1/kb/import', {
        body: `---\nid: ${id}\ntitle: [unclosed\ntags: a\n---\nBody.`,
        contentType: 'text/markdown',
      });
      expect(reply.status).toBe(400);
      expect(issuesOf(reply)).toEqual([
        expect.objectContaining({
          field: '(body)',
          rule: 'front_matter',
          message: expect.stringContaining('not valid YAML'),
        }),
      ]);
      expect((await getArticle(id)).status).toBe(404);

      // Inside a { files } import, the file is named.
      const inFiles = await importJson({
        files: [
          { name: 'ok.md', content: `---\nid: ${id}-ok\n---\n# Fine\n\nBody.` },
          { name: 'bad.md', content: `---\nid: ${id}\ntitle: [unclosed\n---\nBody.` },
        ],
      });
      expect(inFiles.status).toBe(400);
      expect(fieldsOf(inFiles)).toEqual(['files[1]']);
      expect((await getArticle(`${id}-ok`)).status).toBe(404);
    });

    it('rejects a bad ?status= or ?locale= on import, and bad list queries', async () => {
      const id = `reject-query-${RUN}`;
      const status = await importJson([article(id)], '?status=live');
      expect(status.status).toBe(400);
      expect(fieldsOf(status)).toEqual(['status']);
      const locale = await importJson([article(id)], '?locale=English');
      expect(locale.status).toBe(400);
      expect(fieldsOf(locale)).toEqual(['locale']);
      const unknown = await importJson([article(id)], '?mode=replace');
      expect(unknown.status).toBe(400);
      expect(issuesOf(unknown)).toEqual([
        expect.objectContaining({ field: 'mode', rule: 'unknown_field' }),
      ]);
      expect((await getArticle(id)).status).toBe(404);

      for (const [query, field] of [
        ['status=live', 'status'],
        ['limit=0', 'limit'],
        ['limit=201', 'limit'],
        ['offset=-1', 'offset'],
        ['sort=title', 'sort'],
      ]) {
        const reply = await list(query);
        expect({ query, status: reply.status, fields: fieldsOf(reply) }).toEqual({
          query,
          status: 400,
          fields: [field],
        });
      }
    });

    it('rejects a body that is none of the import shapes', async () => {
      for (const body of [{}, { articles: [] }, { articles: 'nope' }, { files: [] }]) {
        const reply = await importJson(body);
        expect(reply.status).toBe(400);
        expect(issuesOf(reply).length).toBeGreaterThan(0);
      }
      const emptyMarkdown = await call('POST', '/v1/kb/import', {
        body: '   ',
        contentType: 'text/markdown',
      });
      expect(emptyMarkdown.status).toBe(400);
      expect(fieldsOf(emptyMarkdown)).toEqual(['(body)']);
    });

    it('answers 415 naming Content-Type for a format it does not import', async () => {
      const id = `reject-type-${RUN}`;
      for (const contentType of ['text/plain', 'application/xml', 'text/csv']) {
        const reply = await call('POST', '/v1/kb/import', {
          body: contentType === 'application/xml' ? `<a id="${id}"/>` : `id,title\n${id},x`,
          contentType,
        });
        expect({ contentType, status: reply.status }).toEqual({ contentType, status: 415 });
        expect(reply.body).toMatchObject({ error: 'unsupported_media_type' });
        expect(fieldsOf(reply)).toEqual(['Content-Type']);
      }
      expect((await getArticle(id)).status).toBe(404);
    });
  });

  describe('one article at a time', () => {
    it('creates an article (201) and answers 409 when the id exists', async () => {
      const id = `single-${RUN}`;
      const created = await call<ImportResult>('POST', '/v1/kb/articles', {
        body: article(id, { tags: ['t'], status: 'draft' }),
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id, outcome: 'created', version: 1, status: 'draft' });
      expect((await getArticle(id)).body).toMatchObject({ source: 'api', tags: ['t'] });

      const again = await call('POST', '/v1/kb/articles', {
        body: article(id, { title: 'Another' }),
      });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: 'already_exists' });
      expect(issuesOf(again)).toEqual([expect.objectContaining({ field: 'id', rule: 'unique' })]);
      expect((await getArticle(id)).body).toMatchObject({ title: `Article ${id}`, version: 1 });
    });

    it('patches fields into a new version, guarded by expectedVersion', async () => {
      const id = `patch-${RUN}`;
      await call('POST', '/v1/kb/articles', { body: article(id, { tags: ['a'] }) });

      const patched = await call<ImportResult>('PATCH', `/v1/kb/articles/${id}`, {
        body: { title: 'A better title', tags: ['a', 'b'], expectedVersion: 1 },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ id, outcome: 'updated', version: 2 });
      expect((await getArticle(id)).body).toMatchObject({
        title: 'A better title',
        tags: ['a', 'b'],
        body: article(id).body, // untouched
        version: 2,
        source: 'api',
      });

      const stale = await call('PATCH', `/v1/kb/articles/${id}`, {
        body: { title: 'Lost update', expectedVersion: 1 },
      });
      expect(stale.status).toBe(409);
      expect(stale.body).toMatchObject({ error: 'version_conflict' });
      expect(issuesOf(stale)).toEqual([
        expect.objectContaining({
          field: 'expectedVersion',
          message: expect.stringContaining('2'),
        }),
      ]);
      expect((await getArticle(id)).body).toMatchObject({ title: 'A better title', version: 2 });

      const withoutGuard = await call<ImportResult>('PATCH', `/v1/kb/articles/${id}`, {
        body: { body: 'A new body.' },
      });
      expect(withoutGuard.body).toMatchObject({ outcome: 'updated', version: 3 });
      expect((await versionsOf(id)).body.versions.map((v) => v.version)).toEqual([3, 2, 1]);
    });

    it('answers 404 when patching an unknown id, and creates nothing', async () => {
      const unknown = await call('PATCH', `/v1/kb/articles/no-such-article-${RUN}`, {
        body: { title: 'x' },
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ error: 'not_found' });
      expect((await getArticle(`no-such-article-${RUN}`)).status).toBe(404);
    });

    it('changes only the fields a PATCH names', async () => {
      const id = `patch-partial-${RUN}`;
      await call('POST', '/v1/kb/articles', {
        body: article(id, {
          tags: ['keep-me'],
          productAreas: ['cards'],
          locale: 'fr',
          status: 'draft',
        }),
      });
      const patched = await call('PATCH', `/v1/kb/articles/${id}`, {
        body: { title: 'Only the title changes' },
      });
      expect(patched.status).toBe(200);
      expect((await getArticle(id)).body).toMatchObject({
        title: 'Only the title changes',
        body: article(id).body,
        tags: ['keep-me'],
        productAreas: ['cards'],
        locale: 'fr',
        status: 'draft',
        version: 2,
      });
    });

    it('rejects a patch that changes nothing (400) or names an invalid field', async () => {
      const id = `patch-invalid-${RUN}`;
      await call('POST', '/v1/kb/articles', { body: article(id, { tags: ['a'] }) });
      for (const body of [{}, { expectedVersion: 1 }]) {
        const empty = await call('PATCH', `/v1/kb/articles/${id}`, { body });
        expect({ body, status: empty.status }).toEqual({ body, status: 400 });
        expect(issuesOf(empty)[0].message).toMatch(/nothing to change/);
      }
      const badField = await call('PATCH', `/v1/kb/articles/${id}`, { body: { id: 'other' } });
      expect(badField.status).toBe(400);
      expect(fieldsOf(badField)).toContain('id');
      const badStatus = await call('PATCH', `/v1/kb/articles/${id}`, { body: { status: 'gone' } });
      expect(badStatus.status).toBe(400);
      expect(fieldsOf(badStatus)).toEqual(['status']);
      expect((await getArticle(id)).body).toMatchObject({ version: 1, tags: ['a'] });
      expect((await versionsOf(id)).body.versions).toHaveLength(1);
    });

    it('retires an article: it stays readable with its versions; 404 for an unknown id', async () => {
      const id = `retire-${RUN}`;
      await call('POST', '/v1/kb/articles', { body: article(id) });
      const retired = await call<ImportResult>('POST', `/v1/kb/articles/${id}/retire`);
      expect(retired.status).toBe(200);
      expect(retired.body).toMatchObject({ id, outcome: 'updated', version: 2, status: 'retired' });
      expect((await getArticle(id)).body).toMatchObject({ status: 'retired', version: 2 });
      expect((await versionsOf(id)).body.versions.map((v) => v.status)).toEqual([
        'retired',
        'published',
      ]);
      expect((await call('POST', `/v1/kb/articles/unknown-${RUN}/retire`)).status).toBe(404);
      expect((await versionsOf(`unknown-${RUN}`)).status).toBe(404);
    });
  });

  describe('listing', () => {
    const tag = `tag-${RUN}`;
    const area = `area-${RUN}`;
    const word = `quillon${RUN}`;
    const ids = ['a', 'b', 'c', 'd', 'e'].map((x) => `list-${RUN}-${x}`);

    beforeAll(async () => {
      const reply = await importJson([
        article(ids[0], { tags: [tag], productAreas: [area] }),
        article(ids[1], { tags: [tag, 'other'], status: 'draft' }),
        article(ids[2], { tags: [tag], locale: 'fr', title: `Le ${word} 100%` }),
        article(ids[3], { tags: [tag], productAreas: ['x', area] }),
        article(ids[4], { tags: [tag], status: 'retired' }),
      ]);
      expect(reply.status).toBe(200);
    });

    const idsOf = (reply: Reply<{ articles: { id: string }[] }>) =>
      reply.body.articles.map((a) => a.id);

    it('filters by tag, status, locale, product area and text, without bodies', async () => {
      const byTag = await list(`tag=${tag}`);
      expect(byTag.status).toBe(200);
      expect(byTag.body.total).toBe(5);
      expect(idsOf(byTag)).toEqual(ids);
      expect(byTag.body.articles[0]).not.toHaveProperty('body');
      expect(byTag.body.articles[0]).toMatchObject({
        id: ids[0],
        title: `Article ${ids[0]}`,
        tags: [tag],
        productAreas: [area],
        status: 'published',
        locale: 'en',
        version: 1,
      });

      expect(idsOf(await list(`tag=${tag}&status=draft`))).toEqual([ids[1]]);
      expect(idsOf(await list(`tag=${tag}&status=retired`))).toEqual([ids[4]]);
      expect(idsOf(await list(`tag=${tag}&status=published`))).toEqual([ids[0], ids[2], ids[3]]);
      expect(idsOf(await list(`tag=${tag}&locale=fr`))).toEqual([ids[2]]);
      expect(idsOf(await list(`productArea=${area}`))).toEqual([ids[0], ids[3]]);
      expect(idsOf(await list(`productArea=${area}&status=draft`))).toEqual([]);

      // q matches the title or the id, case-insensitively, with % and _ taken literally.
      expect(idsOf(await list(`q=${word.toUpperCase()}`))).toEqual([ids[2]]);
      expect(idsOf(await list(`q=list-${RUN}-d`))).toEqual([ids[3]]);
      expect(idsOf(await list(`tag=${tag}&q=${encodeURIComponent('100%')}`))).toEqual([ids[2]]);
      expect(idsOf(await list(`tag=${tag}&q=${encodeURIComponent('%')}`))).toEqual([ids[2]]);
      expect(idsOf(await list(`tag=${tag}&q=_`))).toEqual([]);
    });

    it('pages with limit and offset, always reporting the total', async () => {
      const pages = [
        await list(`tag=${tag}&limit=2`),
        await list(`tag=${tag}&limit=2&offset=2`),
        await list(`tag=${tag}&limit=2&offset=4`),
        await list(`tag=${tag}&limit=2&offset=6`),
      ];
      expect(pages.map((p) => p.body.total)).toEqual([5, 5, 5, 5]);
      expect(pages.map(idsOf)).toEqual([[ids[0], ids[1]], [ids[2], ids[3]], [ids[4]], []]);
    });
  });

  describe('retrieval follows the article lifecycle', () => {
    // Words no other article has, so that only this run's articles can answer.
    const feature = `florbex${RUN}`;
    const draftFeature = `glimtor${RUN}`;
    const id = `lifecycle-${RUN}`;
    const draftId = `lifecycle-draft-${RUN}`;
    const question = `How do I export a ${feature} snapshot to a spreadsheet?`;

    const cites = (p: Proposal, articleId: string) =>
      p.citations.some((c) => c.articleId === articleId);

    it('answers from a freshly imported article, cites its new version after an edit, and never after it is retired', async () => {
      expect(cites((await preview(question)).body, id)).toBe(false);

      const imported = await importJson([
        {
          id,
          title: `Exporting a ${feature} snapshot`,
          body: [
            `A ${feature} snapshot records your balances at one moment.`,
            '',
            '## Export a snapshot',
            '',
            `1. Open **Reports → ${feature} snapshots**.`,
            '2. Pick the snapshot and click **Export to spreadsheet**.',
            '3. The file downloads as XLSX within a minute.',
          ].join('\n'),
          tags: ['reports'],
          productAreas: ['reports'],
        },
      ]);
      expect(imported.status).toBe(200);

      const answered = await preview(question);
      expect(answered.status).toBe(200);
      expect(answered.body.kind).toBe('answer');
      expect(answered.body.articlesTried[0]).toBe(id);
      expect(answered.body.citations[0]).toMatchObject({
        articleId: id,
        articleVersion: 1,
        passageId: expect.stringMatching(new RegExp(`^${id}#\\d+$`)),
      });
      expect(answered.body.text).toContain('Export to spreadsheet');
      expect(answered.body.confidence).toBeGreaterThan(0);
      const { passages } = (await getArticle(id)).body;
      expect(passages.map((p) => p.id)).toContain(answered.body.citations[0].passageId);

      const edited = await call('PATCH', `/v1/kb/articles/${id}`, {
        body: {
          body: [
            `A ${feature} snapshot records your balances at one moment.`,
            '',
            '## Export a snapshot',
            '',
            `1. Open **Reports → ${feature} snapshots**.`,
            '2. Pick the snapshot, click **Export to spreadsheet** and choose CSV or XLSX.',
          ].join('\n'),
        },
      });
      expect(edited.status).toBe(200);
      const afterEdit = (await preview(question)).body;
      expect(afterEdit.kind).toBe('answer');
      expect(afterEdit.citations[0]).toMatchObject({ articleId: id, articleVersion: 2 });
      expect(afterEdit.text).toContain('choose CSV or XLSX');
      expect(afterEdit.text).not.toContain('within a minute');

      expect((await call('POST', `/v1/kb/articles/${id}/retire`)).status).toBe(200);
      const afterRetire = (await preview(question)).body;
      expect(cites(afterRetire, id)).toBe(false);
      expect(afterRetire.articlesTried).not.toContain(id);
      expect(afterRetire.text).not.toContain(feature);
    });

    it('never cites a draft article', async () => {
      const draftQuestion = `How do I turn on ${draftFeature} mode for my workspace?`;
      const imported = await importJson([
        {
          id: draftId,
          title: `Turning on ${draftFeature} mode`,
          body: `To turn on ${draftFeature} mode, open **Settings → Workspace → ${draftFeature}** and switch it on.`,
          status: 'draft',
        },
      ]);
      expect(imported.status).toBe(200);
      const proposal = (await preview(draftQuestion)).body;
      expect(cites(proposal, draftId)).toBe(false);
      expect(proposal.articlesTried).not.toContain(draftId);
      expect(proposal.text).not.toContain(draftFeature);

      // Once published, the same question is answered from it.
      await call('PATCH', `/v1/kb/articles/${draftId}`, { body: { status: 'published' } });
      const published = (await preview(draftQuestion)).body;
      expect(published.citations[0]).toMatchObject({ articleId: draftId, articleVersion: 2 });
    });

    it('answers the question beside a declined person, and hands over a plain request', async () => {
      const declined = (
        await preview("I don't want to speak to an agent, just tell me how to export my data")
      ).body;
      expect(declined.intent).not.toBe('human_request');
      expect(declined.text).not.toMatch(/member of our team/);
      expect(declined.articlesTried.length).toBeGreaterThan(0);

      const asked = (await preview('Could you put me through to somebody from your team?')).body;
      expect(asked).toMatchObject({ kind: 'no_answer', intent: 'human_request' });
    });

    it('rejects an empty or unknown-field preview', async () => {
      const empty = await call('POST', '/v1/kb/preview', { body: { text: '   ' } });
      expect(empty.status).toBe(400);
      expect(fieldsOf(empty)).toEqual(['text']);
      const unknown = await call('POST', '/v1/kb/preview', {
        body: { text: 'Hi', conversationId: 'x' },
      });
      expect(unknown.status).toBe(400);
      expect(issuesOf(unknown)[0]).toMatchObject({ rule: 'unknown_field' });
    });
  });

  describe('the pages an article applies to', () => {
    // A word no other article has, so that only this run's articles can answer.
    const feature = `quenzle${RUN}`;
    const onBilling = `pages-billing-${RUN}`;
    const onSecurity = `pages-security-${RUN}`;
    const question = `How do I change the ${feature} limit?`;
    const previewOn = (pageUrl: string) =>
      call<Proposal>('POST', '/v1/kb/preview', { body: { text: question, locale: 'en', pageUrl } });
    const body = (path: string) =>
      [
        `To change the ${feature} limit:`,
        '',
        `1. Open **${path}**.`,
        `2. Enter the new ${feature} limit and click **Save**.`,
      ].join('\n');

    it('imports the pages with the article (Markdown front matter and help-center HTML), keeps them with every version, and prefers the article for the customer’s page', async () => {
      const markdown = [
        '---',
        `id: ${onBilling}`,
        `title: Changing the ${feature} limit`,
        'pages:',
        '  - /billing/*',
        '---',
        body('Billing → Spending limits'),
      ].join('\n');
      const html = `<html><body><article data-id="${onSecurity}" data-pages="https://app.example.com/settings/security, /settings/security/*"><h1>Changing the ${feature} limit</h1><div class="article-body"><p>To change the ${feature} limit:</p><ol><li>Open <strong>Settings → Security → Limits</strong>.</li><li>Enter the new ${feature} limit and click <strong>Save</strong>.</li></ol></div></article></body></html>`;
      expect(
        (await call('POST', '/v1/kb/import', { body: markdown, contentType: 'text/markdown' }))
          .status,
      ).toBe(200);
      expect(
        (await call('POST', '/v1/kb/import', { body: html, contentType: 'text/html' })).status,
      ).toBe(200);
      expect((await getArticle(onBilling)).body).toMatchObject({ pages: ['/billing/*'] });
      expect((await getArticle(onSecurity)).body).toMatchObject({
        pages: ['https://app.example.com/settings/security', '/settings/security/*'],
      });

      const cited = async (pageUrl: string) => {
        const reply = await previewOn(pageUrl);
        expect(reply.status).toBe(200);
        return reply.body;
      };
      const billing = await cited('/billing/limits');
      expect(billing.articlesTried.slice(0, 2)).toEqual([onBilling, onSecurity]);
      expect(billing.citations[0]?.articleId).toBe(onBilling);
      expect(billing.text).toContain('Billing → Spending limits');
      expect(billing.text).not.toContain('Settings → Security');
      const security = await cited('https://app.example.com/settings/security');
      expect(security.articlesTried.slice(0, 2)).toEqual([onSecurity, onBilling]);
      expect(security.citations[0]?.articleId).toBe(onSecurity);
      expect(security.text).toContain('Settings → Security → Limits');
      expect(security.text).not.toContain('Billing →');

      // A change of pages is a new version; every version keeps its own.
      const patched = await call('PATCH', `/v1/kb/articles/${onBilling}`, {
        body: { pages: ['/billing/*', '/approvals/*'] },
      });
      expect(patched.status).toBe(200);
      const versions = (await versionsOf(onBilling)).body.versions;
      expect(versions.map((v) => [v.version, (v as unknown as { pages: string[] }).pages])).toEqual(
        [
          [2, ['/billing/*', '/approvals/*']],
          [1, ['/billing/*']],
        ],
      );
      expect((await cited('/approvals/pending')).citations[0]?.articleId).toBe(onBilling);
    });

    it('lets a clearly better article for another page win', async () => {
      // Only the security article says how to reset the limit: on the billing page it still answers.
      const resetQuestion = `How do I reset the ${feature} limit to its default after an audit lockout?`;
      const reset = `pages-reset-${RUN}`;
      expect(
        (
          await importJson([
            {
              id: reset,
              title: `Resetting the ${feature} limit after an audit lockout`,
              body: `After an audit lockout, reset the ${feature} limit to its default: open **Settings → Security → Audit lockout** and click **Reset ${feature} limit to default**.`,
              pages: ['/settings/security/*'],
            },
          ])
        ).status,
      ).toBe(200);
      const reply = await call<Proposal>('POST', '/v1/kb/preview', {
        body: { text: resetQuestion, pageUrl: '/billing/limits' },
      });
      expect(reply.body.citations[0]?.articleId).toBe(reset);
    });

    it('answers 400 naming the field for a page that is neither a path nor an http(s) URL, and stores nothing', async () => {
      const id = `pages-bad-${RUN}`;
      const imported = await importJson([article(id, { pages: ['/ok/*', 'billing'] })]);
      expect(imported.status).toBe(400);
      expect(issuesOf(imported)).toEqual([
        expect.objectContaining({
          field: 'articles[0].pages[1]',
          message: expect.stringContaining('must be a path starting with "/"'),
        }),
      ]);
      expect((await getArticle(id)).status).toBe(404);
      const created = await call('POST', '/v1/kb/articles', {
        body: article(id, { pages: ['javascript:alert(1)'] }),
      });
      expect([created.status, fieldsOf(created)]).toEqual([400, ['pages[0]']]);
      const badPreview = await call('POST', '/v1/kb/preview', {
        body: { text: question, pageUrl: 'billing/limits' },
      });
      expect([badPreview.status, fieldsOf(badPreview)]).toEqual([400, ['pageUrl']]);
      const patch = await call('PATCH', `/v1/kb/articles/${onBilling}`, {
        body: { pages: ['ftp://files.example.com/x'] },
      });
      expect([patch.status, fieldsOf(patch)]).toEqual([400, ['pages[0]']]);
    });
  });
});
