import {
  articleInputSchema,
  articlePatchSchema,
  issuesOf,
  sameContent,
  slugify,
  validateArticle,
  type ArticleInput,
} from './article';

const valid = { id: 'reset-password', title: 'Resetting your password', body: 'Click the link.' };

describe('validateArticle', () => {
  it('given the required fields only, when validated, then the defaults are filled in', () => {
    expect(validateArticle(valid, 'articles[0]')).toEqual({
      article: {
        ...valid,
        tags: [],
        productAreas: [],
        pages: [],
        locale: 'en',
        status: 'published',
      },
    });
  });

  it('given padded title and body, when validated, then they are trimmed', () => {
    const result = validateArticle(
      { ...valid, title: '  Resetting  ', body: '\n Body \n' },
      'articles[0]',
    );
    expect(result).toMatchObject({ article: { title: 'Resetting', body: 'Body' } });
  });

  it.each([
    ['an upper-case id', { id: 'Reset-Password' }, 'articles[3].id', 'invalid_format'],
    ['an id with spaces', { id: 'reset password' }, 'articles[3].id', 'invalid_format'],
    ['an id starting with "-"', { id: '-reset' }, 'articles[3].id', 'invalid_format'],
    [
      'an id longer than 120 characters',
      { id: 'a'.repeat(121) },
      'articles[3].id',
      'invalid_format',
    ],
    ['a blank title', { title: '   ' }, 'articles[3].title', 'too_small'],
    ['a title over 300 characters', { title: 'x'.repeat(301) }, 'articles[3].title', 'too_big'],
    ['an empty body', { body: '' }, 'articles[3].body', 'too_small'],
    [
      'a locale that is not a language tag',
      { locale: 'English' },
      'articles[3].locale',
      'invalid_format',
    ],
    ['an unknown status', { status: 'live' }, 'articles[3].status', 'invalid_value'],
    ['an empty tag', { tags: ['ok', ' '] }, 'articles[3].tags[1]', 'too_small'],
    ['a tag over 60 characters', { tags: ['t'.repeat(61)] }, 'articles[3].tags[0]', 'too_big'],
    [
      'more than 30 tags',
      { tags: Array.from({ length: 31 }, (_, i) => `t${i}`) },
      'articles[3].tags',
      'too_big',
    ],
    [
      'a product area that is not a string',
      { productAreas: [7] },
      'articles[3].productAreas[0]',
      'invalid_type',
    ],
  ])('given %s, when validated, then the issue names the field', (_what, change, field, rule) => {
    const result = validateArticle({ ...valid, ...change }, 'articles[3]');
    expect(result).toEqual({ issues: [expect.objectContaining({ field, rule })] });
  });

  it('given a missing title and body, when validated, then each is named', () => {
    const result = validateArticle({ id: 'x' }, 'articles[0]');
    expect('issues' in result && result.issues.map((i) => i.field).sort()).toEqual([
      'articles[0].body',
      'articles[0].title',
    ]);
  });

  it('given unknown fields, when validated, then they are named together as unknown_field', () => {
    const result = validateArticle({ ...valid, author: 'me', views: 3 }, 'articles[1]');
    expect(result).toEqual({
      issues: [
        {
          field: 'articles[1].author, articles[1].views',
          rule: 'unknown_field',
          message: 'unknown fields: author, views',
        },
      ],
    });
  });

  it('given a valid locale with a region, when validated, then it is accepted', () => {
    expect(validateArticle({ ...valid, locale: 'pt-BR' }, 'a')).toMatchObject({
      article: { locale: 'pt-BR' },
    });
  });
});

describe('issuesOf', () => {
  it('given no prefix, when a top-level field fails, then the field is named without a leading dot', () => {
    const parsed = articleInputSchema.safeParse({ ...valid, title: '' });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(issuesOf(parsed.error)).toEqual([
      { field: 'title', rule: 'too_small', message: 'must not be empty' },
    ]);
  });

  it('given no prefix and a non-object, when it fails, then the issue names the body', () => {
    const parsed = articleInputSchema.safeParse('text');
    if (parsed.success) throw new Error('expected a failure');
    expect(issuesOf(parsed.error)).toEqual([
      expect.objectContaining({ field: '(body)', rule: 'invalid_type' }),
    ]);
  });

  it('given an unknown field and no prefix, when it fails, then the field is the bare key', () => {
    const parsed = articleInputSchema.safeParse({ ...valid, extra: 1 });
    if (parsed.success) throw new Error('expected a failure');
    expect(issuesOf(parsed.error)).toEqual([
      { field: 'extra', rule: 'unknown_field', message: 'unknown field: extra' },
    ]);
  });
});

describe('articlePatchSchema', () => {
  // Not asserted here: that a patch leaves unmentioned fields unset. It does not (see the report:
  // `.partial()` keeps the input schema's defaults, so `{ title }` also sets tags, locale,
  // productAreas and status, and `{}` passes the "nothing to change" check).
  it('given fields to change, when parsed, then they are kept as given', () => {
    expect(articlePatchSchema.parse({ title: ' New ', expectedVersion: 4 })).toMatchObject({
      title: 'New',
      expectedVersion: 4,
    });
  });

  it('given an id, an invalid field or a non-positive version, when parsed, then it is refused', () => {
    expect(articlePatchSchema.safeParse({ id: 'other', title: 'x' }).success).toBe(false);
    expect(articlePatchSchema.safeParse({ title: '' }).success).toBe(false);
    expect(articlePatchSchema.safeParse({ status: 'live' }).success).toBe(false);
    expect(articlePatchSchema.safeParse({ title: 'x', expectedVersion: 0 }).success).toBe(false);
    expect(articlePatchSchema.safeParse({ title: 'x', expectedVersion: 1.5 }).success).toBe(false);
  });
});

describe('slugify', () => {
  it.each([
    ['Resetting your password!', 'resetting-your-password'],
    ['Réinitialiser le mot de passe', 'reinitialiser-le-mot-de-passe'],
    ['  --Two   spaces & symbols--  ', 'two-spaces-symbols'],
    ['Über Straße 2FA', 'uber-stra-e-2fa'],
  ])('turns %j into %j', (title, slug) => {
    expect(slugify(title)).toBe(slug);
  });

  it('given a long title, when slugified, then it is at most 120 characters and ends without "-"', () => {
    const slug = slugify(`${'a'.repeat(119)} b`);
    expect(slug.length).toBeLessThanOrEqual(120);
    expect(slug).toBe('a'.repeat(119));
    expect(articleInputSchema.shape.id.safeParse(slugify('word '.repeat(60))).success).toBe(true);
  });
});

describe('sameContent', () => {
  const a: Omit<ArticleInput, 'id'> = {
    title: 'T',
    body: 'B',
    tags: ['x', 'y'],
    locale: 'en',
    productAreas: ['billing'],
    status: 'published',
  };

  it('given equal content, when compared, then it is the same', () => {
    expect(sameContent(a, { ...a, tags: ['x', 'y'] })).toBe(true);
  });

  it.each([
    ['title', { title: 'T2' }],
    ['body', { body: 'B2' }],
    ['tags', { tags: ['x'] }],
    ['tag order', { tags: ['y', 'x'] }],
    ['locale', { locale: 'fr' }],
    ['product areas', { productAreas: [] }],
    ['status', { status: 'draft' as const }],
  ])('given a different %s, when compared, then it is not the same', (_what, change) => {
    expect(sameContent(a, { ...a, ...change })).toBe(false);
  });
});

describe('the pages of an article', () => {
  it('given different pages, then the article says something else (a new version)', () => {
    const a = articleInputSchema.parse({ ...valid, pages: ['/billing/*'] });
    expect(sameContent(a, { ...a, pages: ['/billing/*'] })).toBe(true);
    expect(sameContent(a, { ...a, pages: ['/settings/*'] })).toBe(false);
  });

  it('given a patch of the pages only, then it is a change; a bad page is named', () => {
    expect(articlePatchSchema.safeParse({ pages: ['/billing/*'] }).success).toBe(true);
    const bad = articlePatchSchema.safeParse({ pages: ['billing'] });
    expect(bad.success ? [] : issuesOf(bad.error, '')).toEqual([
      expect.objectContaining({ field: 'pages[0]' }),
    ]);
  });
});
