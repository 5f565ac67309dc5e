import { IntentClassifier, type Example } from './classifier.js';
import { trainClassifier } from './train.js';
import { fakeEncoder, SYNTHETIC_LABELS, syntheticExamples } from './test-support.js';

const accuracy = async (model: IntentClassifier, examples: Example[]) => {
  const preds = await model.classifyBatch(examples.map((e) => e.text));
  return preds.filter((p, i) => p.ranked[0].label === examples[i].label).length / examples.length;
};

describe('trainClassifier', () => {
  const train = syntheticExamples(40, 1);
  const test = syntheticExamples(25, 2);

  it('learns a small multi-class problem from n-grams alone', async () => {
    const model = await trainClassifier(train);
    expect(model.labels).toEqual(SYNTHETIC_LABELS);
    expect(model.report.encoder).toBeNull();
    expect(model.report.features.sentence).toBe(0);
    expect(model.report.features.words).toBeGreaterThan(0);
    expect(model.report.features.chars).toBeGreaterThan(0);
    expect(await accuracy(model, test)).toBeGreaterThanOrEqual(0.95);
    // Training loss goes down.
    const loss = model.report.epochLoss;
    expect(loss[loss.length - 1]).toBeLessThan(loss[0] / 2);
    // Unseen inflections still match through character n-grams.
    const p = await model.classify('i was overcharged on the invoices');
    expect(p.label).toBe('billing');
    expect(p.ranked).toHaveLength(4);
    expect(p.ranked.reduce((s, r) => s + r.probability, 0)).toBeCloseTo(1, 6);
  });

  it('is deterministic: same seed, same model and predictions; another seed differs', async () => {
    const texts = test.map((e) => e.text);
    const a = await trainClassifier(train, { seed: 7 });
    const b = await trainClassifier(train, { seed: 7 });
    const c = await trainClassifier(train, { seed: 8 });
    expect(b.toJSON().weights).toBe(a.toJSON().weights);
    expect(await b.classifyBatch(texts)).toEqual(await a.classifyBatch(texts));
    expect(c.toJSON().weights).not.toBe(a.toJSON().weights);
  });

  it('uses the sentence encoder when given, and accepts precomputed embeddings', async () => {
    const encoder = fakeEncoder();
    const model = await trainClassifier(train, { encoder });
    expect(model.report.encoder).toBe(encoder.name);
    expect(model.report.features.sentence).toBe(encoder.dimensions);
    const texts = test.map((e) => e.text);
    const viaEncoder = await model.classifyBatch(texts);
    expect(model.classifyEmbedded(texts, await encoder.embed(texts))).toEqual(viaEncoder);
    expect(() => model.classifyEmbedded(texts)).toThrow(/embedding/);

    const pre = await trainClassifier(train, {
      encoder,
      embeddings: { examples: await encoder.embed(train.map((e) => e.text)) },
    });
    expect(pre.toJSON().weights).toBe(model.toJSON().weights);
  });

  it('round-trips through JSON with identical probabilities', async () => {
    const encoder = fakeEncoder();
    const model = await trainClassifier(train, { encoder, outOfScopeLabel: 'none' });
    const json = JSON.parse(JSON.stringify(model.toJSON()));
    const restored = IntentClassifier.fromJSON(json, encoder);
    const texts = [...test.map((e) => e.text), 'something else entirely', ''];
    expect(await restored.classifyBatch(texts)).toEqual(await model.classifyBatch(texts));
    expect(restored.labels).toEqual(model.labels);
    expect(restored.report).toEqual(model.report);
    expect(restored.toJSON()).toEqual(model.toJSON());
  });

  it('refuses a different encoder, and needs one to classify raw text', async () => {
    const model = await trainClassifier(train, { encoder: fakeEncoder('bow-a') });
    const json = model.toJSON();
    expect(json.encoder).toEqual({ name: 'bow-a', dimensions: 32 });
    expect(() => IntentClassifier.fromJSON(json, fakeEncoder('bow-b'))).toThrow(/encoder mismatch/);
    expect(() => IntentClassifier.fromJSON(json, fakeEncoder('bow-a', 16))).toThrow(
      /encoder mismatch/,
    );
    const bare = IntentClassifier.fromJSON(json);
    await expect(bare.classify('refund please')).rejects.toThrow(/needs the sentence encoder/);
    const enc = fakeEncoder('bow-a');
    expect(bare.classifyEmbedded(['refund please'], await enc.embed(['refund please']))).toEqual(
      await model.classifyBatch(['refund please']),
    );
    expect(() => IntentClassifier.fromJSON({ ...json, version: 2 } as never)).toThrow(/format/);
    expect(() => IntentClassifier.fromJSON({ ...json, temperature: 0 })).toThrow(/temperature/);
    const { unknownIdf: _, ...words } = json.ngrams.words;
    expect(() =>
      IntentClassifier.fromJSON({ ...json, ngrams: { ...json.ngrams, words } } as never),
    ).toThrow(/older engine/);
  });

  it('temperature scaling lowers NLL and ECE of an over-confident model', async () => {
    // A third of the labels replaced by arbitrary ones, long training and no
    // weight decay: the raw model is far too sure of itself.
    const noisy = syntheticExamples(100, 3).map((e, i) =>
      i % 3 === 0 ? { ...e, label: SYNTHETIC_LABELS[Math.floor(i / 3) % 4] } : e,
    );
    const model = await trainClassifier(noisy, {
      epochs: 100,
      l2: 0,
      learningRate: 0.05,
      heldOutFraction: 0.4,
    });
    const cal = model.report.calibration!;
    expect(model.report.heldOut).toEqual({ source: 'split', examples: 160, refit: true });
    expect(model.report.temperature).toBeGreaterThan(1.5);
    expect(cal.nllAfter).toBeLessThan(cal.nllBefore * 0.85);
    expect(cal.eceAfter).toBeLessThan(cal.eceBefore * 0.6);
  });

  it('flags gibberish and unrelated text as out of scope', async () => {
    const oos = [
      'what is the weather in paris tomorrow',
      'tell me a joke about cats',
      'who won the football game yesterday',
      'how tall is mount everest',
      'play some jazz music',
      'what time is it in tokyo',
      'recommend a good novel to read',
      'how do i bake sourdough bread',
      'translate hello into german',
      'what is the capital of peru',
    ];
    const withOos = [
      ...train,
      ...oos.flatMap((t, i) => [
        { text: t, label: 'out_of_scope' },
        { text: `${t} ${i % 2 ? 'please' : 'now'}`, label: 'out_of_scope' },
      ]),
    ];
    // The threshold and the out-of-scope class alone (not the unknown-text rule).
    const model = await trainClassifier(withOos, {
      outOfScopeLabel: 'out_of_scope',
      unknownTextIsOutOfScope: false,
    });
    expect(model.labels).toContain('out_of_scope');
    expect(model.report.outOfScope.trainedClass).toBe(true);
    expect(model.threshold).toBeGreaterThan(0);
    for (const text of ['zxqv blorpt kkkk', 'asdf qwerty uiop', 'the lyrics of a song by abba']) {
      const p = await model.classify(text);
      expect({ text, outOfScope: p.outOfScope, label: p.label }).toEqual({
        text,
        outOfScope: true,
        label: 'out_of_scope',
      });
      expect(p.outOfScopeScore).toBeGreaterThan(1 - model.threshold);
    }
    const inScope = await model.classifyBatch(test.map((e) => e.text));
    const kept = inScope.filter((p, i) => !p.outOfScope && p.label === test[i].label).length;
    expect(kept / test.length).toBeGreaterThanOrEqual(0.85);
  });

  it('puts a text without any known word out of scope, whatever the encoder says', async () => {
    const encoder = fakeEncoder();
    const model = await trainClassifier(train, { encoder });
    for (const text of ['zxqv blorpt kkkk', '', '!!! ???']) {
      const p = await model.classify(text);
      expect(p).toMatchObject({ outOfScope: true, outOfScopeScore: 1, label: 'out_of_scope' });
    }
    // One known word is enough to let the model decide.
    expect((await model.classify('zxqv refund kkkk')).outOfScope).toBe(false);
    const lax = await trainClassifier(train, {
      encoder,
      unknownTextIsOutOfScope: false,
      outOfScopeThreshold: { rule: 'fixed', value: 0 },
    });
    expect((await lax.classify('zxqv blorpt kkkk')).outOfScope).toBe(false);
    expect(lax.toJSON().unknownTextIsOutOfScope).toBe(false);
  });

  it('applies a fixed threshold exactly as asked', async () => {
    const model = await trainClassifier(train, {
      outOfScopeThreshold: { rule: 'fixed', value: 0.999 },
    });
    const p = await model.classify('help me please');
    expect(p.outOfScope).toBe(true);
    expect(p.label).toBe('out_of_scope');
    expect(p.probability).toBeCloseTo(p.outOfScopeScore, 12);
  });

  it('validates its input', async () => {
    await expect(trainClassifier([{ text: 'a', label: 'x' }])).rejects.toThrow(/two labels/);
    await expect(
      trainClassifier(train, { heldOut: [{ text: 'hello', label: 'unknown' }] }),
    ).rejects.toThrow(/held-out label "unknown"/);
    await expect(trainClassifier(train, { embeddings: { examples: [] } })).rejects.toThrow(
      /need the encoder/,
    );
  });
});
