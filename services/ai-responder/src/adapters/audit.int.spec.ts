import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { like } from 'drizzle-orm';
import { Topics } from '@support/bus';
import { create, KnowledgeDecision, KnowledgeReviewSchema } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { startServiceRig, waitUntil, type ServiceRig, type WatchedRecord } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DATABASE, type KbDatabase } from './db/database';
import { articles } from './db/schema';

jest.setTimeout(60_000);

const API_KEY = `kb-audit-itest-${randomUUID()}`;
const OTHER_KEY = `kb-audit-itest-other-${randomUUID()}`;
/** In every article id of this run, so that reruns never collide. */
const RUN = randomUUID().replace(/-/g, '').slice(0, 10);
const fingerprint = (key: string) =>
  `api-key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
/** A body no audit record may carry (records keep titles and versions, never bodies). */
const SECRET_BODY = `Only the article holds this sentence ${RUN}.`;

type AuditRecordSeen = WatchedRecord<typeof Topics.audit.schema>;

const summary = (r: AuditRecordSeen) => ({
  service: r.value.service,
  actor: r.value.actor,
  action: r.value.action,
  resourceType: r.value.resourceType,
  resourceId: r.value.resourceId,
  detail: JSON.parse(r.value.detailJson) as Record<string, unknown>,
});

describe('the AI responder records its knowledge-base admin changes on admin.audit (real Kafka, PostgreSQL)', () => {
  let rig: ServiceRig<INestApplication>;
  let n = 0;

  async function call(
    method: string,
    path: string,
    body?: unknown,
    key: string | null = API_KEY,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }
  const status = async (method: string, path: string, body?: unknown, key?: string | null) =>
    (await call(method, path, body, key)).status;

  /**
   * Waits for `count` records of `action` on the resource, then answers every record of the
   * resource seen so far (everything written before them has been read by then: a record of a
   * rejected request, had there been one, would be among them).
   */
  async function recordsOf(resourceId: string, lastAction: string, count = 1) {
    await rig.watcher.waitFor(
      Topics.audit,
      (r) => r.value.resourceId === resourceId && r.value.action === lastAction,
      { count },
    );
    return rig.watcher.records(Topics.audit).filter((r) => r.value.resourceId === resourceId);
  }

  function expectNoSecrets(records: AuditRecordSeen[]) {
    for (const r of records) {
      const bytes = r.raw.toString('utf8');
      expect(bytes).not.toContain(API_KEY);
      expect(bytes).not.toContain(OTHER_KEY);
      expect(bytes).not.toContain(SECRET_BODY);
    }
  }

  /** A pending suggestion, as an agent's proposal on the log makes one. */
  async function pendingSuggestion(): Promise<string> {
    const draftId = randomUUID();
    await rig.append(
      conversationEvent(randomUUID(), `audit-${RUN}-${n++}`, 'articleProposed', {
        handoffId: `ho-audit-${RUN}`,
        agentId: 'ag-ada',
        draftId,
        title: `Exporting invoices ${RUN} ${n}`,
        body: `${SECRET_BODY}\n\nOpen Billing, then Export.`,
        tags: ['billing'],
      }),
    );
    await waitUntil('the proposal to be a pending suggestion', async () => {
      const list = await call('GET', '/v1/kb/suggestions?status=pending&limit=200');
      return (list.body.suggestions as { suggestionId: string }[]).some(
        (s) => s.suggestionId === draftId,
      );
    });
    return draftId;
  }

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      LOG_LEVEL: 'warn',
      AI_RESPONDER_API_KEYS: `${API_KEY},${OTHER_KEY}`,
      KB_SEED: 'false',
      LLM_PROVIDER: 'extractive',
      EMBEDDINGS_PROVIDER: 'none',
    });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'ai-responder-audit-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.audit, Topics.knowledgeEvents],
      readyTimeoutMs: 90_000,
    });
  }, 150_000);

  afterAll(async () => {
    const db = rig?.app.get<KbDatabase>(DATABASE).db;
    await db?.delete(articles).where(like(articles.id, `%${RUN}%`));
    await rig?.close();
  });

  it('records articles created, updated and retired with their title and version, and nothing for rejected or repeated requests', async () => {
    const id = `audit-article-${RUN}`;
    const article = { id, title: 'Exporting data', body: SECRET_BODY, tags: ['data'] };

    expect(await status('POST', '/v1/kb/articles', article, null)).toBe(401);
    expect(await status('POST', '/v1/kb/articles', { ...article, status: 'gone' })).toBe(400);
    expect(await status('POST', '/v1/kb/articles', article)).toBe(201);
    expect(await status('POST', '/v1/kb/articles', article)).toBe(409);
    expect(await status('PATCH', `/v1/kb/articles/${id}`, { title: '' })).toBe(400);
    expect(await status('PATCH', `/v1/kb/articles/${id}`, { title: 'X', expectedVersion: 7 })).toBe(
      409,
    );
    expect(
      await status(
        'PATCH',
        `/v1/kb/articles/${id}`,
        { title: 'Exporting your data', body: `${SECRET_BODY} Now as CSV.`, tags: ['data'] },
        OTHER_KEY,
      ),
    ).toBe(200);
    // The same patch again makes no new version: no record
    expect(
      await status('PATCH', `/v1/kb/articles/${id}`, { title: 'Exporting your data' }, OTHER_KEY),
    ).toBe(200);
    expect(await status('POST', `/v1/kb/articles/${id}/retire`, undefined, null)).toBe(401);
    expect(await status('POST', `/v1/kb/articles/${id}/retire`)).toBe(200);
    expect(await status('POST', `/v1/kb/articles/${id}/retire`)).toBe(200);
    expect(await status('POST', `/v1/kb/articles/no-such-${RUN}/retire`)).toBe(404);

    const records = await recordsOf(id, 'article.retired');
    const by = (key: string) => ({
      service: 'ai-responder',
      actor: fingerprint(key),
      resourceType: 'article',
      resourceId: id,
    });
    expect(records.map(summary)).toEqual([
      {
        ...by(API_KEY),
        action: 'article.created',
        detail: { title: 'Exporting data', version: 1, status: 'published' },
      },
      {
        ...by(OTHER_KEY),
        action: 'article.updated',
        detail: {
          changed: ['title', 'body'],
          title: 'Exporting your data',
          version: 2,
          status: 'published',
        },
      },
      {
        ...by(API_KEY),
        action: 'article.retired',
        detail: {
          changed: ['status'],
          title: 'Exporting your data',
          version: 3,
          status: 'retired',
        },
      },
    ]);
    expect(records.every((r) => r.key === `article:${id}`)).toBe(true);
    expect(
      rig.watcher.records(Topics.audit).filter((r) => r.value.resourceId === `no-such-${RUN}`),
    ).toEqual([]);
    expectNoSecrets(records);
  });

  it('records each article an import created or changed, not the unchanged ones nor a rejected import', async () => {
    const a = `audit-import-a-${RUN}`;
    const b = `audit-import-b-${RUN}`;
    const first = [
      { id: a, title: 'Import A', body: SECRET_BODY },
      { id: b, title: 'Import B', body: 'The body of B.', status: 'draft' },
    ];
    // All or nothing: one bad article, nothing stored, nothing recorded
    expect(await status('POST', '/v1/kb/import', [...first, { id: `bad-${RUN}`, title: '' }])).toBe(
      400,
    );
    expect(await status('POST', '/v1/kb/import', first)).toBe(200);
    const second = [first[0], { ...first[1], title: 'Import B, revised' }];
    expect(await status('POST', '/v1/kb/import', second, OTHER_KEY)).toBe(200);
    // Then something else on A, to know every record of A before it has been read
    expect(await status('POST', `/v1/kb/articles/${a}/retire`)).toBe(200);

    const recordsOfA = await recordsOf(a, 'article.retired');
    const recordsOfB = await recordsOf(b, 'article.imported', 2);
    expect(recordsOfA.map(summary).map((r) => [r.actor, r.action, r.detail])).toEqual([
      [
        fingerprint(API_KEY),
        'article.imported',
        { outcome: 'created', title: 'Import A', version: 1, status: 'published' },
      ],
      [
        fingerprint(API_KEY),
        'article.retired',
        { changed: ['status'], title: 'Import A', version: 2, status: 'retired' },
      ],
    ]);
    expect(recordsOfB.map(summary).map((r) => [r.actor, r.action, r.detail])).toEqual([
      [
        fingerprint(API_KEY),
        'article.imported',
        { outcome: 'created', title: 'Import B', version: 1, status: 'draft' },
      ],
      [
        fingerprint(OTHER_KEY),
        'article.imported',
        { outcome: 'updated', title: 'Import B, revised', version: 2, status: 'draft' },
      ],
    ]);
    expect(
      rig.watcher.records(Topics.audit).filter((r) => r.value.resourceId === `bad-${RUN}`),
    ).toEqual([]);
    expectNoSecrets([...recordsOfA, ...recordsOfB]);
  });

  it('records suggestions approved and rejected over HTTP, not a second review nor a review from a desk', async () => {
    const approved = await pendingSuggestion();
    const rejected = await pendingSuggestion();
    const byDesk = await pendingSuggestion();

    expect(await status('POST', `/v1/kb/suggestions/${approved}/approve`, { tags: 'x' })).toBe(400);
    const approval = await call('POST', `/v1/kb/suggestions/${approved}/approve`, {
      title: `Exporting invoices, reviewed ${RUN}`,
    });
    expect(approval.status).toBe(200);
    const articleId = (approval.body.article as { id: string }).id;
    expect(await status('POST', `/v1/kb/suggestions/${approved}/reject`)).toBe(409);
    expect(
      await status(
        'POST',
        `/v1/kb/suggestions/${rejected}/reject`,
        { reason: 'Duplicate' },
        OTHER_KEY,
      ),
    ).toBe(200);
    expect(await status('POST', `/v1/kb/suggestions/${rejected}/approve`)).toBe(409);
    expect(await status('POST', `/v1/kb/suggestions/${randomUUID()}/approve`)).toBe(404);

    // A desk's review on knowledge.reviews is an agent's action, not an admin change
    await rig.bus.publish({
      topic: Topics.knowledgeReviews,
      key: byDesk,
      value: create(KnowledgeReviewSchema, {
        reviewId: randomUUID(),
        suggestionId: byDesk,
        decision: KnowledgeDecision.REJECT,
        reason: 'not now',
        reviewerId: 'ag-lead',
      }),
    });
    await rig.watcher.waitFor(
      Topics.knowledgeEvents,
      (r) =>
        r.value.payload.case === 'suggestionRejected' &&
        r.value.payload.value.suggestionId === byDesk,
    );

    const approvedRecords = await recordsOf(approved, 'suggestion.approved');
    const rejectedRecords = await recordsOf(rejected, 'suggestion.rejected');
    expect(approvedRecords.map(summary)).toEqual([
      {
        service: 'ai-responder',
        actor: fingerprint(API_KEY),
        action: 'suggestion.approved',
        resourceType: 'suggestion',
        resourceId: approved,
        detail: { articleId, articleVersion: 1, edited: ['title'] },
      },
    ]);
    expect(rejectedRecords.map(summary)).toEqual([
      {
        service: 'ai-responder',
        actor: fingerprint(OTHER_KEY),
        action: 'suggestion.rejected',
        resourceType: 'suggestion',
        resourceId: rejected,
        detail: { reason: 'Duplicate' },
      },
    ]);
    expect(rig.watcher.records(Topics.audit).filter((r) => r.value.resourceId === byDesk)).toEqual(
      [],
    );
    expectNoSecrets([...approvedRecords, ...rejectedRecords]);
  });
});
