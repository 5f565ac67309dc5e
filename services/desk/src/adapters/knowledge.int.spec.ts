import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Topics } from '@support/bus';
import { create, KnowledgeDecision, KnowledgeEventSchema } from '@support/contracts';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import { startServiceRig, waitUntil, type ServiceRig } from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { SESSION_COOKIE } from './session';

jest.setTimeout(60_000);

const run = randomUUID().slice(0, 8);
const API_KEY = `desk-kb-itest-${randomUUID()}`;
const SESSION_SECRET = `kb-itest-secret-${randomUUID()}`;
const ada = {
  login: `kb-ada-${run}@desk.example`,
  password: `ada-password-${run}`,
  agentId: `kb-ada-${run}`,
  name: 'Ada Lovelace',
  team: 'Billing',
};

interface Suggestion {
  suggestionId: string;
  title: string;
  status: string;
  occurrences: number;
  sources: { conversationId: string; question: string }[];
  articleId: string | null;
  reviewerId: string | null;
}

/** The desk's approval queue of knowledge suggestions, on the real Kafka and PostgreSQL. */
describe('desk: knowledge suggestions from knowledge.events, reviewed onto knowledge.reviews', () => {
  let rig: ServiceRig<INestApplication>;
  let cookie = '';
  /** The session's CSRF token, sent with the cookie on requests that change something. */
  let csrf = '';

  const http = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: { body?: unknown; cookie?: string; key?: string } = {},
  ): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(opts.cookie ? { cookie: opts.cookie } : {}),
        ...(opts.cookie && method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
        ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      DESK_API_KEYS: API_KEY,
      DESK_SESSION_SECRET: SESSION_SECRET,
      DESK_DEMO_PASSWORD: '',
      LOG_LEVEL: 'warn',
    });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'desk-kb-itest',
      brokers: config.KAFKA_BROKERS,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.knowledgeReviews],
    });
    const { login, ...rest } = ada;
    expect((await http('PUT', `/v1/logins/${login}`, { key: API_KEY, body: rest })).status).toBe(
      200,
    );
    const res = await fetch(`${rig.url}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: ada.login, password: ada.password }),
    });
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    csrf = ((await res.json()) as { csrfToken: string }).csrfToken;
  }, 90_000);

  afterAll(async () => {
    await http('DELETE', `/v1/logins/${ada.login}`, { key: API_KEY }).catch(() => undefined);
    await rig?.close();
  });

  const publish = (
    key: string,
    payload: Parameters<typeof create<typeof KnowledgeEventSchema>>[1],
  ) =>
    rig.bus.publish({
      topic: Topics.knowledgeEvents,
      key,
      value: create(KnowledgeEventSchema, {
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        ...payload,
      }),
    });
  const source = (question: string) => ({
    conversationId: randomUUID(),
    handoffId: randomUUID(),
    agentId: 'ag-1',
    question,
  });
  const list = async (status = 'pending') =>
    (
      await http<{ suggestions: Suggestion[] }>(
        'GET',
        `/v1/desk/knowledge/suggestions?status=${status}`,
        { cookie },
      )
    ).body.suggestions;
  const find = async (id: string, status = 'pending') =>
    (await list(status)).find((s) => s.suggestionId === id);

  it('keeps created and merged suggestions (idempotently), lists them newest first, and publishes an approval', async () => {
    const id = `sg-${run}-1`;
    const created = {
      payload: {
        case: 'suggestionCreated' as const,
        value: {
          suggestionId: id,
          title: `Recurring supplier payments ${run}?`,
          body: 'Use Schedule.',
          tags: ['payments'],
          topic: 'payments',
          source: source(`Recurring supplier payments ${run}?`),
          expiresAt: new Date(Date.now() + 14 * 86_400_000).toISOString(),
          origin: 'resolution',
        },
      },
    };
    await publish(id, created);
    await publish(id, created);
    const merged = source('Can I schedule supplier payments?');
    const merge = {
      payload: {
        case: 'suggestionMerged' as const,
        value: { suggestionId: id, source: merged, similarity: 0.8, occurrences: 2, expiresAt: '' },
      },
    };
    await publish(id, merge);
    await publish(id, merge);
    await waitUntil('the merge to be kept', async () => (await find(id))?.occurrences === 2);
    const kept = (await find(id))!;
    expect(kept.sources.map((s) => s.question)).toEqual([
      `Recurring supplier payments ${run}?`,
      'Can I schedule supplier payments?',
    ]);
    expect((await list()).filter((s) => s.suggestionId === id)).toHaveLength(1);

    // Bad bodies name the field; unknown ids are 404; no session is 401
    const bad = await http<{ issues: { field: string }[] }>(
      'POST',
      `/v1/desk/knowledge/suggestions/${id}/approve`,
      { cookie, body: { title: '', colour: 'red' } },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i) => i.field).sort()).toEqual(['colour', 'title']);
    expect(
      (
        await http('POST', `/v1/desk/knowledge/suggestions/nope-${run}/approve`, {
          cookie,
          body: {},
        })
      ).status,
    ).toBe(404);
    expect((await http('GET', '/v1/desk/knowledge/suggestions')).status).toBe(401);

    // Approve with edits: a review on knowledge.reviews, by the signed-in agent
    const approved = await http<{ reviewId: string }>(
      'POST',
      `/v1/desk/knowledge/suggestions/${id}/approve`,
      { cookie, body: { title: 'Recurring supplier payments', tags: ['payments'] } },
    );
    expect(approved.status).toBe(202);
    const [review] = await rig.watcher.waitFor(
      Topics.knowledgeReviews,
      (r) => r.value.reviewId === approved.body.reviewId,
    );
    expect(review.key).toBe(id);
    expect(review.value).toMatchObject({
      suggestionId: id,
      decision: KnowledgeDecision.APPROVE,
      title: 'Recurring supplier payments',
      body: '',
      tags: ['payments'],
      reviewerId: ada.agentId,
    });

    // The responder's answer comes back: approved, then no longer reviewable (409)
    await publish(id, {
      payload: {
        case: 'suggestionApproved',
        value: {
          suggestionId: id,
          articleId: 'recurring-supplier-payments',
          reviewerId: ada.agentId,
        },
      },
    });
    await waitUntil('the approval to be kept', async () => !!(await find(id, 'approved')));
    expect(await find(id, 'approved')).toMatchObject({
      articleId: 'recurring-supplier-payments',
      reviewerId: ada.agentId,
    });
    // a late expiry changes nothing
    await publish(id, { payload: { case: 'suggestionExpired', value: { suggestionId: id } } });
    const again = await http('POST', `/v1/desk/knowledge/suggestions/${id}/reject`, {
      cookie,
      body: {},
    });
    expect(again.status).toBe(409);
    expect(await find(id, 'approved')).toBeDefined();
  });

  it('publishes a rejection with its reason, and shows expired suggestions under their status', async () => {
    const id = `sg-${run}-2`;
    const gone = `sg-${run}-3`;
    for (const s of [id, gone])
      await publish(s, {
        payload: {
          case: 'suggestionCreated',
          value: { suggestionId: s, title: `Q ${s}`, body: 'A', source: source(`Q ${s}`) },
        },
      });
    await publish(gone, { payload: { case: 'suggestionExpired', value: { suggestionId: gone } } });
    await waitUntil('the expiry to be kept', async () => !!(await find(gone, 'expired')));
    await waitUntil('the suggestion to be listed', async () => !!(await find(id)));
    const rejected = await http<{ reviewId: string }>(
      'POST',
      `/v1/desk/knowledge/suggestions/${id}/reject`,
      { cookie, body: { reason: 'Too specific' } },
    );
    expect(rejected.status).toBe(202);
    const [review] = await rig.watcher.waitFor(
      Topics.knowledgeReviews,
      (r) => r.value.reviewId === rejected.body.reviewId,
    );
    expect(review.value).toMatchObject({
      decision: KnowledgeDecision.REJECT,
      reason: 'Too specific',
      reviewerId: ada.agentId,
    });
  });
});
