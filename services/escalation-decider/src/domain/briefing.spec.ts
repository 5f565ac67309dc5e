import { AccountSchema, create, Priority, Speaker } from '@support/contracts';
import { initialState, type ConversationState, type ProposalView } from '@support/conversation';
import { accountLine, buildBriefing } from './briefing';
import type { DecisionContext } from './context';
import { decide, loadDefaultPolicy } from './decide';

const policy = loadDefaultPolicy();

const proposal = (over: Partial<ProposalView>): ProposalView => ({
  replyId: 'r',
  text: '',
  confidence: 0.9,
  intent: 'invoices',
  intentProbability: 0.9,
  topic: 'billing',
  outOfScope: false,
  urgency: 0,
  requiredSkills: [],
  kind: 'answer',
  missingDetails: [],
  generator: 'extractive',
  flags: [],
  citations: [],
  articlesTried: [],
  at: '',
  ...over,
});

/** An enterprise VIP with a support SLA, a disputed invoice and an open incident. */
const account = create(AccountSchema, {
  accountId: 'acc-7',
  name: 'Acme GmbH',
  tier: 'enterprise',
  plan: 'Enterprise annual',
  monthlyValue: 4800,
  currency: 'EUR',
  vip: true,
  atRisk: false,
  owner: 'Maria Rossi <maria@example.com>',
  openInvoices: [
    { invoiceId: 'INV-2291', amount: 1250, currency: 'EUR', status: 'disputed' },
    { invoiceId: 'INV-2301', amount: 4800, currency: 'EUR', status: 'open' },
  ],
  openIncidents: [
    { incidentId: 'INC-88', title: 'Invoice PDFs fail to generate', severity: 'major' },
  ],
  sla: 'premium',
  slaFirstResponseMinutes: 30,
});

const pageUrl = 'https://app.example.com/billing/invoices?tab=open';
const context: DecisionContext = { account, accountLookup: 'found', pageUrl };

/**
 * The customer asks where to download an invoice and the AI answers; the
 * customer says it did not help and disputes a charge on an invoice of the
 * account. The AI's second reply, a request for details, is withheld.
 */
const state: ConversationState = {
  ...initialState('conv-1'),
  status: 'ai_handling',
  channel: 'web',
  customerId: 'cust-42',
  accountId: 'acc-7',
  locale: 'en-GB',
  pageUrl: '',
  startedAt: '2026-11-20T09:00:00.000Z',
  messages: [
    {
      messageId: 'm1',
      text: 'How do I download   last month’s invoice?',
      at: '2026-11-20T09:00:00.000Z',
      proposal: proposal({
        text: 'Open Billing > Invoices and click Download.',
        confidence: 0.98,
        articlesTried: ['kb-invoices'],
      }),
      score: {
        valence: 0.2,
        label: 'neutral',
        signals: [],
        trajectory: {
          smoothed: 0.2,
          start: 0.2,
          change: 0,
          turnedAtMessageId: '',
          shift: false,
          messages: 1,
        },
        at: '2026-11-20T09:00:02.000Z',
      },
      decision: { kind: 'released', at: '2026-11-20T09:00:03.000Z' },
    },
    {
      messageId: 'm2',
      text: "That didn't help. You charged us twice on INV-2291 and I dispute it.",
      at: '2026-11-20T09:01:00.000Z',
      proposal: proposal({
        text: 'Could you tell me the payment method you used?',
        confidence: 0.8,
        intent: 'billing',
        kind: 'intake',
        missingDetails: ['payment_method'],
        articlesTried: ['kb-refunds', 'kb-invoices'],
        topic: 'refunds',
      }),
      score: {
        valence: -0.6,
        label: 'negative',
        signals: ['frustration'],
        trajectory: {
          smoothed: -0.25,
          start: 0.2,
          change: -0.45,
          turnedAtMessageId: 'm2',
          shift: true,
          messages: 2,
        },
        at: '2026-11-20T09:01:02.000Z',
      },
    },
  ],
  transcript: [
    {
      speaker: 'customer',
      text: 'How do I download   last month’s invoice?',
      at: '2026-11-20T09:00:00.000Z',
    },
    {
      speaker: 'ai',
      text: 'Open Billing > Invoices\nand click Download.',
      at: '2026-11-20T09:00:03.000Z',
    },
    {
      speaker: 'customer',
      text: "That didn't help. You charged us twice on INV-2291 and I dispute it.",
      at: '2026-11-20T09:01:00.000Z',
    },
  ],
  details: [
    { name: 'account_email', value: 'ana@acme.example', messageId: 'm1' },
    { name: 'invoice_or_order_number', value: 'INV-2291', messageId: 'm2' },
  ],
};

describe('the briefing an agent reads', () => {
  async function handoff() {
    const d = await decide(state, 'm2', policy, false, context);
    if (d.kind !== 'handoff') throw new Error(`expected a handoff, got ${d.kind}`);
    return d;
  }

  it('given a VIP disputing an invoice on a billing page, carries every field the agent needs', async () => {
    const decision = await handoff();
    const b = buildBriefing(state, 'm2', decision, context, policy);

    expect(b.summaryGenerator).toBe('extractive');
    expect(b.transcript).toEqual([
      {
        speaker: Speaker.CUSTOMER,
        text: 'How do I download   last month’s invoice?',
        at: '2026-11-20T09:00:00.000Z',
      },
      {
        speaker: Speaker.AI,
        text: 'Open Billing > Invoices\nand click Download.',
        at: '2026-11-20T09:00:03.000Z',
      },
      {
        speaker: Speaker.CUSTOMER,
        text: "That didn't help. You charged us twice on INV-2291 and I dispute it.",
        at: '2026-11-20T09:01:00.000Z',
      },
    ]);
    expect(b.intent).toBe('billing');
    // What the AI said, on one line; the withheld request for details never reached the customer.
    expect(b.aiAttempts).toEqual(['Open Billing > Invoices and click Download.']);
    expect(b.articlesTried).toEqual(['kb-invoices', 'kb-refunds']);
    expect(b.customerId).toBe('cust-42');
    expect(b.accountId).toBe('acc-7');
    expect(b.channel).toBe('web');
    expect(b.pageUrl).toBe(pageUrl);
    expect(b.page).toEqual({ url: pageUrl, path: '/billing/invoices', area: 'billing' });
    expect(b.sentimentTrajectory).toEqual([0.2, -0.6]);
    expect(b.trajectory).toEqual({
      smoothed: -0.25,
      start: 0.2,
      change: -0.45,
      turnedAtMessageId: 'm2',
      shift: true,
      messages: 2,
    });
    expect(b.collectedDetails).toEqual(state.details);
    expect(b.missingDetails).toEqual(['payment_method']);
    expect(b.topic).toBe('refunds');
    expect(b.account).toBe(account);
    expect(b.accountLookup).toBe('found');
    expect(b.triggers?.map((t) => t.rule)).toEqual([
      'frustration',
      'sentiment_shift',
      'vip_account',
      'billing_dispute',
      'billing_page_struggle',
    ]);
    expect(b.triggers).toEqual(decision.triggers);
    expect(b.triggers?.find((t) => t.rule === 'billing_dispute')).toEqual(
      expect.objectContaining({ value: 1250, threshold: 500 }),
    );
    expect(b.priorityReasons?.map((t) => t.rule)).toEqual(['vip_priority', 'sla_priority']);
    expect(b.priority).toBe(Priority.HIGH);
    expect(b.language).toBe('en');
    expect(b.requiredSkills).toEqual(['billing']);
    expect(b.policyVersion).toBe(policy.version);
  });

  it('summarises why, who, what and how it went, one line each, in the order an agent reads', async () => {
    const b = buildBriefing(state, 'm2', await handoff(), context, policy);
    const lines = b.summary!.split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^Why: /),
      expect.stringMatching(/^Account: /),
      'Asked: "How do I download last month’s invoice?"',
      `Latest: "That didn't help. You charged us twice on INV-2291 and I dispute it."`,
      'About: billing, refunds; on page /billing/invoices (billing).',
      'AI tried 1 answer(s) from kb-invoices, kb-refunds.',
      'Known: account_email ana@acme.example, invoice_or_order_number INV-2291.',
      'Still needed: payment_method.',
      'Mood: 0.20 -> -0.25, turned negative at message 2.',
      'Priority high; needs billing; language en.',
    ]);
    const [why, who] = lines;
    // The reasons without the compared values, then what raised the priority.
    expect(why).toContain('the customer is frustrated');
    expect(why).toContain('the customer disputes a large charge');
    expect(why).toContain('the customer is stuck on a billing page');
    expect(why).toContain(
      'priority raised: VIP or enterprise account; the account has a support SLA',
    );
    expect(why).not.toMatch(/lessThan|greaterThan/);
    expect(who).toContain('Acme GmbH');
    expect(who).toContain('enterprise tier');
    expect(who).toContain('VIP');
    expect(who).toContain('EUR 4,800/month');
    expect(who).toContain('SLA premium (30 min first response)');
    expect(who).toContain('owner Maria Rossi');
    expect(who).toContain('disputed INV-2291 EUR 1,250');
    expect(who).toContain('open incident INC-88 (major): Invoice PDFs fail to generate');
    expect(who).not.toContain('INV-2301');
  });
});

describe('accountLine', () => {
  it('says when the CRM does not know the account or could not be asked', () => {
    expect(accountLine(undefined, 'unknown')).toBe('Account: not found in the CRM.');
    expect(accountLine(undefined, 'unavailable')).toBe(
      'Account: the CRM could not be reached; check it by hand.',
    );
  });

  it('says nothing when the conversation names no account', () => {
    expect(accountLine(undefined, 'none')).toBe('');
  });

  it('names an ordinary account plainly, without flags it does not have', () => {
    const line = accountLine(
      create(AccountSchema, {
        accountId: 'acc-1',
        tier: 'pro',
        openInvoices: [{ invoiceId: 'INV-1', amount: 10, currency: 'EUR', status: 'overdue' }],
      }),
      'found',
    );
    expect(line).toBe('Account: acc-1, pro tier. 1 overdue invoice(s).');
  });

  it('flags an account at risk', () => {
    expect(accountLine(create(AccountSchema, { name: 'Beta', atRisk: true }), 'found')).toBe(
      'Account: Beta, AT RISK.',
    );
  });
});

describe('the briefing without an account', () => {
  it.each([
    ['unknown', 'Account: not found in the CRM.'],
    ['unavailable', 'Account: the CRM could not be reached; check it by hand.'],
  ] as const)('given the lookup was %s, says so in the summary', async (lookup, line) => {
    const ctx: DecisionContext = { accountLookup: lookup, pageUrl: '' };
    const d = await decide(state, 'm2', policy, false, ctx);
    if (d.kind !== 'handoff') throw new Error('expected a handoff');
    const b = buildBriefing(state, 'm2', d, ctx, policy);
    expect(b.summary!.split('\n')[1]).toBe(line);
    expect(b.account).toBeUndefined();
    expect(b.accountLookup).toBe(lookup);
    expect(b.page).toEqual({ url: '', path: '', area: '' });
  });
});
