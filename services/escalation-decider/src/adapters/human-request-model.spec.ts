import { DEFAULT_MODEL_ID, MODELS } from '@support/encoder';
import { classifierInput } from '../domain/human-request';
import { corpusExamples, corpusSha256 } from '../domain/human-request/corpus';
import modelFile from '../domain/human-request/model.json';
import { humanRequestModel, readCorpus } from './human-request';

const RETRAIN = 'run `npm run build && npm run train:human-request` and commit the model';

describe('the committed human-request model', () => {
  const files = readCorpus();
  const examples = corpusExamples(files);

  it('was trained from the corpus as it is (the weights are not stale)', () => {
    const model = humanRequestModel();
    const hash = corpusSha256(files);
    if (model.corpusSha256 !== hash)
      throw new Error(
        `corpus/human-request changed since the model was trained (${model.corpusSha256.slice(0, 12)} -> ${hash.slice(0, 12)}): ${RETRAIN}`,
      );
    const trained = examples.filter((e) => classifierInput(e.text));
    expect(modelFile.corpus).toEqual({
      sha256: hash,
      requests: trained.filter((e) => e.request).length,
      notRequests: trained.filter((e) => !e.request).length,
    });
  });

  it("was trained on the project's sentence encoder, at its version (the one every process shares and fetch.sh fetches)", () => {
    const model = MODELS[DEFAULT_MODEL_ID];
    const trainedWith = humanRequestModel().encoder;
    if (trainedWith !== `${model.id}@${model.version}`)
      throw new Error(
        `the model was trained with ${trainedWith}, the project's encoder is ${model.id}@${model.version}: ${RETRAIN}`,
      );
    expect(humanRequestModel().dimensions).toBe(model.dimensions);
  });
});

describe('the human-request corpus', () => {
  const examples = corpusExamples(readCorpus());

  it('holds many hundreds of requests, and at least as many messages that are not', () => {
    const requests = examples.filter((e) => e.request).length;
    expect(requests).toBeGreaterThanOrEqual(800);
    expect(examples.length - requests).toBeGreaterThanOrEqual(requests);
  });

  it('holds each message once', () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const e of examples) {
      const key = e.text.toLowerCase().replace(/\s+/g, ' ');
      const first = seen.get(key);
      if (first) twice.push(`${first} and ${e.source}: ${e.text}`);
      else seen.set(key, e.source);
    }
    expect(twice).toEqual([]);
  });

  it('refuses a file outside requests/ and not-requests/', () => {
    expect(() => corpusExamples([{ path: 'maybe/x.txt', text: 'hello' }])).toThrow(
      'corpus file maybe/x.txt: must be under requests/ or not-requests/',
    );
  });

  it('hashes paths and contents, whatever the order files are read in', () => {
    const a = { path: 'requests/a.txt', text: 'human please\n' };
    const b = { path: 'not-requests/b.txt', text: 'where is my invoice\n' };
    expect(corpusSha256([a, b])).toBe(corpusSha256([b, a]));
    expect(corpusSha256([a, b])).not.toBe(corpusSha256([{ ...a, text: 'human pls\n' }, b]));
    expect(corpusSha256([a, b])).not.toBe(corpusSha256([{ ...a, path: 'requests/c.txt' }, b]));
  });
});
