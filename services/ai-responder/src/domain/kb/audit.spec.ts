import {
  articleCreated,
  articleImported,
  articlePatched,
  changedArticleFields,
  suggestionApproved,
  suggestionRejected,
} from './audit';

const article = {
  title: 'Resetting your password',
  body: 'Open Settings, then Security.',
  tags: ['account'],
  locale: 'en',
  productAreas: ['account'],
  pages: ['/settings/*'],
  status: 'published' as const,
};

describe('audited knowledge-base changes', () => {
  it('names the fields a patch changes, not those it repeats', () => {
    expect(
      changedArticleFields(article, {
        title: article.title,
        body: 'Open Settings, then Security, then Password.',
        tags: ['account', 'security'],
        expectedVersion: 3,
      }),
    ).toEqual(['body', 'tags']);
  });

  it('records an update with the changed field names, title, version and status, never the body', () => {
    const change = articlePatched(
      article,
      { body: 'A new body.' },
      { outcome: 'updated', version: 4, status: 'published' },
    );
    expect(change).toEqual({
      action: 'article.updated',
      detail: {
        changed: ['body'],
        title: 'Resetting your password',
        version: 4,
        status: 'published',
      },
    });
    expect(JSON.stringify(change)).not.toContain('A new body');
  });

  it('records a patch that takes the article out of answers as a retirement, and nothing for a repeat', () => {
    expect(
      articlePatched(
        article,
        { status: 'retired', title: 'Old: passwords' },
        { outcome: 'updated', version: 5, status: 'retired' },
      ),
    ).toEqual({
      action: 'article.retired',
      detail: {
        changed: ['title', 'status'],
        title: 'Old: passwords',
        version: 5,
        status: 'retired',
      },
    });
    const retired = { ...article, status: 'retired' as const };
    expect(
      articlePatched(
        retired,
        { status: 'retired' },
        { outcome: 'unchanged', version: 5, status: 'retired' },
      ),
    ).toBeUndefined();
  });

  it('records imported and created articles that changed, not unchanged ones', () => {
    const stored = { outcome: 'created' as const, version: 1, status: 'draft' as const };
    expect(articleImported(stored, 'Refunds')).toEqual({
      action: 'article.imported',
      detail: { outcome: 'created', title: 'Refunds', version: 1, status: 'draft' },
    });
    expect(articleImported({ ...stored, outcome: 'unchanged' }, 'Refunds')).toBeUndefined();
    expect(articleCreated(stored, 'Refunds')).toEqual({
      action: 'article.created',
      detail: { title: 'Refunds', version: 1, status: 'draft' },
    });
  });

  it('records a suggestion approved with the article it became and the edited fields', () => {
    expect(suggestionApproved({ id: 'pay-with-credits', version: 1 }, { title: 'Pay' })).toEqual({
      action: 'suggestion.approved',
      detail: { articleId: 'pay-with-credits', articleVersion: 1, edited: ['title'] },
    });
  });

  it('records a rejection with its reason cut short', () => {
    expect(suggestionRejected('')).toEqual({ action: 'suggestion.rejected', detail: {} });
    const reason = suggestionRejected('r'.repeat(1000)).detail.reason as string;
    expect(reason).toBe(`${'r'.repeat(200)}…`);
  });
});
