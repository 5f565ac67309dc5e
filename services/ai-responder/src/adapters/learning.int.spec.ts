import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { Topics } from '@support/bus';
import { create, KnowledgeDecision, KnowledgeReviewSchema, Resolution } from '@support/contracts';
import { conversationEvent } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  customerMessageReceived,
  startServiceRig,
  type ServiceRig,
  type WatchedRecord,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';
import { DATABASE, type KbDatabase } from './db/database';
import { SuggestionsService } from './suggestions.service';

jest.setTimeout(90_000);

const API_KEY = `learning-itest-${randomUUID()}`;
const RUN = randomUUID().replace(/-/g, '').slice(0, 8);

type KnowledgeRecord = WatchedRecord<typeof Topics.knowledgeEvents.schema>;
type EventRecord = WatchedRecord<typeof Topics.events.schema>;

/**
 * The learning loop on the real Kafka, Redis and PostgreSQL: people's
 * resolutions become suggestions (near-duplicates merged, resolutions an
 * article already covered reported as matched), reviews from a desk publish
 * or close them, and the sweep expires what nobody reviewed.
 */
describe('ai-responder learning loop, on the real Kafka, Redis and PostgreSQL', () => {
  let rig: ServiceRig<INestApplication>;
  let n = 0;

  beforeAll(async () => {
    const config = loadConfig(configSchema, {
      ...process.env,
      LOG_LEVEL: 'warn',
      AI_RESPONDER_API_KEYS: API_KEY,
      LLM_PROVIDER: 'extractive',
      EMBEDDINGS_PROVIDER: 'none',
    });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'ai-responder-learning-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.events, Topics.knowledgeEvents],
      readyTimeoutMs: 90_000,
    });
    // Suggestions earlier runs left pending would take this run's resolutions as their duplicates.
    await rig.app
      .get<KbDatabase>(DATABASE)
      .db.execute(
        sql`update ai_responder.kb_suggestions set status = 'expired' where status = 'pending'`,
      );
  }, 150_000);

  afterAll(async () => {
    await rig?.close();
  });

  const append = <K extends Parameters<typeof conversationEvent>[2]>(
    conversationId: string,
    kind: K,
    value: Parameters<typeof conversationEvent<K>>[3],
  ) => rig.append(conversationEvent(conversationId, `learn-${RUN}-${n++}`, kind, value));

  /** A customer's question handed to a person, who answers and resolves it. */
  async function resolvedByPerson(question: string, replies: string[], note: string) {
    const conversationId = randomUUID();
    const handoffId = `ho-${RUN}-${n}`;
    const messageId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId, text: question }));
    await append(conversationId, 'handoffRequested', { handoffId, messageId });
    await append(conversationId, 'agentAssigned', {
      handoffId,
      agentId: 'ag-ada',
      agentName: 'Ada',
      team: 'Billing',
    });
    for (const text of replies)
      await append(conversationId, 'agentReplied', {
        handoffId,
        agentId: 'ag-ada',
        agentName: 'Ada',
        messageId: randomUUID(),
        text,
      });
    await append(conversationId, 'conversationResolved', {
      resolution: Resolution.HUMAN,
      resolvedBy: 'ag-ada',
      note,
    });
    return { conversationId, handoffId };
  }

  const forConversation = (conversationId: string) => (r: KnowledgeRecord) => {
    const p = r.value.payload;
    return (
      (p.case === 'suggestionCreated' && p.value.source?.conversationId === conversationId) ||
      (p.case === 'suggestionMerged' && p.value.source?.conversationId === conversationId) ||
      (p.case === 'resolutionMatched' && p.value.conversationId === conversationId)
    );
  };
  const knowledgeFor = async (conversationId: string) =>
    (await rig.watcher.waitFor(Topics.knowledgeEvents, forConversation(conversationId)))[0].value
      .payload;

  const question = `How do I set up recurring payments to a supplier in the ${RUN} workspace?`;
  const answer =
    'Open Payments, choose the supplier, click Schedule and pick weekly or monthly. The payment then runs on that day each period.';
  let suggestionId = '';

  it('makes a suggestion from a person resolution: the question that escalated, their answer and note', async () => {
    const { conversationId, handoffId } = await resolvedByPerson(
      `Hi, ${question} Thanks!`,
      [answer],
      'Explained scheduled payments.',
    );
    const payload = await knowledgeFor(conversationId);
    expect(payload.case).toBe('suggestionCreated');
    if (payload.case !== 'suggestionCreated') return;
    const s = payload.value;
    suggestionId = s.suggestionId;
    expect(s).toMatchObject({
      title: question,
      origin: 'resolution',
      source: { conversationId, handoffId, agentId: 'ag-ada', question },
    });
    expect(s.body).toBe(`${answer}\n\nResolution note: Explained scheduled payments.`);
    const days = (Date.parse(s.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(13.9);
    expect(days).toBeLessThanOrEqual(14);

    // The same resolution again (another event for the same handoff) makes nothing new.
    await append(conversationId, 'conversationResolved', {
      resolution: Resolution.HUMAN,
      resolvedBy: 'ag-ada',
      note: 'again',
    });
  });

  it('merges a near-duplicate resolution into the pending suggestion', async () => {
    const { conversationId } = await resolvedByPerson(
      `Can I schedule recurring supplier payments in the ${RUN} workspace?`,
      [
        'Yes: in Payments select the supplier and use Schedule to make the payment repeat every week or month.',
      ],
      '',
    );
    const payload = await knowledgeFor(conversationId);
    expect(payload.case).toBe('suggestionMerged');
    if (payload.case !== 'suggestionMerged') return;
    expect(payload.value).toMatchObject({ suggestionId, occurrences: 2 });
    expect(payload.value.similarity).toBeGreaterThanOrEqual(0.7);
    // Only the two resolutions count: the repeated resolution above added nothing.
    const created = rig.watcher
      .list(Topics.knowledgeEvents)
      .filter(
        (r) =>
          (r.value.payload.case === 'suggestionCreated' ||
            r.value.payload.case === 'suggestionMerged') &&
          r.key === suggestionId,
      );
    expect(created).toHaveLength(2);
  });

  it('reports a resolution a published article already covered as matched, with no suggestion', async () => {
    const { conversationId, handoffId } = await resolvedByPerson(
      'How do I reset my password?',
      [
        'On the sign-in page click Forgot password, enter your e-mail and follow the link we send you to choose a new password.',
      ],
      '',
    );
    const payload = await knowledgeFor(conversationId);
    expect(payload.case).toBe('resolutionMatched');
    if (payload.case !== 'resolutionMatched') return;
    expect(payload.value).toMatchObject({ conversationId, handoffId, articleId: 'reset-password' });
  });

  it('publishes an approved suggestion with the reviewer edits, and answers the next question from it', async () => {
    const title = `Recurring supplier payments in ${RUN}`;
    await rig.bus.publish({
      topic: Topics.knowledgeReviews,
      key: suggestionId,
      value: create(KnowledgeReviewSchema, {
        reviewId: randomUUID(),
        suggestionId,
        decision: KnowledgeDecision.APPROVE,
        title,
        tags: ['payments'],
        reviewerId: 'ag-lead',
      }),
    });
    const [approved] = await rig.watcher.waitFor(
      Topics.knowledgeEvents,
      (r) =>
        r.value.payload.case === 'suggestionApproved' &&
        r.value.payload.value.suggestionId === suggestionId,
    );
    if (approved.value.payload.case !== 'suggestionApproved') throw new Error('not approved');
    const articleId = approved.value.payload.value.articleId;
    expect(approved.value.payload.value.reviewerId).toBe('ag-lead');
    const [published] = await rig.watcher.waitFor(
      Topics.knowledgeEvents,
      (r) =>
        r.value.payload.case === 'articlePublished' &&
        r.value.payload.value.articleId === articleId,
    );
    expect(published.value.payload.value).toMatchObject({
      title,
      origin: 'suggestion',
      suggestionId,
    });

    // The next question is answered from it.
    const messageId = randomUUID();
    await rig.append(
      customerMessageReceived(randomUUID(), {
        messageId,
        text: `How do I set up recurring payments to a supplier in ${RUN}?`,
      }),
    );
    const [proposal] = await rig.watcher.waitFor(
      Topics.events,
      (r: EventRecord) =>
        r.value.payload.case === 'aiReplyProposed' && r.value.payload.value.messageId === messageId,
    );
    if (proposal.value.payload.case !== 'aiReplyProposed') throw new Error('no proposal');
    expect(proposal.value.payload.value.citations[0]?.articleId).toBe(articleId);
    expect(proposal.value.payload.value.text).toContain('Schedule');

    // A second review of it is ignored (logged), and the consumer goes on.
    const again = await call('POST', `/v1/kb/suggestions/${suggestionId}/reject`, {});
    expect(again.status).toBe(409);
  });

  it('expires a pending suggestion nobody reviewed', async () => {
    const { conversationId } = await resolvedByPerson(
      `Why does the ${RUN} mileage export skip weekends?`,
      [
        'Weekend trips are exported only when the policy allows weekend travel; turn it on in Policies.',
      ],
      '',
    );
    const payload = await knowledgeFor(conversationId);
    if (payload.case !== 'suggestionCreated') throw new Error(`got ${payload.case}`);
    const id = payload.value.suggestionId;
    await rig.app
      .get<KbDatabase>(DATABASE)
      .db.execute(
        sql`update ai_responder.kb_suggestions set expires_at = now() - interval '1 minute' where suggestion_id = ${id}`,
      );
    const expired = await rig.app.get(SuggestionsService).expireOverdue();
    expect(expired).toContain(id);
    await rig.watcher.waitFor(
      Topics.knowledgeEvents,
      (r) =>
        r.value.payload.case === 'suggestionExpired' && r.value.payload.value.suggestionId === id,
    );
    expect(await rig.app.get(SuggestionsService).expireOverdue()).not.toContain(id);
    const listed = await call('GET', '/v1/kb/suggestions?status=expired&limit=200');
    expect(
      (listed.body as { suggestions: { suggestionId: string }[] }).suggestions.map(
        (s) => s.suggestionId,
      ),
    ).toContain(id);
  });

  async function call(method: string, path: string, body?: unknown) {
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  }
});
