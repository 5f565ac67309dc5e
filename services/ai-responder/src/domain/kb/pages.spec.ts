import { forPage, isPagePattern, pageMatches, pagesSchema, preferPage } from './pages';

describe('page patterns', () => {
  it('accepts paths with wildcards and absolute http(s) URLs, nothing else', () => {
    for (const ok of [
      '/billing/*',
      '/settings/security',
      '/',
      '/reports/*/export',
      'https://app.example.com/settings/security',
      'http://app.example.com/billing/*',
      'https://app.example.com',
    ])
      expect([ok, isPagePattern(ok)]).toEqual([ok, true]);
    for (const bad of [
      'billing/*',
      '//evil.example/billing',
      'ftp://files.example.com/a',
      'javascript:alert(1)',
      '/billing invoices',
      'https://*.example.com/billing',
      '',
    ])
      expect([bad, isPagePattern(bad)]).toEqual([bad, false]);
  });

  it('names the entry and the rule when an article carries a bad one', () => {
    const parsed = pagesSchema.safeParse(['/billing/*', 'billing']);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path)).toEqual([[1]]);
    expect(parsed.error?.issues[0]?.message).toContain('must be a path starting with "/"');
  });
});

describe('whether a page is the one a pattern names', () => {
  it('matches a section pattern below it and at its root, not beside it', () => {
    expect(pageMatches('/billing/*', '/billing/invoices')).toBe(true);
    expect(pageMatches('/billing/*', '/billing/invoices/INV-1?tab=open')).toBe(true);
    expect(pageMatches('/billing/*', '/billing')).toBe(true);
    expect(pageMatches('/billing/*', '/billing/')).toBe(true);
    expect(pageMatches('/billing/*', '/billing-history')).toBe(false);
    expect(pageMatches('/billing/*', '/settings/billing')).toBe(false);
  });

  it('matches a path pattern on any host, the page given as a path or as a URL', () => {
    expect(pageMatches('/settings/security', 'https://app.example.com/settings/security/')).toBe(
      true,
    );
    expect(pageMatches('/settings/security', '/settings/security#2fa')).toBe(true);
    expect(pageMatches('/settings/security', '/settings/security/sessions')).toBe(false);
    expect(pageMatches('/reports/*/export', '/reports/2026/q1/export')).toBe(true);
  });

  it('matches a URL pattern on its own host only (any case), and a page given as a bare path', () => {
    const pattern = 'https://app.example.com/settings/security';
    expect(pageMatches(pattern, 'https://APP.example.com/settings/security?x=1')).toBe(true);
    expect(pageMatches(pattern, 'https://other.example.com/settings/security')).toBe(false);
    expect(pageMatches(pattern, '/settings/security')).toBe(true);
    expect(pageMatches('https://app.example.com', 'https://app.example.com/')).toBe(true);
  });

  it('compares paths with their case and decodes the page', () => {
    expect(pageMatches('/Billing/*', '/billing/x')).toBe(false);
    expect(pageMatches('/help/*', '/help/gr%C3%BC%C3%9Fe')).toBe(true);
    expect(pageMatches('/help/grüße', '/help/gr%C3%BC%C3%9Fe')).toBe(true);
  });

  it('matches nothing without a page or with an unreadable one', () => {
    expect(forPage(['/billing/*'], '')).toBe(false);
    expect(forPage(['/billing/*'], 'not a page')).toBe(false);
    expect(forPage([], '/billing')).toBe(false);
    expect(forPage(['/settings/*', '/billing/*'], '/billing/plans')).toBe(true);
  });
});

describe('preferring the articles for the customer’s page', () => {
  const ranked = [
    { id: 'general-answer', score: 10, pages: [] },
    { id: 'billing-answer', score: 9, pages: ['/billing/*'] },
    { id: 'security-answer', score: 8.5, pages: ['/settings/security'] },
  ];

  it('given close scores, the article for the page comes first', () => {
    expect(preferPage(ranked, '/billing/invoices').map((r) => r.id)).toEqual([
      'billing-answer',
      'general-answer',
      'security-answer',
    ]);
    expect(
      preferPage(ranked, 'https://app.example.com/settings/security').map((r) => [
        r.id,
        r.pageBoost,
      ]),
    ).toEqual([
      ['security-answer', 1.5],
      ['general-answer', 1],
      ['billing-answer', 1],
    ]);
  });

  it('is a boost, not a filter: a clearly better article for another page still wins', () => {
    const clear = [
      { id: 'the-answer', score: 20, pages: ['/settings/*'] },
      { id: 'on-this-page', score: 6, pages: ['/billing/*'] },
    ];
    expect(preferPage(clear, '/billing').map((r) => r.id)).toEqual(['the-answer', 'on-this-page']);
    expect(preferPage(clear, '/billing', 4).map((r) => r.id)).toEqual([
      'on-this-page',
      'the-answer',
    ]);
  });

  it('without a page, keeps the ranking as it was', () => {
    expect(preferPage(ranked, '').map((r) => [r.id, r.pageBoost])).toEqual([
      ['general-answer', 1],
      ['billing-answer', 1],
      ['security-answer', 1],
    ]);
  });
});
