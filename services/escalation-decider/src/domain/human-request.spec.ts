import {
  classifierAsked,
  classifierInput,
  humanRequestDetector,
  lexiconDetector,
  type HumanRequestClassifier,
} from './human-request';
import {
  parseHumanRequestModel,
  requestProbability,
  type HumanRequestModel,
} from './human-request/classifier';

/** A two-dimensional model: the first coordinate says "request", the second "not". */
const model: HumanRequestModel = {
  encoder: 'fake-encoder@1',
  dimensions: 2,
  weights: Float32Array.from([4, -4]),
  bias: 0,
  temperature: 1,
  threshold: 0.7,
  corpusSha256: 'x',
};

/** A fake classifier whose embedding is chosen per text; it records what it was asked. */
function fakeClassifier(vectors: Record<string, [number, number]>) {
  const asked: string[] = [];
  const classifier: HumanRequestClassifier = {
    model,
    embed: async (text) => {
      asked.push(text);
      return vectors[text] ?? [0, 1];
    },
  };
  return { classifier, asked };
}

describe('the layered human-request detector', () => {
  it('answers from the lexicon first, without embedding the text', async () => {
    const { classifier, asked } = fakeClassifier({});
    const found = await humanRequestDetector(classifier)('Je veux parler à un conseiller.');
    expect(found).toEqual({
      language: 'fr',
      phrase: 'parler à un conseiller',
      layer: 'lexicon',
      probability: 1,
      threshold: 1,
    });
    expect(asked).toEqual([]);
  });

  it('asks the classifier about English wording the lexicon misses, and names it', async () => {
    const text = 'could a member of your staff sort this out';
    const { classifier, asked } = fakeClassifier({ [text]: [1, 0] });
    const found = await humanRequestDetector(classifier)(text);
    expect(asked).toEqual([text]);
    expect(found).toMatchObject({ language: 'en', phrase: text, layer: 'classifier' });
    expect(found!.probability).toBeCloseTo(1 / (1 + Math.exp(-4)), 6);
    expect(found!.threshold).toBe(0.7);
  });

  it('finds no request below the threshold', async () => {
    const text = 'could a member of your staff sort this out';
    const { classifier } = fakeClassifier({ [text]: [0.2, 0] });
    // p = sigmoid(0.8) ≈ 0.69 < 0.7
    expect(await humanRequestDetector(classifier)(text)).toBeUndefined();
  });

  it('takes negated clauses out first: the classifier reads only what is left', async () => {
    const text =
      "I don't need an agent for the invoice, but could one of your people check my refund";
    const rest = 'but could one of your people check my refund';
    expect(classifierInput(text)).toBe(rest);
    const { classifier, asked } = fakeClassifier({ [rest]: [1, 0] });
    const found = await humanRequestDetector(classifier)(text);
    expect(asked).toEqual([rest]);
    expect(found).toMatchObject({ layer: 'classifier', phrase: rest });
  });

  it('does not ask the classifier when what is left names nobody', async () => {
    const { classifier, asked } = fakeClassifier({});
    const found = await humanRequestDetector(classifier)(
      'no need for a human, just tell me how to add a user',
    );
    expect(asked).toEqual([]);
    expect(found).toBeUndefined();
  });

  it('finds nothing in a message that only says it wants nobody', async () => {
    const { classifier, asked } = fakeClassifier({});
    expect(await humanRequestDetector(classifier)("I don't need an agent")).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('does not ask the English classifier about another language', async () => {
    const text = 'Könnte sich jemand von Ihrem Team das ansehen?';
    const { classifier, asked } = fakeClassifier({ [text]: [1, 0] });
    expect(await humanRequestDetector(classifier)(text)).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('does not ask the classifier about text that names no person, talk or bot', async () => {
    const text = 'where can I download my invoice';
    const { classifier, asked } = fakeClassifier({ [text]: [1, 0] });
    expect(await humanRequestDetector(classifier)(text)).toBeUndefined();
    expect(asked).toEqual([]);
  });

  it('cuts a long phrase the classifier read', async () => {
    const text = `Our export broke again and ${'again and '.repeat(10)}I want someone on your team on it`;
    const input = classifierInput(text);
    const { classifier } = fakeClassifier({ [input]: [1, 0] });
    const found = await humanRequestDetector(classifier)(text);
    expect(found?.phrase).toHaveLength(80);
    expect(found?.phrase.endsWith('…')).toBe(true);
  });

  it('without a classifier is the lexicon layers alone', async () => {
    expect(await humanRequestDetector()('could a member of your staff sort this out')).toBe(
      undefined,
    );
    expect(await lexiconDetector('agent please')).toMatchObject({ layer: 'lexicon' });
  });

  it('asks the classifier only about English text with a person, talk or the bot in it', () => {
    expect(classifierAsked('could one of your people check this')).toBe(true);
    expect(classifierAsked('stop the automated replies')).toBe(true);
    expect(classifierAsked('how long does shipping take')).toBe(false);
    expect(classifierAsked('Ich möchte mit jemandem sprechen, bitte')).toBe(false);
  });
});

describe('the classifier model', () => {
  const file = {
    encoder: 'all-minilm-l6-v2-q@1.19.0-beta29',
    dimensions: 3,
    weights: [0.5, -1, 2],
    bias: -0.5,
    temperature: 2,
    threshold: 0.6,
    corpus: { sha256: 'abc' },
  };

  it('reads its JSON and gives the calibrated probability', () => {
    const m = parseHumanRequestModel(file);
    // z = -0.5 + 0.5·1 − 1·0 + 2·0.5 = 1; p = sigmoid(1 / 2)
    expect(requestProbability(m, [1, 0, 0.5])).toBeCloseTo(1 / (1 + Math.exp(-0.5)), 6);
    expect(m.corpusSha256).toBe('abc');
  });

  it.each([
    [{ encoder: '' }, 'encoder'],
    [{ weights: [1, 2] }, 'weights must be 3 numbers'],
    [{ weights: [1, 'x', 2] }, 'weights[1]'],
    [{ temperature: 0 }, 'temperature'],
    [{ threshold: 1 }, 'threshold'],
    [{ bias: null }, 'bias'],
    [{ corpus: {} }, 'corpus.sha256'],
  ])('refuses %j, naming the field', (change, field) => {
    expect(() => parseHumanRequestModel({ ...file, ...change })).toThrow(field);
  });

  it('refuses a vector of other dimensions', () => {
    expect(() => requestProbability(parseHumanRequestModel(file), [1, 0])).toThrow(
      'a vector of 2 dimensions, the model reads 3',
    );
  });
});
