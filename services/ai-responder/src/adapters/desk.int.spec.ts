import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Topics } from '@support/bus';
import type { AiReplyProposed } from '@support/contracts';
import { conversationEvent, type PayloadInitOf } from '@support/conversation';
import { createServiceApp, JsonLogger, loadConfig } from '@support/service-kit';
import {
  customerMessageReceived,
  FakeLlmServer,
  startServiceRig,
  waitUntil,
  type ReceivedRequest,
  type ServiceRig,
  type WatchedRecord,
} from '@support/testing';
import { AppModule } from '../app.module';
import { configSchema, SERVICE } from '../config';

jest.setTimeout(90_000);

const API_KEY = `desk-itest-${randomUUID()}`;
/** In every question, title and word of this run, so that reruns never collide. */
const RUN = randomUUID().replace(/-/g, '').slice(0, 10);
/** An invoice number of this run, as a customer writes it. */
const INVOICE = `INV-${Math.floor(100_000 + Math.random() * 900_000)}`;

interface Issue {
  field: string;
  rule: string;
  message: string;
}
interface Suggestion {
  suggestionId: string;
  status: string;
  origin: string;
  title: string;
  body: string;
  tags: string[];
  locale: string;
  occurrences: number;
  sources: { conversationId: string; handoffId: string; agentId: string; question: string }[];
  reviewerId: string | null;
  reason: string;
  articleId: string | null;
}

function messagesOf(request: ReceivedRequest): { role: string; content: string }[] {
  return (request.body as { messages: { role: string; content: string }[] }).messages;
}

/**
 * The AI responder with a chat model (a local fake speaking the OpenAI API),
 * on the real Kafka, Redis and PostgreSQL, as the agent's desk meets it: it
 * drafts replies for the person who holds a conversation, answers again after
 * a handback knowing what the person did, and keeps the articles agents
 * propose as suggestions until someone approves them.
 */
describe('ai-responder with the agent desk, on the real Kafka, Redis and PostgreSQL', () => {
  let fake: FakeLlmServer;
  let rig: ServiceRig<INestApplication>;

  beforeAll(async () => {
    fake = await FakeLlmServer.start();
    // The model quotes the first passage it is given, citing it; with no passage it has no answer.
    fake.respondWith((request) => {
      const user = messagesOf(request).find((m) => m.role === 'user')?.content ?? '';
      const first = /^\[1\] [^\n]*\n([\s\S]*?)\n\n(?:\[2\]|<conversation>)/m.exec(user)?.[1];
      return {
        text: JSON.stringify(
          first
            ? { answerable: true, answer: first.trim().slice(0, 300), citations: [1] }
            : { answerable: false },
        ),
      };
    });
    const config = loadConfig(configSchema, {
      ...process.env,
      LOG_LEVEL: 'warn',
      AI_RESPONDER_API_KEYS: API_KEY,
      LLM_PROVIDER: 'openai',
      LLM_MODEL: 'fake-desk-model',
      LLM_BASE_URL: `${fake.origin}/v1`,
      LLM_API_KEY: 'sk-desk-test',
      LLM_TIMEOUT_MS: '5000',
      EMBEDDINGS_PROVIDER: 'none',
    });
    const logger = new JsonLogger(SERVICE, 'warn');
    rig = await startServiceRig({
      name: 'ai-responder-desk-itest',
      brokers: config.KAFKA_BROKERS,
      logger,
      createApp: () => createServiceApp(AppModule.create(config, logger), logger),
      watch: [Topics.events],
      readyTimeoutMs: 90_000,
    });
  }, 150_000);

  afterAll(async () => {
    await rig?.close();
    await fake?.close();
  });

  type EventRecord = WatchedRecord<typeof Topics.events.schema>;
  const proposalFor = (messageId: string) => (r: EventRecord) =>
    r.value.payload.case === 'aiReplyProposed' && r.value.payload.value.messageId === messageId;
  const valueOf = (r: EventRecord): AiReplyProposed => {
    if (r.value.payload.case !== 'aiReplyProposed') throw new Error('not a proposal');
    return r.value.payload.value;
  };

  let n = 0;
  /** Appends an event as the service that owns it would (ingest, the router, the decider). */
  const append = <K extends Parameters<typeof conversationEvent>[2]>(
    conversationId: string,
    kind: K,
    value: PayloadInitOf<K>,
  ) => rig.append(conversationEvent(conversationId, `desk-${RUN}-${n++}`, kind, value));

  /** Puts a customer message on the log and waits for the responder's proposal. */
  async function ask(conversationId: string, text: string) {
    const messageId = randomUUID();
    await rig.append(customerMessageReceived(conversationId, { messageId, text }));
    const [record] = await rig.watcher.waitFor(Topics.events, proposalFor(messageId));
    return { messageId, proposal: valueOf(record) };
  }

  /** What the chat model was sent about one customer message: the system rules and the user message. */
  function promptFor(text: string): { system: string; user: string } {
    const request = fake.requests.find((r) =>
      messagesOf(r).some((m) =>
        m.content.includes(`<customer_message>\n${text}\n</customer_message>`),
      ),
    );
    if (!request) throw new Error(`no request to the model about "${text}"`);
    const [system, user] = messagesOf(request);
    return { system: system.content, user: user.content };
  }
  const conversationIn = (user: string) =>
    /<conversation>\n([\s\S]*?)\n<\/conversation>/.exec(user)?.[1] ?? '';

  async function call<T>(
    method: string,
    path: string,
    options: { body?: unknown; key?: string | null } = {},
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    const key = options.key === undefined ? API_KEY : options.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${rig.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  const fieldsOf = (reply: { body: unknown }) =>
    (reply.body as { issues: Issue[] }).issues.map((i) => i.field);
  const suggestions = async (status = 'pending') =>
    (
      await call<{ total: number; suggestions: Suggestion[] }>(
        'GET',
        `/v1/kb/suggestions?status=${status}&limit=200`,
      )
    ).body.suggestions;

  describe('a conversation a person holds, then hands back', () => {
    const conversationId = randomUUID();
    const handoffId = `ho-${RUN}`;
    const agentLine = `I have refunded the second charge of ${INVOICE}; write to billing-${RUN}@ledgerly.example if it does not show within 5 days.`;
    const note = `Refunded the duplicate charge on ${INVOICE}; nothing else pending.`;

    it('drafts a reply for the agent while a person has the conversation, from the conversation with their lines', async () => {
      // Given the customer was handed to Ada from Billing, who has answered once
      const first = await ask(
        conversationId,
        `I was charged twice for invoice ${INVOICE}, please fix it.`,
      );
      expect(first.proposal.flags).not.toContain('draft_for_agent');
      await append(conversationId, 'handoffRequested', { handoffId, messageId: first.messageId });
      // (while the handoff waits for someone, a message gets a draft for whoever takes it)
      const waiting = `While I wait: how do I change my login email? (${RUN}-0)`;
      expect((await ask(conversationId, waiting)).proposal.flags).toContain('draft_for_agent');
      expect(promptFor(waiting).system).toContain('The conversation waits for a person');
      await append(conversationId, 'agentAssigned', {
        handoffId,
        agentId: 'ag-ada',
        agentName: 'Ada',
        team: 'Billing',
      });
      await append(conversationId, 'agentReplied', {
        handoffId,
        agentId: 'ag-ada',
        agentName: 'Ada',
        messageId: `om-${RUN}`,
        text: agentLine,
      });

      // When the customer writes again
      const question = `How do I reset my password? (${RUN}-1)`;
      const { proposal } = await ask(conversationId, question);

      // Then the responder proposes a reply, marked as a draft for the agent
      expect(proposal.flags).toContain('draft_for_agent');
      expect(proposal.citations[0]?.articleId).toBe('reset-password');
      // (which of the article's sections is quoted also weighs word statistics over the
      // whole knowledge base, which other test files of the run change: any section will do)
      expect(proposal.text).toMatch(/password/i);
      // ...written from the conversation with Ada's line, for Ada
      const { system, user } = promptFor(question);
      expect(conversationIn(user).split('\n')).toEqual([
        `Customer: I was charged twice for invoice ${INVOICE}, please fix it.`,
        `Customer: ${waiting}`,
        `Ada (support agent): ${agentLine}`,
        expect.stringMatching(
          /^Note: A person \(Ada, Billing\) has had the conversation since \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/,
        ),
      ]);
      expect(system).toContain(
        'A person from the support team (Ada, Billing) holds this conversation now',
      );
    });

    it('answers again after the handback, knowing who handled the conversation, when, and their note', async () => {
      // Given Ada hands the conversation back with a note
      await append(conversationId, 'handedBack', {
        handoffId,
        agentId: 'ag-ada',
        agentName: 'Ada',
        note,
      });

      // When the customer writes again
      const question = `How do I download my invoices as PDF? (${RUN}-2)`;
      const { proposal } = await ask(conversationId, question);

      // Then the proposal is for the customer again, and the model read the human stretch
      expect(proposal.flags).not.toContain('draft_for_agent');
      expect(proposal.articlesTried).toContain('download-invoices');
      const { system, user } = promptFor(question);
      const lines = conversationIn(user).split('\n');
      expect(lines).toContain(`Ada (support agent): ${agentLine}`);
      expect(lines.at(-2)).toBe(`Customer: How do I reset my password? (${RUN}-1)`);
      expect(lines.at(-1)).toMatch(
        new RegExp(
          `^Note: A person \\(Ada, Billing\\) handled the conversation from .+ UTC to .+ UTC and handed it back to the AI; their note: ${note.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
        ),
      );
      expect(system).toContain('Your reply goes to the customer.');
      // The agent's words are never taken for the customer's: no detail (their e-mail) is collected from them.
      expect(proposal.collectedDetails.map((d) => [d.name, d.value])).toEqual([
        ['invoice_or_order_number', INVOICE],
      ]);
    });
  });

  describe('articles agents propose', () => {
    const word = `quextor${RUN}`;
    const question = `How do I pay a supplier with ${word} credits?`;
    const proposalEvent = (draftId: string, title: string) => ({
      handoffId: `ho-kb-${RUN}`,
      agentId: 'ag-ada',
      draftId,
      title,
      body: [
        `Suppliers can be paid with ${word} credits.`,
        '',
        '## Pay a supplier',
        '',
        `1. Open **Payments → ${word} credits**.`,
        '2. Pick the supplier and click **Pay with credits**.',
      ].join('\n'),
      tags: ['payments', ' payments '],
    });

    it('keeps a proposal as a suggestion of origin agent, once, out of answers until it is approved, then answers from it', async () => {
      // Given an agent proposed an article from a conversation
      const conversationId = randomUUID();
      const draftId = randomUUID();
      await ask(conversationId, `Can I pay suppliers with credits? (${RUN}-3)`);
      await append(
        conversationId,
        'articleProposed',
        proposalEvent(draftId, `Paying suppliers with ${word} credits`),
      );

      // Then it is listed as a pending suggestion, linked to its conversation and handoff
      await waitUntil('the suggestion to be listed', async () =>
        (await suggestions()).some((d) => d.suggestionId === draftId),
      );
      const suggestion = (await suggestions()).find((d) => d.suggestionId === draftId)!;
      expect(suggestion).toMatchObject({
        status: 'pending',
        origin: 'agent',
        title: `Paying suppliers with ${word} credits`,
        tags: ['payments'],
        locale: 'en',
        occurrences: 1,
        reviewerId: null,
        sources: [{ conversationId, handoffId: `ho-kb-${RUN}`, agentId: 'ag-ada' }],
      });

      // When the same proposal comes again (another event, same draft id), nothing changes
      await append(conversationId, 'articleProposed', proposalEvent(draftId, 'Another title'));
      // ...and a question asked after it (same conversation, so read after it) is not answered from it
      const before = (await ask(conversationId, `${question} (${RUN}-4)`)).proposal;
      expect(before.text).not.toContain(word);
      expect((await suggestions()).filter((d) => d.suggestionId === draftId)).toHaveLength(1);
      expect((await suggestions()).find((d) => d.suggestionId === draftId)?.title).toBe(
        `Paying suppliers with ${word} credits`,
      );

      // When someone approves it
      const approved = await call<{
        suggestion: Suggestion;
        article: { id: string; version: number; status: string };
      }>('POST', `/v1/kb/suggestions/${draftId}/approve`, { body: {} });

      // Then it is published and answers the question
      expect(approved.status).toBe(200);
      expect(approved.body.suggestion).toMatchObject({
        status: 'approved',
        reviewerId: expect.stringMatching(/^key:/),
      });
      expect(approved.body.article).toMatchObject({ status: 'published' });
      const articleId = approved.body.article.id;
      const after = (await ask(conversationId, `${question} (${RUN}-5)`)).proposal;
      expect(after.articlesTried[0]).toBe(articleId);
      expect(after.text).toContain(word);
      expect((await suggestions()).map((d) => d.suggestionId)).not.toContain(draftId);
      expect((await suggestions('approved')).map((d) => d.suggestionId)).toContain(draftId);

      // A suggestion is reviewed once
      const again = await call('POST', `/v1/kb/suggestions/${draftId}/approve`);
      expect(again.status).toBe(409);
      expect(fieldsOf(again)).toEqual(['id']);
    });

    it('closes a rejected suggestion with its reason; it never reaches answers', async () => {
      const conversationId = randomUUID();
      const draftId = randomUUID();
      await append(
        conversationId,
        'articleProposed',
        proposalEvent(draftId, `Old way to pay with ${word}`),
      );
      await waitUntil('the suggestion to be listed', async () =>
        (await suggestions()).some((d) => d.suggestionId === draftId),
      );

      const tooLong = await call('POST', `/v1/kb/suggestions/${draftId}/reject`, {
        body: { reason: 'x'.repeat(2001) },
      });
      expect(tooLong.status).toBe(400);
      expect(fieldsOf(tooLong)).toEqual(['reason']);

      const rejected = await call<{ suggestion: Suggestion }>(
        'POST',
        `/v1/kb/suggestions/${draftId}/reject`,
        { body: { reason: 'Duplicates the approved article.' } },
      );
      expect(rejected.status).toBe(200);
      expect(rejected.body.suggestion).toMatchObject({
        status: 'rejected',
        reason: 'Duplicates the approved article.',
        articleId: null,
      });
      expect((await suggestions('rejected')).map((d) => d.suggestionId)).toContain(draftId);
      const proposal = (await ask(randomUUID(), `Old way to pay with ${word}? (${RUN}-6)`))
        .proposal;
      expect(proposal.text).not.toContain('Old way');
    });

    it('answers bad input with a 400 naming the field, an unknown suggestion with a 404, and no key with a 401', async () => {
      const badQuery = await call('GET', '/v1/kb/suggestions?status=maybe&colour=red');
      expect(badQuery.status).toBe(400);
      expect(fieldsOf(badQuery).sort()).toEqual(['colour', 'status']);
      const badId = await call(
        'POST',
        `/v1/kb/suggestions/${encodeURIComponent('../x y')}/approve`,
      );
      expect(badId.status).toBe(400);
      expect(fieldsOf(badId)).toEqual(['id']);
      const badBody = await call('POST', `/v1/kb/suggestions/${randomUUID()}/approve`, {
        body: { title: 2 },
      });
      expect(badBody.status).toBe(400);
      expect(fieldsOf(badBody)).toEqual(['title']);
      expect((await call('POST', `/v1/kb/suggestions/${randomUUID()}/approve`)).status).toBe(404);
      expect((await call('GET', '/v1/kb/suggestions', { key: null })).status).toBe(401);
      expect(
        (
          await call('POST', `/v1/kb/suggestions/${randomUUID()}/reject`, {
            key: 'wrong',
            body: { reason: 'x' },
          })
        ).status,
      ).toBe(401);
    });
  });
});
