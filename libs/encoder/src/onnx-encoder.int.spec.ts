// Runs the real model from deploy/local/.cache/models (fetched by
// `bash deploy/local/models/fetch.sh`, which npm test runs first).
import { readFileSync } from 'node:fs';
import { DEFAULT_MODEL_ID, defaultModelsDir, locateModelFiles, MODELS } from './models.js';
import { OnnxSentenceEncoder } from './onnx-encoder.js';
import { sentenceEncoder } from './shared.js';
import { TextTokenizer } from './tokenize.js';
import { cosineSimilarity } from './vectors.js';

describe('OnnxSentenceEncoder (the project model)', () => {
  let encoder: OnnxSentenceEncoder;
  beforeAll(async () => {
    encoder = await sentenceEncoder();
  });

  it('is one instance per process, giving unit vectors of the model size, empty text included', async () => {
    expect(await sentenceEncoder()).toBe(encoder);
    expect(encoder.model.id).toBe(process.env.ENCODER_MODEL ?? DEFAULT_MODEL_ID);
    expect(encoder.name).toBe(`${encoder.model.id}@${encoder.model.version}`);
    expect(encoder.dimensions).toBe(MODELS[encoder.model.id].dimensions);
    const vectors = await encoder.embed(['hello there', '']);
    expect(vectors).toHaveLength(2);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(encoder.dimensions);
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    }
  });

  it('tokenizes with the model tokenizer.json and round-trips the text', async () => {
    const files = locateModelFiles(encoder.model, defaultModelsDir());
    const tokenizer = await TextTokenizer.fromJson(
      JSON.parse(readFileSync(files.tokenizer, 'utf8')) as object,
      encoder.model.maxTokens,
    );
    const ids = tokenizer.encode("I was charged TWICE for my subscription, can't you refund it?");
    expect(ids[0]).toBe(tokenizer.encode('')[0]); // [CLS]
    expect(ids.at(-1)).toBe(tokenizer.encode('').at(-1)); // [SEP]
    expect(tokenizer.decode(ids)).toBe(
      "i was charged twice for my subscription, can't you refund it?",
    );
    expect(encoder.tokenize('word '.repeat(2000))).toHaveLength(encoder.model.maxTokens);
  });

  it('puts paraphrases closer than unrelated sentences', async () => {
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

  it('finds the passage that answers a question', async () => {
    const [question] = await encoder.embed(['how long do refunds take to reach my card?']);
    const passages = await encoder.embed(
      [
        'Refunds: once approved, a refund reaches the original card within 5 to 10 business days.',
        'Two-factor authentication: open Settings, then Security, and scan the QR code.',
        'Exports: download all transactions as CSV from the Reports page.',
      ],
      'passage',
    );
    const scores = passages.map((p) => cosineSimilarity(question, p));
    expect(scores.indexOf(Math.max(...scores))).toBe(0);
  });

  it('coalesces concurrent calls; a text embeds almost the same alone or in a batch', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `message number ${i} about my card`);
    const [all, [concurrent]] = await Promise.all([
      encoder.embed(texts),
      encoder.embed([texts[33]]),
    ]);
    expect(all).toHaveLength(40);
    // The second call joined the first one's last batch (texts 32-39): the same run, the same vector.
    expect(cosineSimilarity(all[33], concurrent)).toBeCloseTo(1, 6);
    // The int8 model quantises activations per batch (dynamic quantisation), so the
    // batch a text is in moves its vector a little; far less than any paraphrase does.
    const [alone] = await encoder.embed([texts[33]]);
    const [aloneAgain] = await encoder.embed([texts[33]]);
    expect(cosineSimilarity(alone, aloneAgain)).toBeCloseTo(1, 6);
    expect(cosineSimilarity(all[33], alone)).toBeGreaterThan(0.98);
  });

  it('runs the model beside the event loop, which keeps turning meanwhile', async () => {
    // One ONNX run of 16 long passages takes hundreds of milliseconds. On the calling thread
    // no timer could fire until it ended; on the encoder's thread a 1 ms timer keeps firing.
    const passage = (i: number) =>
      `Passage ${i}: to change the billing address on an invoice, open Settings, then Billing, ` +
      'choose the invoice, edit the address and save; the next invoice uses it. '.repeat(6);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = ticks;
    const vectors = await encoder.embed(
      Array.from({ length: 16 }, (_, i) => passage(i)),
      'passage',
    );
    clearInterval(timer);
    expect(vectors).toHaveLength(16);
    expect(ticks - started).toBeGreaterThan(20);
  });
});
