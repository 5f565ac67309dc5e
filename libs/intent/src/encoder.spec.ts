// Loads the real Universal Sentence Encoder lite (bundled, offline; ~0.2 s).
import { cosineSimilarity, universalSentenceEncoder } from './encoder.js';
import { trainClassifier } from './train.js';

describe('universalSentenceEncoder', () => {
  it('is a singleton producing 512-d unit vectors, empty text included', async () => {
    const encoder = await universalSentenceEncoder();
    expect(await universalSentenceEncoder()).toBe(encoder);
    expect(encoder.dimensions).toBe(512);
    expect(encoder.name).toMatch(/^universal-sentence-encoder-lite@/);
    const vectors = await encoder.embed(['hello there', '']);
    expect(vectors).toHaveLength(2);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(512);
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    }
  });

  it('puts paraphrases closer than unrelated sentences', async () => {
    const encoder = await universalSentenceEncoder();
    const [a, b, c, d] = await encoder.embed([
      'I forgot my password and cannot log in',
      'how do I reset my login credentials',
      'what is the weather like in Paris today',
      'my parcel has not been delivered yet',
    ]);
    const para = cosineSimilarity(a, b);
    expect(para).toBeGreaterThan(cosineSimilarity(a, c) + 0.1);
    expect(para).toBeGreaterThan(cosineSimilarity(a, d) + 0.1);
  });

  it('batches consistently: a text embeds the same alone or among 70 others', async () => {
    const encoder = await universalSentenceEncoder();
    const texts = Array.from({ length: 70 }, (_, i) => `message number ${i} about my card`);
    const all = await encoder.embed(texts);
    const [alone] = await encoder.embed([texts[66]]);
    expect(cosineSimilarity(all[66], alone)).toBeCloseTo(1, 5);
  });

  it('lets a classifier generalise to paraphrases sharing no words with training', async () => {
    const encoder = await universalSentenceEncoder();
    const examples = [
      ['I forgot my password', 'account_access'],
      ['cannot sign in to my account', 'account_access'],
      ['the login page rejects me', 'account_access'],
      ['reset my credentials', 'account_access'],
      ['where is my package', 'delivery'],
      ['my order has not arrived', 'delivery'],
      ['when will the parcel be delivered', 'delivery'],
      ['tracking shows no update on my shipment', 'delivery'],
      ['I want my money back', 'refund'],
      ['please refund the purchase', 'refund'],
      ['return the item and reimburse me', 'refund'],
      ['I was charged twice, give the money back', 'refund'],
    ].map(([text, label]) => ({ text, label }));
    const model = await trainClassifier(examples, {
      encoder,
      features: { words: 0, chars: 0 },
      calibrate: false,
      epochs: 60,
    });
    const preds = await model.classifyBatch([
      'I am locked out and unable to log on',
      'the courier still has not brought my box',
      'can I get reimbursed for this',
    ]);
    expect(preds.map((p) => p.ranked[0].label)).toEqual(['account_access', 'delivery', 'refund']);
  });
});
