/**
 * Knowledge pages with every service running: two articles answer the same
 * question for different product pages (imported over HTTP with their
 * `pages`); a customer writing from one page gets that page's article, a
 * customer on the other page the other one. The page comes with the message
 * as a path or as an absolute URL.
 */
import { randomBytes } from 'node:crypto';
import { Topics } from '@support/bus';
import { OutboundKind } from '@support/contracts';
import type { TopicWatcher } from '@support/testing';
import {
  API_KEY,
  customerMessage,
  postMessage,
  startAll,
  url,
  watchTopics,
  type ServiceName,
  type ServiceProcess,
} from './harness';

let procs: Map<ServiceName, ServiceProcess>;
let watcher: TopicWatcher;
const run = randomBytes(4).toString('hex');
/** A feature no other article names, so that only this run's two articles can answer. */
const feature = `Tallyvault ${run}`;
const onBilling = `tallyvault-billing-${run}`;
const onSecurity = `tallyvault-security-${run}`;
const question = `How do I turn on ${feature} alerts?`;

const article = (id: string, pages: string[], steps: string[]) => ({
  id,
  title: `Turning on ${feature} alerts`,
  body: [`To turn on ${feature} alerts:`, '', ...steps.map((s, i) => `${i + 1}. ${s}`)].join('\n'),
  tags: ['alerts'],
  pages,
});

beforeAll(async () => {
  procs = await startAll();
  watcher = await watchTopics([Topics.events, Topics.outbound]);
  const res = await fetch(url('ai-responder', '/v1/kb/import'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({
      articles: [
        article(
          onBilling,
          ['/billing/*'],
          [
            `Open **Billing → Spend alerts** and switch on **${feature} alerts**.`,
            'Pick who receives them and click **Save**.',
          ],
        ),
        article(
          onSecurity,
          ['https://app.ledgerly.example/settings/security'],
          [
            `Open **Settings → Security → Sign-in alerts** and switch on **${feature} alerts**.`,
            'Confirm with your second factor and click **Save**.',
          ],
        ),
      ],
    }),
  });
  if (res.status !== 200) throw new Error(`POST /v1/kb/import: ${res.status} ${await res.text()}`);
}, 240_000);

afterAll(async () => {
  for (const id of [onBilling, onSecurity])
    await fetch(url('ai-responder', `/v1/kb/articles/${id}/retire`), {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
    }).catch(() => undefined);
  await watcher?.stop();
  await Promise.all([...(procs?.values() ?? [])].map((p) => p.stop('SIGTERM')));
});

/** The AI's reply to a customer asking the question from a page. */
async function askFrom(pageUrl: string) {
  const sent = await postMessage(customerMessage(question, { pageUrl }));
  expect(sent.status).toBe(202);
  const conversationId = sent.json.conversationId as string;
  const [reply] = await watcher.waitFor(
    Topics.outbound,
    (r) => r.value.conversationId === conversationId && r.value.kind === OutboundKind.AI_REPLY,
    { timeoutMs: 60_000 },
  );
  return reply.value;
}

describe('knowledge pages, end to end', () => {
  it('answers a customer on the billing pages from the billing article (the page as a path)', async () => {
    const reply = await askFrom('/billing/invoices');
    expect(reply.citations[0]?.articleId).toBe(onBilling);
    expect(reply.text).toContain('Billing → Spend alerts');
    expect(reply.text).not.toContain('Settings → Security');
  });

  it('answers a customer on the security settings from the security article (the page as a URL)', async () => {
    const reply = await askFrom('https://app.ledgerly.example/settings/security?tab=alerts');
    expect(reply.citations[0]?.articleId).toBe(onSecurity);
    expect(reply.text).toContain('Settings → Security → Sign-in alerts');
    expect(reply.text).not.toContain('Billing → Spend alerts');
  });

  it('refuses a page that is neither a path nor an http(s) URL, naming the field', async () => {
    const sent = await postMessage(customerMessage(question, { pageUrl: 'billing/invoices' }));
    expect(sent.status).toBe(400);
    expect(sent.json.issues).toEqual([expect.objectContaining({ field: 'pageUrl', rule: 'url' })]);
  });
});
