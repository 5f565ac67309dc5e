import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseImport } from './import';
import { DEFAULT_SPLIT, plainText, splitArticle } from './passages';

const fixtures = join(__dirname, '../../../test/fixtures');
const defaults = { status: 'published' as const, locale: 'en' };
const bodyOf = (name: string) =>
  parseImport('markdown', readFileSync(join(fixtures, 'markdown', name), 'utf8'), defaults)
    .articles[0].body;

describe('splitArticle', () => {
  it('given the reminders article, when split, then each passage is tagged with the heading it sits under and those inside it', async () => {
    const passages = await splitArticle(bodyOf('customer-invoice-reminders.md'));

    expect(passages.map((p) => [p.ordinal, p.heading])).toEqual([
      [0, 'Turn on reminders'],
      [1, 'Edit the reminder text / Pause reminders for one invoice'],
      [2, 'Good to know'],
    ]);
    expect(passages[0].text.startsWith('Ledgerly can chase unpaid invoices for you.')).toBe(true);
    expect(passages[1].text.startsWith('## Edit the reminder text')).toBe(true);
    expect(passages[2].text).toContain('Reminders are not sent for invoices marked as **Void**');
  });

  it('given a passage that holds a whole procedure, when split, then the steps and their table stay together', async () => {
    const passages = await splitArticle(bodyOf('customer-invoice-reminders.md'));
    const steps = passages.find((p) => p.text.includes('Switch on **Automatic reminders**'));
    expect(steps?.text).toContain('1. As the owner');
    expect(steps?.text).toContain('| Final reminder | 14 days after the due date |');
    expect(steps?.text).toContain('4. Click **Save**.');
  });

  it('given an article, when split, then every passage is a trimmed part of it, in order, within the size', async () => {
    for (const name of ['customer-invoice-reminders.md', 'purchase-orders-beta.md']) {
      const body = bodyOf(name);
      const passages = await splitArticle(body);
      expect(passages.length).toBeGreaterThan(1);
      let last = -1;
      for (const p of passages) {
        expect(p.text).toBe(p.text.trim());
        expect(p.text.length).toBeGreaterThan(0);
        expect(p.text.length).toBeLessThanOrEqual(DEFAULT_SPLIT.chunkSize);
        const at = body.indexOf(p.text);
        expect(at).toBeGreaterThan(last);
        last = at;
      }
      expect(passages.map((p) => p.ordinal)).toEqual(passages.map((_, i) => i));
    }
  });

  it('given a long article with several sections, when split, then it gives one passage per section in order', async () => {
    const body = [1, 2, 3, 4, 5, 6]
      .map(
        (n) => `## Section ${n}\n\n${`Sentence number ${n} of this section. `.repeat(15).trim()}`,
      )
      .join('\n\n');
    const passages = await splitArticle(body);

    expect(passages.map((p) => p.heading)).toEqual([
      'Section 1',
      'Section 2',
      'Section 3',
      'Section 4',
      'Section 5',
      'Section 6',
    ]);
    passages.forEach((p, i) => expect(p.text).toContain(`Sentence number ${i + 1} of`));
  });

  it('given a long section without headings, when split small, then its parts keep order and the section heading', async () => {
    const sentences = Array.from(
      { length: 12 },
      (_, i) => `Step ${i + 1} explains one more thing.`,
    );
    const body = `# Guide\n\n${sentences.join(' ')}`;
    const passages = await splitArticle(body, { chunkSize: 120, chunkOverlap: 0 });

    expect(passages.length).toBeGreaterThanOrEqual(3);
    expect(passages.every((p) => p.text.length <= 120)).toBe(true);
    expect(passages.slice(1).every((p) => p.heading === 'Guide')).toBe(true);
    const joined = passages.map((p) => p.text).join(' ');
    const order = sentences.map((s) => joined.indexOf(s));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('given text before the first heading, when split, then it has no heading and what follows has its own', async () => {
    const passages = await splitArticle(
      'Intro line number one is long enough.\n\n### Limits ###\n\nAt most 10 per day.',
      { chunkSize: 40, chunkOverlap: 0 },
    );
    expect(passages).toEqual([
      { ordinal: 0, heading: '', text: 'Intro line number one is long enough.' },
      { ordinal: 1, heading: 'Limits', text: '### Limits ###\n\nAt most 10 per day.' },
    ]);
  });

  it('given the purchase-orders article, when split, then the preamble has no heading', async () => {
    const passages = await splitArticle(bodyOf('purchase-orders-beta.md'));
    expect(passages.map((p) => p.heading)).toEqual([
      '',
      'Planned workflow / Matching tolerance',
      'Availability',
    ]);
  });

  it('given an empty body, when split, then there are no passages', async () => {
    expect(await splitArticle('   \n\n ')).toEqual([]);
  });
});

describe('plainText', () => {
  it('given headings, when made plain, then they lose their marks, end with ":" and keep their own line', () => {
    const out = plainText('# Title\n\n## Sub ##\n\nText under it');
    expect(out.split(/\n+/)).toEqual(['Title:', 'Sub:', 'Text under it']);
    expect(out).not.toContain('#');
  });

  it('given emphasis, code and links, when made plain, then only their text remains', () => {
    expect(
      plainText(
        'Click **Save**, then __Done__, *really* _now_, run `npm test`, see [the guide](https://x.example/g) and ![a chart](c.png).',
      ),
    ).toBe('Click Save, then Done, really now, run npm test, see the guide and a chart.');
  });

  it('given identifiers with underscores, when made plain, then they are left alone', () => {
    expect(plainText('Use {customer_name} and snake_case_words.')).toBe(
      'Use {customer_name} and snake_case_words.',
    );
  });

  it('given code fences, when made plain, then the fences go and the code stays', () => {
    expect(plainText('Run:\n\n```bash\nnpm ci\n```\n')).toBe('Run:\n\nnpm ci');
  });

  it('given list markers, when made plain, then every bullet is "- "', () => {
    expect(plainText('* one\n+ two\n  - three')).toBe('- one\n- two\n- three');
  });

  it('given a Markdown table, when made plain, then the separator row is dropped and blank runs collapse', () => {
    const out = plainText('| A | B |\n| --- | :---: |\n| 1 | 2 |\n\n\n\nEnd');
    expect(out).not.toContain('---');
    expect(out).toContain('| A | B |');
    expect(out).toContain('| 1 | 2 |');
    expect(out).not.toMatch(/\n{3,}/);
  });
});
