/**
 * The third outcome: an AI answer in the policy's review band waits for a
 * person. The decider runs a test policy whose band takes every answer
 * (reviewMinConfidence 0, minConfidence above 1), so that a knowledge-base
 * question lands in it deterministically. In Chromium, a reviewer opens the
 * review lane, edits the draft and sends it, and the customer gets the
 * edited text; through the desk gateway, an approval delivers the draft as
 * is and a take-over makes the review a handoff the reviewer holds.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { Topics } from '@support/bus';
import { OutboundKind, ReviewOutcome, type ReviewRequested } from '@support/contracts';
import { notice as noticeText } from '@support/notices';
import type { TopicWatcher } from '@support/testing';
import { launchChromium } from './browser';
import {
  API_KEY,
  chatUrl,
  customerMessage,
  postMessage,
  registerAgent,
  removeAgent,
  root,
  sleep,
  startAll,
  url,
  watchTopics,
  type ServiceName,
  type ServiceProcess,
} from './harness';

let procs: Map<ServiceName, ServiceProcess>;
let browser: Browser;
let desk: Page;
let watcher: TopicWatcher;
const shots = join(root, 'e2e', 'screenshots');
const run = randomBytes(4).toString('hex');
const agent = { id: `agent-review-${run}`, name: 'Rita Okafor', team: 'Support' };
const login = `rita-${run}@desk.example`;
const password = `pw-${randomBytes(9).toString('hex')}`;
const QUESTION = 'How do I reset my password?';

/** The shipped policy with a review band that takes every answer. */
function bandPolicyFile(): string {
  const shipped = readFileSync(
    join(root, 'services', 'escalation-decider', 'policy', 'default.yaml'),
    'utf8',
  );
  const text = shipped
    .replace(/^version: .*$/m, `version: review-e2e-${run}`)
    .replace(/^ {2}minConfidence: .*$/m, '  minConfidence: 1.01')
    .replace(/^ {2}reviewMinConfidence: .*$/m, '  reviewMinConfidence: 0');
  if (!text.includes('minConfidence: 1.01') || !text.includes('reviewMinConfidence: 0'))
    throw new Error('the shipped policy no longer names minConfidence and reviewMinConfidence');
  const file = join(tmpdir(), `review-policy-${run}.yaml`);
  writeFileSync(file, text);
  return file;
}

beforeAll(async () => {
  procs = await startAll({
    // Only agents whose desk is open get handoffs and reviews: the reviewer signed in below.
    router: { ROUTER_PRESENCE: 'required' },
    // A policy set of this run's own: no version activated by another test is in force.
    'escalation-decider': {
      DECIDER_POLICY_FILE: bandPolicyFile(),
      DECIDER_POLICY_SET: `review-e2e-${run}`,
    },
  });
  await registerAgent(agent);
  const res = await fetch(url('desk', `/v1/logins/${login}`), {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ agentId: agent.id, name: agent.name, team: agent.team, password }),
  });
  if (!res.ok) throw new Error(`PUT login: ${res.status} ${await res.text()}`);
  watcher = await watchTopics([Topics.events, Topics.outbound, Topics.handoffAssignments]);
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
  // The reviewer's desk stays open for the whole file: it reports them online.
  desk = await browser.newPage({ viewport: { width: 1400, height: 950 } });
  await desk.goto(url('desk', '/'));
  await desk.getByLabel('E-mail or user name').fill(login);
  await desk.getByLabel('Password').fill(password);
  await desk.getByRole('button', { name: 'Sign in' }).click();
  await desk.getByTestId('agent-name').filter({ hasText: agent.name }).waitFor();
}, 240_000);

afterAll(async () => {
  await removeAgent(agent.id);
  await watcher?.stop();
  await browser?.close();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
});

/** The review the decider requested in a conversation, and the reviewer's assignment. */
async function reviewIn(conversationId: string): Promise<ReviewRequested> {
  const [record] = await watcher.waitFor(
    Topics.events,
    (r) => r.value.conversationId === conversationId && r.value.payload.case === 'reviewRequested',
  );
  const review = record.value.payload.value as ReviewRequested;
  // Rita's desk is the only one open: the review is hers (anyone else's says who took it).
  const [assignment] = await watcher.waitFor(
    Topics.handoffAssignments,
    (r) => r.value.handoffId === review.reviewId,
  );
  expect(assignment.value.agentId).toBe(agent.id);
  return review;
}

/**
 * The reviewer's decision through the desk gateway (as another desk would send it). The gateway
 * answers 409 until it has read the take-over from the log, which it reads apart from the test's
 * watcher: the decision is sent again, as another desk would, for a few seconds.
 */
async function decide(conversationId: string, review: ReviewRequested, body: object) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(url('desk', '/v1/actions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({
        conversationId,
        handoffId: review.reviewId,
        agentId: agent.id,
        agentName: agent.name,
        ...body,
      }),
    });
    if (res.status !== 409 || Date.now() > deadline) {
      expect(res.status).toBe(202);
      return;
    }
    await res.text();
    await sleep(200);
  }
}

async function completed(conversationId: string) {
  const [record] = await watcher.waitFor(
    Topics.events,
    (r) => r.value.conversationId === conversationId && r.value.payload.case === 'reviewCompleted',
  );
  return record.value.payload.case === 'reviewCompleted' ? record.value.payload.value : undefined;
}

async function post(text: string): Promise<string> {
  const { status, json } = await postMessage(customerMessage(text));
  expect(status).toBe(202);
  return json.conversationId as string;
}

describe('an AI answer in the review band', () => {
  it('waits in the desk for the reviewer, who edits it; the customer receives the edited text', async () => {
    const customer = `cust-review-${run}`;
    const chat = await browser.newPage({ viewport: { width: 700, height: 900 }, locale: 'en-US' });
    await chat.goto(chatUrl({ customer }));
    await chat.getByLabel('Message').fill(QUESTION);
    await chat.getByRole('button', { name: 'Send' }).click();
    // The customer is told an answer is being checked; no AI answer goes out meanwhile.
    await chat
      .locator('.msg.system', { hasText: noticeText('review', 'en') })
      .waitFor({ timeout: 60_000 });
    expect(await chat.locator('.msg.ai').count()).toBe(0);

    const item = desk.locator('section[data-lane="review"] [data-testid="queue-item"]', {
      hasText: customer,
    });
    await item.waitFor({ timeout: 60_000 });
    await item.click();
    const form = desk.locator('form[aria-label="Review"]');
    const answer = form.getByLabel('AI answer');
    await answer.waitFor();
    const draft = await answer.inputValue();
    expect(draft).toMatch(/password/i);
    const edited = `Checked by Rita: ${draft}`;
    await answer.fill(edited);
    await desk.screenshot({ path: join(shots, 'desk-review-edit.png'), fullPage: true });
    await form.getByRole('button', { name: 'Send edited answer' }).click();

    await chat.locator('.msg.ai', { hasText: 'Checked by Rita:' }).waitFor({ timeout: 30_000 });
    // It leaves the review lane: the AI carries on.
    await item.waitFor({ state: 'detached', timeout: 30_000 });
    await chat.screenshot({ path: join(shots, 'web-chat-reviewed.png'), fullPage: true });
    await chat.close();
  });

  it('approved unchanged, delivers the draft as the AI reply', async () => {
    const conversationId = await post(QUESTION);
    const review = await reviewIn(conversationId);
    expect(review.triggers.map((t) => t.rule)).toEqual(['review_band']);
    await decide(conversationId, review, { type: 'review', outcome: 'approve' });
    const [reply] = await watcher.waitFor(
      Topics.outbound,
      (r) => r.value.conversationId === conversationId && r.value.kind === OutboundKind.AI_REPLY,
    );
    expect(reply.value.text).toBe(review.text);
    expect(reply.value.inReplyTo).toBe(review.messageId);
    expect(await completed(conversationId)).toMatchObject({
      outcome: ReviewOutcome.APPROVED,
      text: review.text,
      agentId: agent.id,
    });
  });

  it('taken over, becomes a handoff the reviewer holds: the customer hears who joined and gets their reply', async () => {
    const conversationId = await post(QUESTION);
    const review = await reviewIn(conversationId);
    await decide(conversationId, review, { type: 'review', outcome: 'take_over' });
    expect(await completed(conversationId)).toMatchObject({ outcome: ReviewOutcome.TAKEN_OVER });
    await watcher.waitFor(
      Topics.outbound,
      (r) =>
        r.value.conversationId === conversationId &&
        r.value.kind === OutboundKind.SYSTEM &&
        r.value.text.includes(agent.name),
    );
    await decide(conversationId, review, { type: 'reply', text: 'Rita here: let me help.' });
    const [reply] = await watcher.waitFor(
      Topics.outbound,
      (r) => r.value.conversationId === conversationId && r.value.kind === OutboundKind.AGENT_REPLY,
    );
    expect(reply.value.text).toBe('Rita here: let me help.');
    // The draft never went out.
    const ai = watcher
      .records(Topics.outbound)
      .filter(
        (r) => r.value.conversationId === conversationId && r.value.kind === OutboundKind.AI_REPLY,
      );
    expect(ai).toEqual([]);
  });
});
