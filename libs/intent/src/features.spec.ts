import { NgramFeaturizer, type NgramOptions } from './features.js';
import { charNgrams, normalizeText, tokenize, wordNgrams } from './text.js';

const options: NgramOptions = {
  wordWeight: 0.5,
  charWeight: 2,
  wordNgramRange: [1, 2],
  charNgramRange: [3, 5],
  minDocumentFrequency: 1,
  maxWordFeatures: 1000,
  maxCharFeatures: 1000,
  unknownInNorm: false,
};

describe('text', () => {
  it('normalises case, accents, apostrophes, digits and punctuation', () => {
    expect(normalizeText("  Don't CHARGE me €20.50 — Café!! ")).toBe('dont charge me 00 00 cafe');
    expect(tokenize('')).toEqual([]);
  });

  it('makes word n-grams with sentence edges and char n-grams inside words', () => {
    expect(wordNgrams(['a', 'b'], 1, 2)).toEqual(['a', 'b', '<s> a', 'a b', 'b </s>']);
    expect(charNgrams(['ab'], 3, 5)).toEqual([' ab', 'ab ', ' ab ']);
    expect(charNgrams(['a'], 3, 5)).toEqual([' a ']);
  });
});

describe('NgramFeaturizer', () => {
  const texts = [
    'reset my password',
    'password reset please',
    'cancel my order',
    'where is my order',
  ];

  it('weights each L2-normalised block', () => {
    const f = NgramFeaturizer.fit(texts, options);
    const row = f.transform('reset my password now');
    let words = 0;
    let chars = 0;
    row.indices.forEach((j, p) => {
      const v2 = row.values[p] ** 2;
      if (j < f.wordFeatures) words += v2;
      else chars += v2;
    });
    expect(Math.sqrt(words)).toBeCloseTo(0.5, 5);
    expect(Math.sqrt(chars)).toBeCloseTo(2, 5);
    expect(f.transform('').indices).toHaveLength(0);
    expect(f.transform('zzzz qqqq').indices).toHaveLength(0);
    expect(f.transform('zzzz my password').knownWords).toBe(2);
    expect(f.transform('zzzz qqqq').knownWords).toBe(0);
    expect(
      NgramFeaturizer.fit(texts, { ...options, wordNgramRange: [2, 2] }).transform('my').knownWords,
    ).toBe(-1);
  });

  it('caps the vocabulary by document frequency and size, deterministically', () => {
    const f = NgramFeaturizer.fit(texts, {
      ...options,
      minDocumentFrequency: 2,
      maxCharFeatures: 5,
    });
    // In at least two texts: my, password, reset, order, "my order", "order </s>".
    expect(f.wordFeatures).toBe(6);
    expect(f.charFeatures).toBe(5);
    const shuffled = NgramFeaturizer.fit([...texts].reverse(), {
      ...options,
      minDocumentFrequency: 2,
      maxCharFeatures: 5,
    });
    expect(shuffled.toJSON()).toEqual(f.toJSON());
  });

  it('round-trips through JSON', () => {
    const f = NgramFeaturizer.fit(texts, options);
    const g = NgramFeaturizer.fromJSON(JSON.parse(JSON.stringify(f.toJSON())));
    expect(g.transform('my password')).toEqual(f.transform('my password'));
    expect(g.dimension).toBe(f.dimension);
  });

  it('lets unknown n-grams dilute the known ones when asked', () => {
    const strict = NgramFeaturizer.fit(texts, { ...options, charWeight: 0 });
    const diluting = NgramFeaturizer.fit(texts, { ...options, charWeight: 0, unknownInNorm: true });
    const norm = (r: { values: Float32Array }) => Math.hypot(...r.values);
    expect(norm(strict.transform('password zzzz qqqq'))).toBeCloseTo(0.5, 5);
    expect(norm(diluting.transform('password zzzz qqqq'))).toBeLessThan(0.3);
    expect(norm(diluting.transform('reset my password'))).toBeCloseTo(0.5, 5);
  });

  it('skips disabled blocks', () => {
    const f = NgramFeaturizer.fit(texts, { ...options, charWeight: 0 });
    expect(f.charFeatures).toBe(0);
    expect(f.wordFeatures).toBeGreaterThan(0);
  });
});
