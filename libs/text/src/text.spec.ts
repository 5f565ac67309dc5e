import { contentStems, contentWords, sentences, stem } from './index';

describe('text helpers', () => {
  it('given word forms of one word, when stemmed, then they meet', () => {
    expect(stem('invoices')).toBe(stem('invoice'));
    expect(stem('invoicing')).toBe(stem('invoice'));
    expect(stem('downloading')).toBe(stem('download'));
    expect(stem('resetting')).toBe(stem('reset'));
    expect(stem('changed')).toBe(stem('change'));
    expect(stem('keys')).toBe(stem('key'));
    expect(stem('policies')).toBe(stem('policy'));
  });

  it('given a question, when its content words are taken, then stop words and punctuation are gone', () => {
    expect(contentWords("Hi! How do I reset my password? It's urgent")).toEqual([
      'reset',
      'password',
      'urgent',
    ]);
    expect(contentWords("what's the weather in Paris")).toEqual(['weather', 'paris']);
    expect([...contentStems('Invoices and invoice')]).toEqual([stem('invoice')]);
  });

  it('given prose, when split, then each sentence stands alone', () => {
    expect(sentences('First one. Second one! Third, with 12 items? 4 more.')).toEqual([
      'First one.',
      'Second one!',
      'Third, with 12 items?',
      '4 more.',
    ]);
  });
});
