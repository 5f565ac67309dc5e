import type { RankedArticle } from '../answer';
import { BM25_HALF, fuseRankings, WORDS_WEIGHT } from './fusion';

const passage = (article: string, n: number, score: number): RankedArticle => ({
  id: article,
  title: article,
  body: '',
  tags: [],
  productAreas: [],
  version: 1,
  score,
  passage: { id: `${article}#${n}`, heading: '', text: '' },
});

describe('fuseRankings', () => {
  it('given a passage only its meaning finds, when it is far closer than the word matches, then it comes first', () => {
    const words = [passage('travel-expenses', 1, 6), passage('reports', 1, 5)];
    const meaning = [
      { article: passage('carbon-report', 1, 0), similarity: 0.62 },
      { article: passage('travel-expenses', 1, 0), similarity: 0.25 },
    ];
    const fused = fuseRankings(words, meaning);
    expect(fused.map((a) => a.id)).toEqual(['carbon-report', 'travel-expenses', 'reports']);
    // It keeps no word score, and the word matches keep theirs.
    expect(fused[0]).toMatchObject({ score: 0, similarity: 0.62 });
    expect(fused[1]).toMatchObject({ score: 6, similarity: 0.25 });
  });

  it('weighs words and meaning as documented, times the page boost', () => {
    const onPage = { ...passage('a', 1, BM25_HALF), pageBoost: 1.5 };
    const other = passage('b', 1, BM25_HALF);
    const fused = fuseRankings(
      [other, onPage],
      [
        { article: passage('b', 1, 0), similarity: 0.5 },
        { article: { ...passage('a', 1, 0), pageBoost: 1.5 }, similarity: 0.3 },
      ],
    );
    // a: 1.5 × (words 0.5, meaning 0.3); b: words 0.5, meaning 0.5.
    const a = 1.5 * (WORDS_WEIGHT * 0.5 + (1 - WORDS_WEIGHT) * 0.3);
    const b = WORDS_WEIGHT * 0.5 + (1 - WORDS_WEIGHT) * 0.5;
    expect(a).toBeGreaterThan(b);
    expect(fused.map((x) => x.id)).toEqual(['a', 'b']);
    // Without the boost the closer meaning wins.
    const plain = fuseRankings(
      [other, passage('a', 1, BM25_HALF)],
      [
        { article: passage('b', 1, 0), similarity: 0.5 },
        { article: passage('a', 1, 0), similarity: 0.3 },
      ],
    );
    expect(plain.map((x) => x.id)).toEqual(['b', 'a']);
  });

  it('asks for the cosine of word matches the meaning ranking did not list', () => {
    const fused = fuseRankings(
      [passage('a', 1, 10), passage('b', 1, 10)],
      [],
      (id) => ({ 'a#1': 0.1, 'b#1': 0.7 })[id],
    );
    expect(fused.map((x) => [x.id, x.similarity])).toEqual([
      ['b', 0.7],
      ['a', 0.1],
    ]);
  });

  it('tells each passage where its article stood in either ranking (-1 when absent)', () => {
    const fused = fuseRankings(
      [passage('a', 1, 9), passage('a', 2, 8), passage('b', 1, 7)],
      [
        { article: passage('b', 1, 0), similarity: 0.9 },
        { article: passage('c', 1, 0), similarity: 0.8 },
      ],
    );
    const ranks = Object.fromEntries(fused.map((x) => [x.passage.id, x.ranks]));
    expect(ranks).toEqual({
      'a#1': { words: 0, meaning: -1 },
      'a#2': { words: 0, meaning: -1 },
      'b#1': { words: 1, meaning: 0 },
      'c#1': { words: -1, meaning: 1 },
    });
  });
});
