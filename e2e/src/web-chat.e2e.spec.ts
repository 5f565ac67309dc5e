/**
 * The web chat in a real browser (Debian's Chromium through playwright-core),
 * holding only the publishable widget key: a customer asks a question and sees
 * the AI's cited answer arrive over SSE; asking for a person shows the handoff
 * notice.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium } from './browser';
import { notice as noticeText } from '@support/notices';
import { chatUrl, root, startAll, type ServiceName, type ServiceProcess } from './harness';

let procs: Map<ServiceName, ServiceProcess>;
let browser: Browser;
const shots = join(root, 'e2e', 'screenshots');

beforeAll(async () => {
  procs = await startAll();
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
});

describe('demo web chat in Chromium', () => {
  it('shows the AI answer with its source, then the handoff notice when the customer asks for a person', async () => {
    const page = await browser.newPage();
    await page.goto(chatUrl());
    await page.getByLabel('Message').fill('How do I reset my password?');
    await page.getByRole('button', { name: 'Send' }).click();

    const answer = page.locator('.msg.ai');
    await answer.first().waitFor({ timeout: 60_000 });
    await expect(answer.first().textContent()).resolves.toMatch(/password/i);
    // The source is named once: in the text, or as a citation line when the text does not name it.
    const text = (await answer.first().textContent()) ?? '';
    expect(text).toMatch(/Source: \S/);
    expect(text.match(/Source: /g)).toHaveLength(1);

    await page.getByLabel('Message').fill('I want to talk to a human');
    await page.getByRole('button', { name: 'Send' }).click();
    // The decider's handoff notice, in the browser's language (English here).
    const notice = page.locator('.msg.system', { hasText: noticeText('handoff', 'en') });
    await notice.waitFor({ timeout: 60_000 });
    expect(await page.locator('.msg.customer').count()).toBe(2);
    await page.screenshot({ path: join(shots, 'web-chat.png'), fullPage: true });
    await page.close();
  });

  it('tells the customer when a message could not be sent', async () => {
    const page = await browser.newPage();
    await page.goto(chatUrl({ key: 'wk_not-a-configured-widget-key' }));
    await page.getByLabel('Message').fill('hello');
    await page.getByRole('button', { name: 'Send' }).click();
    const error = page.locator('.msg.system', { hasText: 'Could not send' });
    await error.waitFor({ timeout: 30_000 });
    await page.close();
  });
});
