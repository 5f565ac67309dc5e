import { AccountSchema, create, type Account } from '@support/contracts';
import { initialState, type ConversationState, type DetailView } from '@support/conversation';
import { disputeAmount, pagePath } from './context';

const invoice = (invoiceId: string, amount: number, status = 'open') => ({
  invoiceId,
  amount,
  currency: 'EUR',
  status,
  dueDate: '2026-11-30',
});

/** An account with one open invoice of €1,250 and two the CRM already marks disputed (€300 + €200). */
const account: Account = create(AccountSchema, {
  accountId: 'acc-7',
  name: 'Acme GmbH',
  currency: 'EUR',
  openInvoices: [
    invoice('INV-2291', 1250),
    invoice('INV-2270', 300, 'disputed'),
    invoice('INV-2265', 200, 'DISPUTED'),
  ],
});

/** The amount disputed in one customer message, with the account and the details collected so far. */
function disputed(text: string, acct: Account | undefined, details: DetailView[] = []) {
  const message = { messageId: 'm1', text, at: 't1' };
  const state: ConversationState = { ...initialState('c1'), messages: [message], details };
  return disputeAmount(state, message, acct);
}

describe('pagePath', () => {
  it('keeps only the path of the page URL, without query or fragment', () => {
    expect(pagePath('https://app.example.com/billing/invoices?tab=open#latest')).toBe(
      '/billing/invoices',
    );
    expect(pagePath('https://app.example.com')).toBe('/');
  });

  it('gives no path for a missing or unparsable URL', () => {
    expect(pagePath('')).toBe('');
    expect(pagePath('not a url')).toBe('');
    // Some channels send only the path.
    expect(pagePath('/account/cancel?step=2')).toBe('/account/cancel');
  });
});

describe('disputeAmount', () => {
  it('is 0 when the customer disputes nothing, even if they name an invoice and an amount', () => {
    expect(disputed('How do I download INV-2291 for €1,250?', account)).toBe(0);
    expect(disputed('Where can I see my invoices?', account)).toBe(0);
  });

  it('given the customer names an open invoice of the account, is that invoice’s amount', () => {
    expect(disputed('I dispute INV-2291, you also charged €99 extra', account)).toBe(1250);
  });

  it('recognises the invoice whatever the case the customer typed it in', () => {
    expect(disputed('i dispute inv-2291, it is wrong', account)).toBe(1250);
  });

  it('given the invoice number the AI collected earlier, is that invoice’s amount', () => {
    const details = [{ name: 'invoice_or_order_number', value: 'inv-2291', messageId: 'm0' }];
    expect(disputed('You charged me twice for it!', account, details)).toBe(1250);
  });

  it('given an invoice the account does not have, is the largest amount the customer wrote', () => {
    expect(disputed('I dispute INV-9999: €49.99 and then €1,250.00 were taken', account)).toBe(
      1250,
    );
  });

  it('given no account, is the largest amount the customer wrote', () => {
    expect(disputed('Overcharged: $120, then $80', undefined)).toBe(120);
  });

  it('given no invoice and no amount, falls back to the invoices the CRM marks disputed', () => {
    expect(disputed('I want my money back', account)).toBe(500);
  });

  it('is 0 when there is neither an invoice, an amount nor a disputed invoice to go by', () => {
    expect(disputed('I want my money back', undefined)).toBe(0);
    expect(
      disputed(
        'I want my money back',
        create(AccountSchema, { accountId: 'a', openInvoices: [invoice('INV-1', 80)] }),
      ),
    ).toBe(0);
  });

  it.each([
    ['German', 'Mir wurden 89 € doppelt abgebucht', 89],
    ['German', 'Falsche Rechnung, ich will eine Rückerstattung von 1.234,50 €', 1234.5],
    ['French', 'Je demande le remboursement de 120 EUR', 120],
    ['French', 'On m’a prélevé deux fois 60 €', 60],
    ['French', 'Facture erronée : 75 € en trop', 75],
    ['Spanish', 'Me han cobrado dos veces 45 euros', 45],
    ['Italian', 'Mi avete addebitato due volte 30 €', 30],
    ['Dutch', 'Er is €25 dubbel afgeschreven', 25],
  ])('hears a dispute in %s: "%s"', (_language, text, amount) => {
    expect(disputed(text, undefined)).toBe(amount);
  });

  it.each([
    [
      'a duplicate charge in pounds, shorthand',
      'Duplicate charge of £3k on our card, please fix',
      3000,
    ],
    ['billed two times, in rupees', 'We were billed two times: ₹12,000 each', 12000],
    ['an objection to a charge', 'I was charged USD 1,200 but we are on the free plan', 1200],
    ['a refund with grouping by spaces', 'Remboursez-moi 1 200,50 € svp', 1200.5],
    ['a double charge in Brazilian reais', 'Fui cobrado duas vezes, R$ 3.000 no total', 3000],
    ['a German double debit', 'Sie haben 2.5k USD doppelt abgebucht', 2500],
  ])('given no account, reads %s: "%s"', (_case, text, amount) => {
    expect(disputed(text, undefined)).toBe(amount);
  });

  it('given a dispute worded in the message before, takes the amount the follow-up names', () => {
    const first = { messageId: 'm1', text: 'You charged us twice this month!', at: 't1' };
    const second = { messageId: 'm2', text: 'It was $2,350.00 each time.', at: 't2' };
    const state: ConversationState = { ...initialState('c1'), messages: [first, second] };
    expect(disputeAmount(state, second, undefined)).toBe(2350);
    // Only the message right after the dispute follows it up.
    const third = { messageId: 'm3', text: 'Also, is the €900 plan monthly?', at: 't3' };
    const later = { ...state, messages: [first, second, third] };
    expect(disputeAmount(later, third, undefined)).toBe(0);
    // A follow-up with no amount does not fall back to the CRM's disputed invoices.
    const thanks = { ...second, text: 'Thanks, waiting for news.' };
    expect(disputeAmount({ ...state, messages: [first, thanks] }, thanks, account)).toBe(0);
  });
});
