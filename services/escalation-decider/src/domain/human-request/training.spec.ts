import { parseHumanRequestModel, requestProbability } from './classifier';
import { chooseThreshold, stratifiedFolds, trainHumanRequestModel } from './training';

/** Requests near (1, 0), the others near (0, 1), with a deterministic wobble; a few overlap. */
function synthetic(n: number) {
  const examples: { input: string; request: boolean; lexicon: boolean; asked: boolean }[] = [];
  const embeddings: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const request = i % 2 === 0;
    const wobble = ((i * 7919) % 100) / 100 - 0.5;
    const [a, b] = request ? [1, 0.3 * wobble] : [0.3 * wobble, 1];
    const norm = Math.hypot(a, b);
    examples.push({ input: `text ${i}`, request, lexicon: false, asked: true });
    embeddings.push(Float32Array.from([a / norm, b / norm]));
  }
  return { examples, embeddings, encoder: { name: 'fake@1', dimensions: 2 }, corpusSha256: 'abc' };
}

describe('trainHumanRequestModel', () => {
  const input = synthetic(200);
  const options = { epochs: 20, folds: 4 };

  it('learns a model that tells the two apart, with its corpus and encoder recorded', () => {
    const file = trainHumanRequestModel(input, options);
    expect(file).toMatchObject({
      encoder: 'fake@1',
      dimensions: 2,
      corpus: { sha256: 'abc', requests: 100, notRequests: 100 },
    });
    const model = parseHumanRequestModel(file);
    expect(requestProbability(model, [1, 0])).toBeGreaterThan(model.threshold);
    expect(requestProbability(model, [0, 1])).toBeLessThan(model.threshold);
    expect(file.heldOut.classifier).toMatchObject({ requests: 100, notRequests: 100 });
    expect(file.heldOut.classifier.recall).toBeGreaterThan(0.95);
    expect(file.heldOut.classifier.falsePositiveRate).toBeLessThan(0.05);
  });

  it('is deterministic', () => {
    expect(trainHumanRequestModel(input, options)).toEqual(trainHumanRequestModel(input, options));
  });

  it('counts what the lexicon recognises as found, and what the classifier is not asked about as not', () => {
    // The first ten look like the other class: requests the lexicon finds, others the classifier never sees.
    const marked = {
      ...input,
      examples: input.examples.map((e, i) =>
        i < 10 ? { ...e, lexicon: e.request, asked: e.request } : e,
      ),
      embeddings: input.embeddings.map((v, i) =>
        i < 10 ? Float32Array.from(i % 2 === 0 ? [0, 1] : [1, 0]) : v,
      ),
    };
    const file = trainHumanRequestModel(marked, options);
    const firstTen = Array.from({ length: 10 }, (_, i) => `text ${i}`);
    expect(file.heldOut.classifier.missed).toEqual(expect.arrayContaining(['text 0', 'text 2']));
    expect(file.heldOut.layered.missed.filter((t) => firstTen.includes(t))).toEqual([]);
    expect(file.heldOut.layered.falsePositives.filter((t) => firstTen.includes(t))).toEqual([]);
  });

  it('refuses input it cannot train on', () => {
    expect(() =>
      trainHumanRequestModel({ ...input, embeddings: input.embeddings.slice(1) }),
    ).toThrow('one embedding per example');
    const onlyRequests = {
      ...input,
      examples: input.examples.map((e) => ({ ...e, request: true })),
    };
    expect(() => trainHumanRequestModel(onlyRequests)).toThrow('requests and non-requests');
    const wide = { ...input, encoder: { name: 'fake@1', dimensions: 3 } };
    expect(() => trainHumanRequestModel(wide)).toThrow('2 ≠ 3 dimensions');
  });
});

describe('chooseThreshold', () => {
  const goals = { recall: 0.97, precision: 0.98 };
  const at = (p: number, request: boolean) => ({ p, request });

  it('takes the threshold nearest both goals, halfway to the next probability', () => {
    // Cutting under 0.8 keeps every request and lets one other through (precision 3/4);
    // cutting under 0.9 loses one request (recall 2/3) and lets nothing through.
    const scored = [at(0.95, true), at(0.9, true), at(0.85, false), at(0.8, true), at(0.1, false)];
    expect(chooseThreshold(scored, goals)).toBeCloseTo(0.45, 6);
    // With a precision goal far above recall's, losing a request costs less.
    expect(chooseThreshold(scored, { recall: 0.5, precision: 1 })).toBeCloseTo(0.875, 6);
  });

  it('never cuts between equal probabilities', () => {
    const scored = [at(0.9, true), at(0.7, true), at(0.7, false), at(0.2, false)];
    // Between the 0.7s would accept both while counting only the request: precision 2/3, not 1.
    expect(chooseThreshold(scored, goals)).toBeCloseTo(0.45, 6);
  });
});

describe('stratifiedFolds', () => {
  const items = Array.from({ length: 50 }, (_, i) => ({ input: `t${i}`, request: i < 20 }));

  it('spreads each class evenly over the folds', () => {
    const folds = stratifiedFolds(items, 5, 1);
    for (let k = 0; k < 5; k++) {
      const inFold = items.filter((_, i) => folds[i] === k);
      expect(inFold.filter((e) => e.request)).toHaveLength(4);
      expect(inFold.filter((e) => !e.request)).toHaveLength(6);
    }
  });

  it('gives an example the same fold whatever the order of the corpus', () => {
    const folds = stratifiedFolds(items, 5, 1);
    const reversed = stratifiedFolds([...items].reverse(), 5, 1).reverse();
    expect(reversed).toEqual(folds);
  });

  it('needs two folds or more', () => {
    expect(() => stratifiedFolds(items, 1, 1)).toThrow('folds');
  });
});
