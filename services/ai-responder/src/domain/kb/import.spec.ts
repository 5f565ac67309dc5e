import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  formatOfContentType,
  parseHtml,
  parseImport,
  parseJson,
  parseMarkdown,
  type ImportDefaults,
} from './import';

const fixtures = join(__dirname, '../../../test/fixtures');
const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8');
const defaults: ImportDefaults = { status: 'published', locale: 'en' };

const article = (over: Record<string, unknown> = {}) => ({
  id: 'reset-password',
  title: 'Resetting your password',
  body: 'Click **Forgot password**.',
  ...over,
});

describe('formatOfContentType', () => {
  it.each([
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['  Text/Markdown ', 'markdown'],
    ['text/x-markdown', 'markdown'],
    ['text/html;charset=UTF-8', 'html'],
  ])('maps %j to %s', (type, format) => {
    expect(formatOfContentType(type)).toBe(format);
  });

  it.each([['text/plain'], ['application/xml'], [''], [undefined]])(
    'names no format for %j',
    (type) => {
      expect(formatOfContentType(type)).toBeUndefined();
    },
  );
});

describe('JSON import', () => {
  it('given an array of articles, when parsed, then each is valid, tagged json and given the defaults', () => {
    const result = parseImport(
      'json',
      [article(), article({ id: 'two', title: 'Two', tags: ['a'], status: 'draft', locale: 'fr' })],
      { status: 'draft', locale: 'de' },
    );

    expect(result.issues).toEqual([]);
    expect(result.articles).toEqual([
      {
        ...article(),
        tags: [],
        productAreas: [],
        pages: [],
        locale: 'de',
        status: 'draft',
        source: 'json',
      },
      {
        ...article({ id: 'two', title: 'Two' }),
        tags: ['a'],
        productAreas: [],
        pages: [],
        locale: 'fr',
        status: 'draft',
        source: 'json',
      },
    ]);
  });

  it('given { articles: [...] }, when parsed, then the articles are read from it', () => {
    const result = parseImport('json', { articles: [article()] }, defaults);
    expect(result.issues).toEqual([]);
    expect(result.articles.map((a) => a.id)).toEqual(['reset-password']);
  });

  it('given an invalid second article, when parsed, then the issue names articles[1] and its field', () => {
    const result = parseImport('json', [article(), article({ id: 'b', title: '  ' })], defaults);
    expect(result.issues).toEqual([
      { field: 'articles[1].title', rule: 'too_small', message: 'must not be empty' },
    ]);
  });

  it('given unknown fields, when parsed, then each is named with its article', () => {
    const result = parseImport('json', { articles: [article({ author: 'x' })] }, defaults);
    expect(result.issues).toEqual([
      { field: 'articles[0].author', rule: 'unknown_field', message: 'unknown field: author' },
    ]);
  });

  it('given an entry that is not an object, when parsed, then it is named', () => {
    const result = parseImport('json', [article(), 'oops'], defaults);
    expect(result.issues).toEqual([
      expect.objectContaining({ field: 'articles[1]', rule: 'invalid_type' }),
    ]);
  });

  it('given the same id twice, when parsed, then the later one is named as a duplicate', () => {
    const result = parseImport(
      'json',
      [article({ id: 'a' }), article({ id: 'b' }), article({ id: 'a', title: 'Again' })],
      defaults,
    );
    expect(result.issues).toEqual([
      {
        field: 'articles[2].id',
        rule: 'unique',
        message: '"a" appears more than once in this import (first at articles[0])',
      },
    ]);
  });

  it.each([
    ['an empty array', [], 'articles', 'too_small'],
    ['{ articles: [] }', { articles: [] }, 'articles', 'too_small'],
    ['articles that are not an array', { articles: 'x' }, 'articles', 'invalid_type'],
    ['an object of neither shape', { pages: [] }, '(body)', 'invalid_type'],
    ['a string', 'text', '(body)', 'invalid_type'],
    ['null', null, '(body)', 'invalid_type'],
    ['empty files', { files: [] }, 'files', 'invalid_type'],
    ['files that are not an array', { files: {} }, 'files', 'invalid_type'],
  ])(
    'given %s, when parsed, then nothing is imported and the issue names %s',
    (_what, body, field, rule) => {
      const result = parseImport('json', body, defaults);
      expect(result.articles).toEqual([]);
      expect(result.issues).toEqual([expect.objectContaining({ field, rule })]);
    },
  );
});

describe('JSON import of files', () => {
  it('given Markdown, HTML and JSON files, when parsed, then each is read in the format its name says', () => {
    const result = parseJson(
      {
        files: [
          { name: 'reset.md', content: '# Reset your password\n\nOpen the sign-in page.' },
          {
            name: 'cards.HTML',
            content: '<article data-id="cards"><h1>Cards</h1><p>Issue a card.</p></article>',
          },
          { name: 'more.json', content: JSON.stringify([article({ id: 'from-json' })]) },
        ],
      },
      defaults,
    );

    expect(result.issues).toEqual([]);
    expect(result.articles.map((a) => [a.id, a.source])).toEqual([
      ['reset-your-password', 'markdown'],
      ['cards', 'html'],
      ['from-json', 'json'],
    ]);
  });

  it('given an explicit format, when the name says nothing, then the format decides', () => {
    const result = parseJson(
      { files: [{ name: 'notes.txt', format: 'markdown', content: '# Notes\n\nSome notes.' }] },
      defaults,
    );
    expect(result.articles).toEqual([
      expect.objectContaining({ id: 'notes', body: 'Some notes.' }),
    ]);
  });

  it('given files with problems, when parsed, then each issue names its file and field', () => {
    const result = parseJson(
      {
        files: [
          { name: 'empty.md', content: '   ' },
          { name: 'no-content.md' },
          { name: 'readme.txt', content: 'hello' },
          { name: 'broken.json', content: '{ not json' },
          { name: 'bad.json', content: JSON.stringify([article({ id: 'Bad Id' })]) },
          { name: 'untitled.md', content: 'A body without a title.' },
        ],
      },
      defaults,
    );

    expect(result.articles).toEqual([]);
    expect(result.issues.map((i) => [i.field, i.rule])).toEqual([
      ['files[0].content', 'required'],
      ['files[1].content', 'required'],
      ['files[2].format', 'enum'],
      ['files[3].content', 'json'],
      ['files[4].articles[0].id', 'invalid_format'],
      ['files[5].id', 'invalid_type'],
      ['files[5].title', 'invalid_type'],
    ]);
  });

  it('given a null entry in files, when parsed, then it is named instead of crashing', () => {
    const result = parseJson({ files: [null] }, defaults);
    expect(result.issues).toEqual([expect.objectContaining({ field: 'files[0].content' })]);
  });
});

describe('Markdown import', () => {
  it('given the reminders fixture, when parsed, then its front matter gives id, title, tags, locale, areas and status', () => {
    const result = parseImport(
      'markdown',
      fixture('markdown/customer-invoice-reminders.md'),
      defaults,
    );

    expect(result.issues).toEqual([]);
    expect(result.articles).toHaveLength(1);
    const [a] = result.articles;
    expect(a).toMatchObject({
      id: 'customer-invoice-reminders',
      title: 'Automatic payment reminders for your customer invoices',
      tags: ['invoice_reminders', 'invoicing', 'accounts_receivable'],
      locale: 'en',
      productAreas: ['invoices'],
      status: 'published',
      source: 'markdown',
    });
    expect(a.body.startsWith('Ledgerly can chase unpaid invoices for you.')).toBe(true);
    expect(a.body).not.toMatch(/^(---|id:|status:)/m);
    expect(a.body).toContain('## Turn on reminders');
    expect(a.body).toContain('| First reminder | 1 day after the due date |');
  });

  it('given the purchase-orders fixture, when parsed with published as default, then its draft status wins', () => {
    const result = parseImport('markdown', fixture('markdown/purchase-orders-beta.md'), defaults);
    expect(result.issues).toEqual([]);
    expect(result.articles[0]).toMatchObject({
      id: 'purchase-orders-beta',
      title: 'Purchase orders (beta)',
      status: 'draft',
      tags: ['purchase_orders', 'beta', 'bills'],
      productAreas: ['bills'],
    });
  });

  it('given no front matter, when parsed, then the first "# " heading is the title and its slug the id', () => {
    const result = parseImport(
      'markdown',
      'Intro text.\n\n# Resetting your password!\n\nOpen the sign-in page.\n\n# Another heading',
      { status: 'draft', locale: 'fr' },
    );
    expect(result.issues).toEqual([]);
    expect(result.articles[0]).toMatchObject({
      id: 'resetting-your-password',
      title: 'Resetting your password!',
      status: 'draft',
      locale: 'fr',
    });
    // Only the first "# " heading is taken out of the body.
    const { body } = result.articles[0];
    expect(body).not.toContain('Resetting your password');
    expect(body.replace(/\n{3,}/g, '\n\n')).toBe(
      'Intro text.\n\nOpen the sign-in page.\n\n# Another heading',
    );
  });

  it('given a front-matter title, when the body has a heading, then the front matter wins and the heading stays', () => {
    const md = '---\ntitle: From front matter\n---\n# Body heading\n\nText.';
    const [a] = parseMarkdown(md, '(body)', defaults).articles;
    expect(a).toMatchObject({ id: 'from-front-matter', title: 'From front matter' });
    expect(a.body).toBe('# Body heading\n\nText.');
  });

  it('given comma-separated tags and product_areas, when parsed, then they become trimmed lists', () => {
    const md =
      '---\ntags: billing, invoices ,, pdf\nproduct_areas: invoices,  bills\n---\n# T\n\nBody.';
    const result = parseImport('markdown', md, defaults);
    expect(result.issues).toEqual([]);
    expect(result.articles[0]).toMatchObject({
      tags: ['billing', 'invoices', 'pdf'],
      productAreas: ['invoices', 'bills'],
    });
  });

  it('given an unknown front-matter field, when parsed, then it is named', () => {
    const result = parseImport('markdown', '---\nauthor: me\n---\n# T\n\nBody.', defaults);
    expect(result.articles).toEqual([]);
    expect(result.issues).toEqual([
      { field: '(body).author', rule: 'unknown_field', message: 'unknown field: author' },
    ]);
  });

  it('given a front-matter id that is not a slug, when parsed, then the id is named', () => {
    const result = parseImport('markdown', '---\nid: Not A Slug\n---\n# T\n\nBody.', defaults);
    expect(result.issues).toEqual([
      expect.objectContaining({ field: '(body).id', rule: 'invalid_format' }),
    ]);
  });

  it('given invalid YAML, when parsed, then a front_matter issue is returned', () => {
    const result = parseImport('markdown', '---\ntitle: [unclosed\n---\nBody', defaults);
    expect(result.articles).toEqual([]);
    expect(result.issues).toEqual([
      expect.objectContaining({
        field: '(body)',
        rule: 'front_matter',
        message: expect.stringMatching(/^front matter is not valid YAML/),
      }),
    ]);
  });

  it('given no title anywhere, when parsed, then id and title are named', () => {
    const result = parseImport('markdown', 'Just some text.', defaults);
    expect(result.issues.map((i) => i.field).sort()).toEqual(['(body).id', '(body).title']);
  });

  it.each([[''], ['  \n '], [42]])(
    'given an empty or non-text body %j, when parsed, then the body is required',
    (body) => {
      expect(parseImport('markdown', body, defaults)).toEqual({
        articles: [],
        where: [],
        issues: [{ field: '(body)', rule: 'required', message: 'must be a markdown document' }],
      });
    },
  );

  it('given the same text twice, when parsed, then the results do not share data', () => {
    const md = '---\ntags: [a]\n---\n# T\n\nBody.';
    const first = parseMarkdown(md, 'x', defaults).articles[0];
    first.tags.push('mutated');
    expect(parseMarkdown(md, 'x', defaults).articles[0].tags).toEqual(['a']);
  });
});

describe('help-center HTML import', () => {
  const html = fixture('help-center-export.html');
  const result = parseImport('html', html, defaults);

  it('given the export, when parsed, then each <article> is one article in order', () => {
    expect(result.issues).toEqual([]);
    expect(result.articles.map((a) => [a.id, a.title])).toEqual([
      ['expense-categories', 'Managing expense categories'],
      ['employee-reimbursements', 'Reimbursing employees for out-of-pocket expenses'],
      ['vendor-bills', 'Recording and paying vendor bills'],
    ]);
  });

  it('given data attributes, when parsed, then they give locale, tags and product areas', () => {
    expect(result.articles.map((a) => [a.locale, a.tags, a.productAreas, a.source])).toEqual([
      ['en', ['expense_categories', 'expenses', 'accounting'], ['expenses'], 'html'],
      ['en', ['reimbursements', 'expenses', 'payouts'], ['expenses'], 'html'],
      ['en', ['bills', 'accounts_payable', 'vendors'], ['bills'], 'html'],
    ]);
    expect(result.articles.every((a) => a.status === 'published')).toBe(true);
  });

  it('given an article body, when parsed, then it becomes Markdown without the <h1> title', () => {
    const [categories] = result.articles;
    expect(categories.body.startsWith('Expense categories describe what money was spent on')).toBe(
      true,
    );
    expect(categories.body).not.toContain('Managing expense categories');
    expect(categories.body).toContain('## Add or edit a category');
    expect(categories.body).toMatch(/^1\.\s+As the owner or an admin, go to \*\*Settings/m);
    expect(categories.body).toMatch(/^4\.\s+Click \*\*Save\*\*\./m);
    expect(categories.body).toContain('_Travel_');
    expect(categories.body).toContain('`6420`');
    expect(categories.body).toContain(
      '[Connecting QuickBooks Online or Xero and mapping categories](https://help.ledgerly.example/articles/accounting-sync-setup)',
    );
    expect(result.articles[1].body).toMatch(/^-\s+Approved expenses are collected/m);
    expect(categories.body).not.toMatch(/<[a-z]+[ >]/i);
  });

  it('given page chrome and scripts, when parsed, then none of it reaches an article', () => {
    for (const a of result.articles) {
      for (const chrome of [
        'Ledgerly Help Center',
        'Search the help center',
        'Getting started',
        'Popular articles',
        'All rights reserved',
        'System status',
        'window.helpCenter',
        'querySelectorAll',
        'font-family',
        'Export',
      ])
        expect(a.body).not.toContain(chrome);
    }
  });

  it('given a page without <article>, when parsed, then <main> is one article titled by its <h1> and in the page language', () => {
    const page = `<html lang="fr"><head><title>Centre d'aide</title><script>track()</script></head>
      <body><header><nav>Accueil · Factures</nav></header>
      <main><h1>Réinitialiser le mot de passe</h1><p>Cliquez sur <strong>Mot de passe oublié</strong>.</p></main>
      <footer>© Ledgerly</footer></body></html>`;
    const parsed = parseImport('html', page, defaults);

    expect(parsed.issues).toEqual([]);
    expect(parsed.articles).toEqual([
      {
        id: 'reinitialiser-le-mot-de-passe',
        title: 'Réinitialiser le mot de passe',
        body: 'Cliquez sur **Mot de passe oublié**.',
        tags: [],
        productAreas: [],
        pages: [],
        locale: 'fr',
        status: 'published',
        source: 'html',
      },
    ]);
  });

  it('given a page without <article>, <main> or <h1>, when parsed, then the body is the article and <title> its title', () => {
    const page =
      '<html><head><title>Rate limits</title></head><body><nav>Menu</nav><p>100 requests per minute.</p><footer>foot</footer></body></html>';
    const parsed = parseHtml(page, 'files[0]', { status: 'draft', locale: 'de' });
    expect(parsed.issues).toEqual([]);
    expect(parsed.articles[0]).toMatchObject({
      id: 'rate-limits',
      title: 'Rate limits',
      body: '100 requests per minute.',
      locale: 'de',
      status: 'draft',
    });
  });

  it('given scripts, styles and embeds inside an article, when parsed, then they are dropped', () => {
    const parsed = parseHtml(
      `<article data-id="x"><h1>Title</h1><div class="article-body">
        <p>Real text.</p><script>trackEvent('view')</script><style>.x { color: red }</style>
        <noscript>Enable JavaScript</noscript><iframe src="https://video.example"></iframe>
        <template><p>Hidden template</p></template><aside>Related links</aside>
      </div></article>`,
      '(body)',
      defaults,
    );
    expect(parsed.articles[0].body).toBe('Real text.');
  });

  it('given an article without .article-body, when parsed, then the article element is the body', () => {
    const parsed = parseHtml(
      '<article data-id="x" data-status="draft" lang="es"><h1>Título</h1><p>Texto.</p></article>',
      '(body)',
      defaults,
    );
    expect(parsed.articles[0]).toMatchObject({
      id: 'x',
      title: 'Título',
      body: 'Texto.',
      locale: 'es',
      status: 'draft',
    });
  });

  it('given several articles of which one has no title, when parsed, then the issue names that article', () => {
    const parsed = parseImport(
      'html',
      '<article data-id="a"><p>No title here.</p></article><article><h1>Fine</h1><p>Body.</p></article>',
      defaults,
    );
    expect(parsed.articles.map((a) => a.id)).toEqual(['fine']);
    expect(parsed.issues).toEqual([
      expect.objectContaining({ field: '(body).article[0].title', rule: 'invalid_type' }),
    ]);
  });

  it('given two articles with the same data-id, when parsed, then the duplicate is an issue', () => {
    const parsed = parseImport(
      'html',
      '<article data-id="a"><h1>One</h1><p>x</p></article><article data-id="a"><h1>Two</h1><p>y</p></article>',
      defaults,
    );
    expect(parsed.issues).toEqual([
      expect.objectContaining({ field: '(body).article[1].id', rule: 'unique' }),
    ]);
  });

  it('given an empty HTML body, when parsed, then the body is required', () => {
    expect(parseImport('html', ' ', defaults).issues).toEqual([
      { field: '(body)', rule: 'required', message: 'must be a html document' },
    ]);
  });
});

describe('the pages an article applies to', () => {
  it('given pages in JSON, Markdown front matter (a list or commas) and HTML data-pages, when parsed, then each article carries them', () => {
    const json = parseImport(
      'json',
      [article({ pages: ['/billing/*', 'https://app.example.com/settings/security'] })],
      defaults,
    );
    const listed = parseImport(
      'markdown',
      '---\nid: a\ntitle: A\npages:\n  - /billing/*\n  - https://app.example.com/settings/security\n---\nBody.',
      defaults,
    );
    const commas = parseImport(
      'markdown',
      '---\nid: a\ntitle: A\npages: /billing/*, https://app.example.com/settings/security\n---\nBody.',
      defaults,
    );
    const html = parseImport(
      'html',
      '<article data-id="a" data-pages="/billing/*, https://app.example.com/settings/security"><h1>A</h1><p>Body.</p></article>',
      defaults,
    );
    for (const parsed of [json, listed, commas, html]) {
      expect(parsed.issues).toEqual([]);
      expect(parsed.articles[0]?.pages).toEqual([
        '/billing/*',
        'https://app.example.com/settings/security',
      ]);
    }
  });

  it('given a page that is neither a path nor an http(s) URL, when parsed, then the issue names the article and the entry', () => {
    expect(
      parseImport(
        'json',
        { articles: [article(), article({ id: 'b', pages: ['/ok', 'billing'] })] },
        defaults,
      ).issues,
    ).toEqual([
      expect.objectContaining({
        field: 'articles[1].pages[1]',
        message: expect.stringContaining('must be a path starting with "/"'),
      }),
    ]);
    expect(
      parseImport(
        'markdown',
        '---\nid: a\ntitle: A\npages: javascript:alert(1)\n---\nBody.',
        defaults,
      ).issues,
    ).toEqual([expect.objectContaining({ field: '(body).pages[0]' })]);
    expect(
      parseImport(
        'html',
        '<article data-id="a" data-pages="ftp://x/y"><h1>A</h1><p>B</p></article>',
        defaults,
      ).issues,
    ).toEqual([expect.objectContaining({ field: '(body).pages[0]' })]);
  });
});
