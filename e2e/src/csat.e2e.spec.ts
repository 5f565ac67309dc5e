/**
 * The end of a conversation with every service running: a customer in the
 * web chat (Chromium) confirms that the AI's answer helped, is asked to rate
 * the conversation and rates it 5; another customer goes quiet after the
 * AI's answer and the conversation is resolved as assumed, with a CSAT
 * request. The rating shows in the metrics overview.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium } from './browser';
import { Topics } from '@support/bus';
import { OutboundKind, Resolution } from '@support/contracts';
import { notice } from '@support/notices';
import {
  API_KEY,
  chatUrl,
  customerMessage,
  postMessage,
  root,
  sleep,
  startAll,
  url,
  watchTopics,
  type ServiceName,
  type ServiceProcess,
} from './harness';
import type { TopicWatcher } from '@support/testing';

/** Long enough for the browser customer to click, short enough for the quiet customer's test. */
const QUIET_WINDOW_SECONDS = 12;

let procs: Map<ServiceName, ServiceProcess>;
let browser: Browser;
let watcher: TopicWatcher;
const shots = join(root, 'e2e', 'screenshots');
const startedAt = new Date(Date.now() - 60_000).toISOString();

beforeAll(async () => {
  procs = await startAll({
    ingest: { QUIET_WINDOW_SECONDS: String(QUIET_WINDOW_SECONDS), QUIET_SWEEP_MS: '500' },
  });
  watcher = await watchTopics([Topics.events, Topics.outbound]);
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await watcher?.stop();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
});

const eventOf = (conversationId: string, kind: string) =>
  watcher.waitFor(
    Topics.events,
    (r) => r.value.conversationId === conversationId && r.value.payload.case === kind,
  );

interface CsatStat {
  requested: number;
  responses: number;
  average: number | null;
}

async function overview(): Promise<{ csat: { overall: CsatStat; aiOnly: CsatStat } }> {
  const res = await fetch(
    url('metrics', `/v1/metrics/overview?from=${encodeURIComponent(startedAt)}`),
    { headers: { authorization: `Bearer ${API_KEY}` } },
  );
  expect(res.status).toBe(200);
  return (await res.json()) as { csat: { overall: CsatStat; aiOnly: CsatStat } };
}

describe('CSAT and the end of a conversation', () => {
  it('a customer confirms the AI answer in the web chat, is asked to rate, and rates 5', async () => {
    const page = await browser.newPage();
    await page.goto(chatUrl());
    await page.getByLabel('Message').fill('How do I reset my password?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.msg.ai').first().waitFor({ timeout: 60_000 });

    await page.getByRole('button', { name: 'This answered my question' }).click();
    const request = page.locator('.msg.system', { hasText: notice('csatRequest', 'en') });
    await request.waitFor({ timeout: 30_000 });
    const rating = page.getByRole('group', { name: 'Rate this conversation' });
    for (let score = 1; score <= 5; score++)
      await rating.getByRole('button', { name: `Rate ${score} of 5` }).waitFor();
    await rating.getByLabel('Comment').fill('Quick and clear, thanks');
    await page.screenshot({ path: join(shots, 'csat-request.png'), fullPage: true });
    // What the metrics counted before this rating: conversations of earlier test files can start
    // within this file's range (the quiet window closes them), so the check is on the difference.
    const before = (await overview()).csat.aiOnly;
    await rating.getByRole('button', { name: 'Rate 5 of 5' }).click();
    await page.getByText('Thank you for your rating!').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(shots, 'csat-rated.png'), fullPage: true });

    // Evaluated in the page (a string: this file is compiled without the DOM's types).
    const stored = (await page.evaluate(
      "sessionStorage.getItem('conversation') || '{}'",
    )) as string;
    const { conversationId } = JSON.parse(stored) as { conversationId: string };
    await page.close();

    const [resolved] = await eventOf(conversationId, 'conversationResolved');
    expect(resolved.value.payload.value).toEqual(
      expect.objectContaining({
        resolution: Resolution.AI,
        resolvedBy: 'customer',
        assumed: false,
      }),
    );
    const [requested] = await eventOf(conversationId, 'csatRequested');
    const [rated] = await eventOf(conversationId, 'csatRated');
    const requestId = (requested.value.payload.value as { requestId: string }).requestId;
    expect(rated.value.payload.value).toEqual(
      expect.objectContaining({ requestId, score: 5, comment: 'Quick and clear, thanks' }),
    );

    // The metrics service counts the rating (an AI-only conversation).
    let stats = await overview();
    for (let i = 0; i < 60 && stats.csat.aiOnly.responses < before.responses + 1; i++) {
      await sleep(500);
      stats = await overview();
    }
    const after = stats.csat.aiOnly;
    expect(after.responses).toBe(before.responses + 1);
    // The new rating is the difference of the sums (averages are rounded to two places).
    const sum = (s: CsatStat) => (s.average ?? 0) * s.responses;
    expect(sum(after) - sum(before)).toBeCloseTo(5, 0);
  });

  it('a customer who goes quiet after the AI answer has the conversation resolved as assumed, and is asked to rate', async () => {
    const { status, json } = await postMessage(customerMessage('How do I reset my password?'));
    expect(status).toBe(202);
    const conversationId = json.conversationId as string;
    await watcher.waitFor(
      Topics.outbound,
      (r) => r.value.conversationId === conversationId && r.value.kind === OutboundKind.AI_REPLY,
    );
    const [resolved] = await eventOf(conversationId, 'conversationResolved');
    expect(resolved.value.payload.value).toEqual(
      expect.objectContaining({
        resolution: Resolution.AI,
        resolvedBy: 'quiet_window',
        assumed: true,
      }),
    );
    const [ask] = await watcher.waitFor(
      Topics.outbound,
      (r) =>
        r.value.conversationId === conversationId && r.value.kind === OutboundKind.CSAT_REQUEST,
    );
    expect(ask.value).toEqual(
      expect.objectContaining({ author: 'system', text: notice('csatRequest', 'en') }),
    );
    const [requested] = await eventOf(conversationId, 'csatRequested');
    expect(requested.value.payload.value).toEqual(
      expect.objectContaining({ requestId: ask.value.csatRequestId }),
    );
    // Asked once, although every sweep of the window sees the conversation.
    await sleep(2_000);
    expect(
      watcher
        .records(Topics.outbound)
        .filter(
          (r) =>
            r.value.conversationId === conversationId && r.value.kind === OutboundKind.CSAT_REQUEST,
        ),
    ).toHaveLength(1);
  });
});
