import { draftArticle, draftArticleId, type ArticleProposal } from './draft';

const proposal = (over: Partial<ArticleProposal> = {}): ArticleProposal => ({
  draftId: 'd-1',
  conversationId: 'c-1',
  handoffId: 'ho-1',
  agentId: 'ag-ada',
  title: 'Refund to a closed card',
  body: 'When the card is closed, the refund goes to the account balance.',
  tags: ['refunds', ' cards ', 'refunds', ''],
  locale: 'fr',
  proposedAt: '2026-11-21T10:00:00.000Z',
  ...over,
});

describe('article drafts from agents', () => {
  it('given a proposal, when it becomes an article, then it is a draft with a stable id from its title and draft id', () => {
    const made = draftArticle(proposal(), 'en');
    expect('article' in made && made.article).toEqual({
      id: draftArticleId('d-1', 'Refund to a closed card'),
      title: 'Refund to a closed card',
      body: 'When the card is closed, the refund goes to the account balance.',
      tags: ['refunds', 'cards'],
      locale: 'fr',
      productAreas: [],
      pages: [],
      status: 'draft',
    });
    expect(draftArticleId('d-1', 'Refund to a closed card')).toMatch(
      /^refund-to-a-closed-card-[0-9a-f]{10}$/,
    );
  });

  it('given two proposals with one title, when they become articles, then their ids differ', () => {
    expect(draftArticleId('d-1', 'Refunds')).not.toBe(draftArticleId('d-2', 'Refunds'));
    expect(draftArticleId('d-1', 'Refunds')).toBe(draftArticleId('d-1', 'Refunds'));
  });

  it('given a title without letters a slug can keep, when it becomes an article, then its id still is one', () => {
    expect(draftArticleId('d-1', '退款')).toMatch(/^draft-[0-9a-f]{10}$/);
  });

  it('given a conversation without a usable language, when it becomes an article, then the default language is used', () => {
    const made = draftArticle(proposal({ locale: '' }), 'de');
    expect('article' in made && made.article.locale).toBe('de');
  });

  it('given a proposal without a title, when it becomes an article, then the issue names the field', () => {
    const made = draftArticle(proposal({ title: '  ' }), 'en');
    expect('issues' in made && made.issues.map((i) => i.field)).toEqual(['title']);
  });
});
