/**
 * The public widget surface in a real browser (Debian's Chromium through playwright-core): the
 * web chat works holding only the publishable widget key; that key opens no admin endpoint of any
 * service; a customer identity the site did not sign (forged) or signed long ago (expired) is
 * refused, a signed one is marked verified on the log; only the key's origins may frame the chat.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { type Browser, type Page } from 'playwright-core';
import { Topics } from '@support/bus';
import { CustomerIdentity } from '@support/contracts';
import type { TopicWatcher } from '@support/testing';
import { launchChromium, shots } from './browser';
import {
  API_KEY,
  chatUrl,
  signedIdentity,
  startAll,
  url,
  watchTopics,
  WIDGET_IDENTITY_SECRET,
  WIDGET_KEY,
  WIDGET_ORIGIN,
  type ServiceName,
  type ServiceProcess,
} from './harness';

let procs: Map<ServiceName, ServiceProcess>;
let browser: Browser;
let watcher: TopicWatcher;
const run = randomBytes(4).toString('hex');

beforeAll(async () => {
  procs = await startAll();
  browser = await launchChromium();
  watcher = await watchTopics([Topics.events]);
}, 240_000);

afterAll(async () => {
  await watcher?.stop();
  await browser?.close();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
});

/** Every credential the page sends in an Authorization header. */
function credentialsOf(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    const auth = r.headers()['authorization'];
    if (auth) seen.push(auth.replace(/^Bearer\s+/i, ''));
  });
  return seen;
}

async function ask(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

describe('the widget in Chromium', () => {
  it('answers a customer through the AI with nothing but the widget key in the browser', async () => {
    const page = await browser.newPage({ locale: 'en-US' });
    const credentials = credentialsOf(page);
    await page.goto(chatUrl());
    await ask(page, 'How do I reset my password?');
    const answer = page.locator('.msg.ai').first();
    await answer.waitFor({ timeout: 60_000 });
    await expect(answer.textContent()).resolves.toMatch(/password/i);
    await expect(page.locator('#who').textContent()).resolves.toBe('Chatting as a guest');
    await page.screenshot({ path: join(shots, 'widget.png'), fullPage: true });

    // The page started its conversation with the widget key and went on with its token only.
    expect(credentials[0]).toBe(WIDGET_KEY);
    expect(credentials.slice(1).length).toBeGreaterThan(0);
    for (const c of credentials.slice(1)) expect(jwt.decode(c)).toMatchObject({ wk: 'e2e' });
    expect(credentials).not.toContain(API_KEY);
    const stored = (await page.evaluate(
      'JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.documentElement.outerHTML])',
    )) as string;
    expect(stored).not.toContain(API_KEY);
    await page.close();
  });

  it('is refused with the widget key by every admin endpoint of every service', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const endpoints: [ServiceName, string, string, unknown?][] = [
      [
        'ingest',
        'POST',
        '/v1/messages',
        {
          channel: 'web',
          externalConversationId: 'x',
          customerId: 'c',
          text: 'hi',
          idempotencyKey: run,
        },
      ],
      ['ingest', 'GET', `/v1/conversations/${id}`],
      ['ingest', 'POST', `/v1/conversations/${id}/resolve`, {}],
      ['router', 'GET', '/v1/agents'],
      [
        'router',
        'PUT',
        `/v1/agents/widget-${run}`,
        { name: 'Mallory', team: 'Support', skills: ['general'], languages: ['en'] },
      ],
      ['router', 'DELETE', '/v1/agents/agent-maya'],
      ['router', 'GET', '/v1/teams'],
      ['ai-responder', 'GET', '/v1/kb/articles'],
      ['ai-responder', 'POST', '/v1/kb/articles', { title: 'x', body: 'y' }],
      ['ai-responder', 'POST', '/v1/kb/import', { articles: [] }],
      ['ai-responder', 'GET', '/v1/kb/suggestions'],
      ['escalation-decider', 'GET', '/v1/policy'],
      ['escalation-decider', 'POST', '/v1/whatif', {}],
      ['metrics', 'GET', '/v1/metrics/overview'],
      ['metrics', 'GET', '/v1/metrics/churn-risk'],
      ['metrics', 'POST', '/v1/metrics/rules/explicit_human_request/whatif', {}],
      ['desk', 'GET', '/v1/logins'],
      [
        'desk',
        'PUT',
        `/v1/logins/mallory-${run}@example.com`,
        { agentId: 'agent-maya', name: 'Mallory', team: 'Support', password: 'pw-0123456789' },
      ],
      [
        'desk',
        'POST',
        '/v1/webhooks',
        { url: 'https://evil.example/hook', events: ['handoff.requested'] },
      ],
      ['desk', 'GET', '/v1/webhooks'],
      ['desk', 'POST', '/v1/actions', {}],
      ['desk', 'GET', '/v1/desk/queue'],
    ];
    const statuses = [];
    for (const [service, method, path, body] of endpoints) {
      const res = await fetch(url(service, path), {
        method,
        headers: {
          authorization: `Bearer ${WIDGET_KEY}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      statuses.push(`${service} ${method} ${path} ${res.status}`);
    }
    expect(statuses).toEqual(
      endpoints.map(([s, m, p]) =>
        expect.stringMatching(new RegExp(`^${s} ${m} ${p.replace(/[?]/g, '\\?')} 40[13]$`)),
      ),
    );
    // The same reads with the operator's key answer: the endpoints are there, the key is what is refused.
    for (const [service, method, path] of endpoints.filter(
      ([, m, p]) => m === 'GET' && !p.includes(id) && !p.startsWith('/v1/desk/'),
    )) {
      const res = await fetch(url(service, path), {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(`${service} ${method} ${path} ${res.status}`).toBe(`${service} ${method} ${path} 200`);
    }
  });

  it('refuses a forged or expired customer signature, and marks a signed customer verified on the log', async () => {
    const customer = `cust-widget-${run}`;
    const forged = signedIdentity(customer, { secret: randomBytes(32).toString('hex') });
    // Signed with the right secret, but expired two minutes ago.
    const expired = jwt.sign(
      { sub: customer, exp: Math.floor(Date.now() / 1000) - 120 },
      WIDGET_IDENTITY_SECRET,
      { algorithm: 'HS256' },
    );
    for (const [identity, reason] of [
      [forged, /identityToken is not signed/],
      [expired, /identityToken expired/],
    ] as const) {
      const page = await browser.newPage();
      await page.goto(`${chatUrl()}#identity=${identity}`);
      await ask(page, 'Where is my invoice?');
      const refusal = page.locator('.msg.system', { hasText: 'Could not send' });
      await refusal.waitFor({ timeout: 30_000 });
      await expect(refusal.textContent()).resolves.toMatch(reason);
      await page.close();
    }

    const page = await browser.newPage();
    await page.goto(chatUrl({ customer, account: 'acct-helios' }));
    await ask(page, 'Where is my invoice?');
    await page
      .locator('#who', { hasText: `Signed in as ${customer}` })
      .waitFor({ timeout: 30_000 });
    const [received] = await watcher.waitFor(
      Topics.events,
      (r) =>
        r.value.payload.case === 'customerMessageReceived' &&
        r.value.payload.value.customerId === customer,
    );
    expect(received.value.payload.value).toEqual(
      expect.objectContaining({
        customerId: customer,
        accountId: 'acct-helios',
        customerIdentity: CustomerIdentity.VERIFIED,
      }),
    );
    await page.close();
  });

  it("can be framed by the widget key's origins only", async () => {
    const page = (html: string) =>
      createServer((_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end(html);
      });
    const embed = `<!doctype html><title>shop</title><iframe src="${chatUrl()}" width="600" height="700"></iframe>`;
    const allowedPort = Number(new URL(WIDGET_ORIGIN).port);
    const servers: Server[] = [page(embed), page(embed)];
    await new Promise<void>((r) => servers[0].listen(allowedPort, '127.0.0.1', r));
    await new Promise<void>((r) => servers[1].listen(allowedPort + 1, '127.0.0.1', r));
    try {
      const inputsIn = async (origin: string) => {
        const tab = await browser.newPage();
        await tab.goto(`${origin}/`, { waitUntil: 'load' });
        const frame = await (await tab.$('iframe'))!.contentFrame();
        const count = frame ? await frame.locator('#text').count() : 0;
        await tab.close();
        return count;
      };
      expect(await inputsIn(WIDGET_ORIGIN)).toBe(1);
      expect(await inputsIn(`http://127.0.0.1:${allowedPort + 1}`)).toBe(0);
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});
