/**
 * The whole handoff in two browser tabs (Debian's Chromium through
 * playwright-core): a customer asks for a person in the web chat; an agent
 * signs in to the desk, is offered the conversation, reads the briefing,
 * accepts, replies with the AI's draft, and the customer sees every step;
 * then the agent hands back to the AI (which answers again) or resolves.
 * Screenshots go to e2e/screenshots.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './browser';
import { notice as noticeText } from '@support/notices';
import {
  API_KEY,
  chatUrl,
  removeAgent,
  root,
  startAll,
  url,
  type ServiceName,
  type ServiceProcess,
} from './harness';

let procs: Map<ServiceName, ServiceProcess>;
let browser: Browser;
const shots = join(root, 'e2e', 'screenshots');
const run = randomBytes(4).toString('hex');
const agent = { id: `agent-e2e-${run}`, name: 'Ada Lindqvist', team: 'Support' };
const login = `ada-${run}@desk.example`;
const password = `pw-${randomBytes(9).toString('hex')}`;

async function admin(service: ServiceName, method: string, path: string, body: unknown) {
  const res = await fetch(url(service, path), {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  // Presence required: only agents whose desk is open get handoffs, here the one this test signs in.
  procs = await startAll({ router: { ROUTER_PRESENCE: 'required' } });
  await admin('router', 'PUT', `/v1/agents/${agent.id}`, {
    name: agent.name,
    team: agent.team,
    skills: [
      'general',
      'account',
      'billing',
      'refunds',
      'technical',
      'onboarding',
      'legal',
      'privacy',
      'security',
    ],
    languages: ['en'],
    // Room for handoffs earlier test files left waiting, which reach the only agent online.
    maxConcurrent: 100,
  });
  await admin('desk', 'PUT', `/v1/logins/${login}`, {
    agentId: agent.id,
    name: agent.name,
    team: agent.team,
    password,
  });
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
}, 240_000);

afterAll(async () => {
  // The agent stays online until its presence expires: out of the directory, the next test file's
  // handoffs cannot go to it.
  await removeAgent(agent.id);
  await browser?.close();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
});

async function signIn(): Promise<Page> {
  const desk = await browser.newPage({ viewport: { width: 1400, height: 950 } });
  await desk.goto(url('desk', '/'));
  await desk.getByLabel('E-mail or user name').fill(login);
  await desk.getByLabel('Password').fill(password);
  await desk.getByRole('button', { name: 'Sign in' }).click();
  await desk.getByTestId('agent-name').filter({ hasText: agent.name }).waitFor();
  return desk;
}

async function customerAsksForAPerson(customer: string): Promise<Page> {
  const chat = await browser.newPage({ viewport: { width: 700, height: 900 }, locale: 'en-US' });
  await chat.goto(chatUrl({ customer }));
  await chat.getByLabel('Message').fill('I need to talk to a human about my account, please');
  await chat.getByRole('button', { name: 'Send' }).click();
  await chat
    .locator('.msg.system', { hasText: noticeText('handoff', 'en') })
    .waitFor({ timeout: 60_000 });
  return chat;
}

async function say(chat: Page, text: string): Promise<void> {
  await chat.getByLabel('Message').fill(text);
  await chat.getByRole('button', { name: 'Send' }).click();
}

/** Opens the customer's conversation from the "Offered to you" lane and accepts it. */
async function acceptOffer(desk: Page, customer: string): Promise<void> {
  const offer = desk.locator('section[data-lane="offered"] [data-testid="queue-item"]', {
    hasText: customer,
  });
  await offer.waitFor({ timeout: 60_000 });
  await offer.click();
  await desk.getByTestId('briefing').waitFor();
  await desk
    .getByTestId('conversation')
    .getByRole('button', { name: 'Accept', exact: true })
    .click();
  await desk
    .locator('section[data-lane="mine"] [data-testid="queue-item"]', { hasText: customer })
    .waitFor({ timeout: 30_000 });
}

describe('agent desk and web chat in Chromium', () => {
  it('hands the customer to a signed-in agent who sees the briefing first, replies, and hands back to the AI', async () => {
    const customer = `cust-a-${run}`;
    const desk = await signIn();
    const chat = await customerAsksForAPerson(customer);

    // The desk is offered the conversation, live, with the briefing before the transcript.
    const offer = desk.locator('section[data-lane="offered"] [data-testid="queue-item"]', {
      hasText: customer,
    });
    await offer.waitFor({ timeout: 60_000 });
    await offer.click();
    const briefing = desk.getByTestId('briefing');
    await briefing.waitFor();
    await expect(desk.getByTestId('briefing-summary').textContent()).resolves.toContain(
      'talk to a human',
    );
    await expect(briefing.textContent()).resolves.toMatch(/explicit/i);
    const briefingBox = await briefing.boundingBox();
    const transcriptBox = await desk.getByRole('region', { name: 'Transcript' }).boundingBox();
    expect(briefingBox!.y).toBeLessThan(transcriptBox!.y);
    await desk.screenshot({ path: join(shots, 'desk-offer-briefing.png'), fullPage: true });

    // Accepting tells the customer who joined.
    await desk
      .getByTestId('conversation')
      .getByRole('button', { name: 'Accept', exact: true })
      .click();
    await chat
      .locator('.msg.system', { hasText: `${agent.name} from` })
      .waitFor({ timeout: 30_000 });

    // The customer asks something the knowledge base covers: the desk offers the AI's draft, the AI itself stays silent.
    const aiBefore = await chat.locator('.msg.ai').count();
    await say(chat, 'How do I reset my password?');
    const reply = desk.locator('form[aria-label="Reply"] textarea');
    await desk.locator('.draft-label').waitFor({ timeout: 60_000 });
    await expect(reply.inputValue()).resolves.toMatch(/password/i);
    await reply.fill(`Hi, this is Ada. ${await reply.inputValue()}`);
    await desk.screenshot({ path: join(shots, 'desk-reply-draft.png'), fullPage: true });
    await desk.locator('form[aria-label="Reply"]').getByRole('button', { name: 'Send' }).click();
    const agentLine = chat.locator('.msg.agent', { hasText: 'Hi, this is Ada.' });
    await agentLine.waitFor({ timeout: 30_000 });
    await expect(agentLine.textContent()).resolves.toContain(agent.name);
    expect(await chat.locator('.msg.ai').count()).toBe(aiBefore);
    await desk.locator('.line.agent', { hasText: 'Hi, this is Ada.' }).waitFor({ timeout: 30_000 });

    // Hand back: the customer is told, and the AI answers the next question again.
    await desk
      .locator('form[aria-label="Reply"]')
      .getByRole('button', { name: 'Hand back to AI' })
      .click();
    const panel = desk.locator('form[aria-label="Hand back to AI"]');
    await panel.getByRole('textbox').fill('Walked the customer through the password reset.');
    await panel.getByRole('button', { name: 'Hand back to AI' }).click();
    await chat
      .locator('.msg.system', { hasText: noticeText('handedBack', 'en', { agent: agent.name }) })
      .waitFor({ timeout: 30_000 });
    await say(chat, 'How can I download all my invoices as PDF files?');
    await chat.locator('.msg.ai').nth(aiBefore).waitFor({ timeout: 60_000 });
    await desk
      .locator('.line.system', { hasText: 'handed the conversation back to the AI' })
      .waitFor({ timeout: 30_000 });
    await chat.screenshot({ path: join(shots, 'web-chat-after-handback.png'), fullPage: true });
    await desk.screenshot({ path: join(shots, 'desk-after-handback.png'), fullPage: true });
    await Promise.all([chat.close(), desk.close()]);
  });

  it('resolves the conversation, marks it as one the AI could have handled and proposes a knowledge-base draft', async () => {
    const customer = `cust-b-${run}`;
    const desk = await signIn();
    const chat = await customerAsksForAPerson(customer);
    await acceptOffer(desk, customer);

    await desk
      .locator('form[aria-label="Reply"] textarea')
      .fill('Your account is fine now: I reset the two-factor setting.');
    await desk.locator('form[aria-label="Reply"]').getByRole('button', { name: 'Send' }).click();
    await chat.locator('.msg.agent', { hasText: 'two-factor' }).waitFor({ timeout: 30_000 });

    await desk.locator('form[aria-label="Reply"]').getByRole('button', { name: 'Resolve' }).click();
    const resolve = desk.locator('form[aria-label="Resolve"]');
    await resolve.getByRole('textbox').fill('Reset 2FA');
    await resolve.getByRole('button', { name: 'Resolve' }).click();
    await desk.locator('.meta', { hasText: 'resolved by a person' }).waitFor({ timeout: 30_000 });
    // It leaves the agent's lanes.
    await desk
      .locator('[data-testid="queue-item"]', { hasText: customer })
      .waitFor({ state: 'detached', timeout: 30_000 });

    await desk.getByRole('button', { name: 'The AI could have handled this' }).click();
    const mark = desk.locator('form[aria-label="The AI could have handled this"]');
    await mark.getByRole('textbox').fill('The help article on two-factor covers this.');
    await mark.getByRole('button', { name: 'The AI could have handled this' }).click();
    await desk
      .getByRole('button', { name: 'Marked: the AI could have handled this' })
      .waitFor({ timeout: 30_000 });

    await desk.getByRole('button', { name: 'Add to knowledge base' }).click();
    const article = desk.locator('form[aria-label="Add to knowledge base"]');
    await expect(article.getByLabel('Article').inputValue()).resolves.toContain('two-factor');
    await article
      .getByLabel('Title')
      .fill('Resetting two-factor authentication for a locked account');
    await article.getByRole('button', { name: 'Propose draft' }).click();
    await desk.locator('.chip', { hasText: 'Resetting two-factor' }).waitFor({ timeout: 30_000 });
    await desk.screenshot({ path: join(shots, 'desk-resolved.png'), fullPage: true });
    await Promise.all([chat.close(), desk.close()]);
  });

  it('refuses a wrong password without saying which part was wrong', async () => {
    const desk = await browser.newPage();
    await desk.goto(url('desk', '/'));
    await desk.getByLabel('E-mail or user name').fill(login);
    await desk.getByLabel('Password').fill('not-the-password');
    await desk.getByRole('button', { name: 'Sign in' }).click();
    await desk.getByRole('alert').filter({ hasText: 'wrong login or password' }).waitFor();
    await desk.close();
  });
});
