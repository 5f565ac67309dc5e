import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseImport } from './import';
import { PassageIndex, type IndexedPassage } from './passage-index';
import { splitArticle } from './passages';

const fixtures = join(__dirname, '../../../test/fixtures');
const defaults = { status: 'published' as const, locale: 'en' };

/** The fixture articles (3 from the HTML export, 2 Markdown files) as indexed passages. */
async function fixturePassages(): Promise<IndexedPassage[]> {
  const articles = [
    ...parseImport(
      'html',
      readFileSync(join(fixtures, 'help-center-export.html'), 'utf8'),
      defaults,
    ).articles,
    ...['customer-invoice-reminders.md', 'purchase-orders-beta.md'].flatMap(
      (name) =>
        parseImport('markdown', readFileSync(join(fixtures, 'markdown', name), 'utf8'), defaults)
          .articles,
    ),
  ];
  const out: IndexedPassage[] = [];
  for (const a of articles)
    for (const p of await splitArticle(a.body))
      out.push({
        id: `${a.id}#${p.ordinal}`,
        articleId: a.id,
        title: a.title,
        heading: p.heading,
        tags: a.tags,
        productAreas: a.productAreas,
        locale: a.locale,
        version: 1,
        text: p.text,
        body: a.body,
      });
  return out;
}

const passage = (over: Partial<IndexedPassage> & { id: string }): IndexedPassage => ({
  articleId: over.id,
  title: 'Untitled',
  heading: '',
  tags: [],
  productAreas: [],
  locale: 'en',
  version: 1,
  text: 'Nothing in particular.',
  body: 'Nothing in particular.',
  ...over,
});

describe('PassageIndex over the fixtures', () => {
  let index: PassageIndex;
  let passages: IndexedPassage[];
  beforeAll(async () => {
    passages = await fixturePassages();
    index = new PassageIndex(passages);
  });

  const top = (question: string) => index.search(question, 'en')[0]?.passage.id;

  it('holds every passage, all of them in English', () => {
    expect(index.size).toBe(passages.length);
    expect(index.all().map((p) => p.id)).toEqual(passages.map((p) => p.id));
    expect(index.has('en')).toBe(true);
    expect(index.has('fr')).toBe(false);
    expect(index.passage('vendor-bills#0')?.title).toBe('Recording and paying vendor bills');
    expect(index.passage('nope')).toBeUndefined();
  });

  it.each([
    ['When will I get my money back for expenses I paid myself?', 'employee-reimbursements#1'],
    [
      'How do I stop sending reminders for an invoice a customer disputes?',
      'customer-invoice-reminders#1',
    ],
    ['can I delete a category that is already used', 'expense-categories#1'],
    ['our supplier bills should be paid on schedule', 'vendor-bills#1'],
    ['match a supplier bill against a purchase order', 'purchase-orders-beta#0'],
    ['what if the bill amount differs a little from the order', 'purchase-orders-beta#1'],
  ])('ranks the right passage first for the paraphrase %j', (question, expected) => {
    expect(top(question)).toBe(expected);
  });

  it('returns hits best first with positive scores', () => {
    const hits = index.search('reimbursement payout run', 'en');
    expect(hits.length).toBeGreaterThan(1);
    expect(hits.every((h) => h.score > 0)).toBe(true);
    const scores = hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(hits[0].passage.articleId).toBe('employee-reimbursements');
  });

  it('meets word forms through stemming: "invoices" and "invoice" find the same passages', () => {
    const plural = index.search('invoices', 'en');
    const singular = index.search('invoice', 'en');
    expect(plural.length).toBeGreaterThan(0);
    expect(plural.map((h) => h.passage.id)).toEqual(singular.map((h) => h.passage.id));
    expect(plural.map((h) => h.score)).toEqual(singular.map((h) => h.score));
    expect(plural.every((h) => h.passage.articleId === 'customer-invoice-reminders')).toBe(true);
  });

  it('tolerates a typo in a long word', () => {
    const hits = index.search('reimbursment', 'en');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.passage.articleId === 'employee-reimbursements')).toBe(true);
  });

  it('finds nothing for a language it has no articles in', () => {
    expect(index.search('invoices', 'fr')).toEqual([]);
    expect(index.search('reminders', 'de')).toEqual([]);
  });

  it('finds nothing for a question of stop words only', () => {
    expect(index.search('how do I do it?', 'en')).toEqual([]);
  });

  it('honours the limit', () => {
    expect(index.search('bills expenses invoices', 'en', 2)).toHaveLength(2);
  });
});

describe('PassageIndex weighting', () => {
  it('ranks a title match above the same word in the text', () => {
    const index = new PassageIndex([
      passage({ id: 'in-text', title: 'Notifications', text: 'Webhooks send events to you.' }),
      passage({ id: 'in-title', title: 'Webhooks', text: 'Notifications send events to you.' }),
    ]);
    expect(index.search('webhooks', 'en').map((h) => h.passage.id)).toEqual([
      'in-title',
      'in-text',
    ]);
  });

  it('ranks a heading match above the same word in the text', () => {
    const index = new PassageIndex([
      passage({ id: 'in-text', heading: 'Limits', text: 'Quotas apply per workspace.' }),
      passage({ id: 'in-heading', heading: 'Quotas', text: 'Limits apply per workspace.' }),
    ]);
    expect(index.search('quotas', 'en')[0].passage.id).toBe('in-heading');
  });

  it('searches tags with "_" and "-" as word breaks', () => {
    const index = new PassageIndex([
      passage({ id: 'tagged', tags: ['purchase_orders', 'two-factor'] }),
      passage({ id: 'other' }),
    ]);
    expect(index.search('orders', 'en').map((h) => h.passage.id)).toEqual(['tagged']);
    expect(index.search('factor', 'en').map((h) => h.passage.id)).toEqual(['tagged']);
  });

  it('searches the plain text, not Markdown link targets', () => {
    const index = new PassageIndex([
      passage({ id: 'linked', text: 'See [the guide](https://x.example/zebrafish).' }),
    ]);
    expect(index.search('guide', 'en')).toHaveLength(1);
    expect(index.search('zebrafish', 'en')).toEqual([]);
  });

  it('does not tolerate a typo in a short word', () => {
    const index = new PassageIndex([
      passage({ id: 'bills', title: 'Bills', text: 'About bills.' }),
    ]);
    expect(index.search('bill', 'en')).toHaveLength(1);
    expect(index.search('bils', 'en')).toEqual([]);
  });

  it('keeps one index per language, by the language of each locale', () => {
    const index = new PassageIndex([
      passage({ id: 'en', title: 'Password', text: 'Reset your password.' }),
      passage({
        id: 'fr',
        locale: 'fr-CA',
        title: 'Mot de passe',
        text: 'Réinitialisez votre mot de passe.',
      }),
      passage({
        id: 'de',
        locale: 'de',
        title: 'Passwort',
        text: 'Setzen Sie Ihr Passwort zurück.',
      }),
    ]);
    expect(index.has('fr')).toBe(true);
    expect(index.has('de')).toBe(true);
    expect(index.search('mot de passe', 'fr').map((h) => h.passage.id)).toEqual(['fr']);
    expect(index.search('mot de passe', 'en')).toEqual([]);
    expect(index.search('password', 'fr')).toEqual([]);
    expect(index.search('Passwort', 'de').map((h) => h.passage.id)).toEqual(['de']);
  });

  it('matches other languages on lower-cased words, keeping their short words', () => {
    const index = new PassageIndex([
      passage({ id: 'fr', locale: 'fr', text: 'La facture est envoyée le 1er du mois.' }),
    ]);
    expect(index.search('LA FACTURE', 'fr')).toHaveLength(1);
    expect(index.search('le', 'fr')).toHaveLength(1);
  });

  it('given no passages, when searched, then nothing is found', () => {
    const index = new PassageIndex([]);
    expect(index.size).toBe(0);
    expect(index.has('en')).toBe(false);
    expect(index.search('anything', 'en')).toEqual([]);
  });
});
