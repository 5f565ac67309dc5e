import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  answer,
  bestPassage,
  confidenceOf,
  NO_ANSWER_TEXT,
  searchTerms,
  type RankedArticle,
} from './answer';
import { contentStems } from './text';

interface SeedArticle {
  id: string;
  title: string;
  body: string;
  tags: string[];
}

const seed = JSON.parse(
  readFileSync(join(__dirname, '../../seed/articles.json'), 'utf8'),
) as SeedArticle[];

/** Articles ranked as PostgreSQL's ts_rank_cd scored them for the question. */
function ranked(...scores: [string, number][]): RankedArticle[] {
  return scores.map(([id, score]) => {
    const a = seed.find((s) => s.id === id);
    if (!a) throw new Error(`no seed article ${id}`);
    return { id: a.id, title: a.title, body: a.body, tags: a.tags, score };
  });
}

describe('answer', () => {
  it('given the password article ranks first, when a customer asks how to reset a password, then it answers from it with high confidence', () => {
    const question = 'How do I reset my password?';
    const result = answer(question, ranked(['reset-password', 6.8], ['sso-saml', 0.4]));

    expect(result.confidence).toBeGreaterThanOrEqual(0.6);
    expect(result.citations).toHaveLength(1);
    expect(result.citations[0]).toMatchObject({
      articleId: 'reset-password',
      title: 'Resetting your Ledgerly password',
      score: 6.8,
    });
    expect(result.text).toContain('click Forgot password');
    expect(result.text).toMatch(/\(Source: Resetting your Ledgerly password\)$/);
    expect(result.intent).toBe('password_reset');
    expect(result.articlesTried).toEqual(['reset-password', 'sso-saml']);
  });

  it('given a chatty question about invoices, when answered, then the invoice article is cited with confidence >= 0.6', () => {
    const question =
      "Hi, I've been trying all morning to download last month's invoice as a PDF for our accountant";
    const result = answer(
      question,
      ranked(['download-invoices', 9.8], ['change-plan', 2.4], ['export-data', 2.4]),
    );

    expect(result.confidence).toBeGreaterThanOrEqual(0.6);
    expect(result.citations[0].articleId).toBe('download-invoices');
    expect(result.text).toContain('Download PDF');
    expect(result.intent).toBe('invoice_download');
  });

  it('given nothing matched, when a customer asks about the weather, then confidence is 0 and the text says no answer was found', () => {
    const result = answer("what's the weather in Paris", []);

    expect(result.confidence).toBeLessThan(0.3);
    expect(result.confidence).toBe(0);
    expect(result.text).toBe(NO_ANSWER_TEXT);
    expect(result.citations).toEqual([]);
    expect(result.intent).toBe('unknown');
  });

  it('given a weak match on stray words, when an off-topic complaint comes in, then confidence stays below 0.3', () => {
    const result = answer(
      'Your product is useless, this is the third time',
      ranked(['export-data', 0.8], ['api-keys-rate-limits', 0.4]),
    );

    expect(result.confidence).toBeLessThan(0.3);
  });

  it('given an article that covers only a small part of the question, when answered, then confidence is low', () => {
    const result = answer(
      'my invoice total is wrong, I was charged twice',
      ranked(['download-invoices', 5.4], ['team-members', 0.8]),
    );

    expect(result.confidence).toBeLessThan(0.3);
  });

  it('given a question of stop words only, when answered, then there is no answer', () => {
    expect(answer('hello, can you help me?', ranked(['reset-password', 1])).confidence).toBe(0);
    expect(searchTerms('hello, can you help me?')).toEqual([]);
  });
});

describe('confidenceOf', () => {
  it('grows with coverage, score and margin, and stays within 0..1', () => {
    expect(confidenceOf(1, 8, 0.5)).toBeGreaterThan(confidenceOf(0.5, 8, 0.5));
    expect(confidenceOf(1, 8, 0.5)).toBeGreaterThan(confidenceOf(1, 1, 0.5));
    expect(confidenceOf(1, 8, 0.5)).toBeGreaterThan(confidenceOf(1, 8, 7.5));
    expect(confidenceOf(1, 1e9, undefined)).toBeLessThanOrEqual(1);
    expect(confidenceOf(0, 8, undefined)).toBe(0);
  });
});

describe('bestPassage', () => {
  it('takes the best sentence and its overlapping neighbours, in order', () => {
    const body =
      'Intro about nothing. Open the invoice list. Click Download PDF on the invoice. Invoices are kept forever. Unrelated closing words.';
    expect(bestPassage(contentStems('download invoice pdf'), body)).toEqual([
      'Open the invoice list.',
      'Click Download PDF on the invoice.',
      'Invoices are kept forever.',
    ]);
  });
});
