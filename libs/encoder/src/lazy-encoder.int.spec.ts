// Runs the real model from deploy/local/.cache/models (fetched by
// `bash deploy/local/models/fetch.sh`, which npm test runs first).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_ID, encoderName, MODELS, ModelFilesMissingError } from './models.js';
import { lazySentenceEncoder, sentenceEncoder, vectorOf } from './shared.js';

describe('lazySentenceEncoder: the model loaded only when a text is embedded here', () => {
  const model = MODELS[process.env.ENCODER_MODEL ?? DEFAULT_MODEL_ID];

  it('takes a vector the same model made elsewhere without loading the model, and loads it for a text that has none', async () => {
    const lazy = lazySentenceEncoder();
    expect(lazy.name).toBe(encoderName(model));
    expect(lazy.dimensions).toBe(model.dimensions);
    const given = { model: lazy.name, values: Array.from({ length: model.dimensions }, () => 0.5) };
    const taken = await vectorOf(lazy, 'my order is late', given);
    expect(Array.from(taken)).toEqual(given.values);
    expect(lazy.loaded()).toBe(false);

    const [embedded] = await lazy.embed(['my order is late']);
    expect(lazy.loaded()).toBe(true);
    const [direct] = await (await sentenceEncoder()).embed(['my order is late']);
    expect(Array.from(embedded)).toEqual(Array.from(direct));
  });

  it('fails at once, naming the fetch command, when the model files are missing', () => {
    const before = process.env.ENCODER_MODELS_DIR;
    process.env.ENCODER_MODELS_DIR = mkdtempSync(join(tmpdir(), 'no-models-'));
    try {
      expect(() => lazySentenceEncoder()).toThrow(ModelFilesMissingError);
      expect(() => lazySentenceEncoder()).toThrow(/deploy\/local\/models\/fetch\.sh/);
    } finally {
      if (before === undefined) delete process.env.ENCODER_MODELS_DIR;
      else process.env.ENCODER_MODELS_DIR = before;
    }
  });
});
