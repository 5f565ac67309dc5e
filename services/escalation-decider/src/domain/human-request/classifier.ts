// The third layer: a logistic regression over the sentence encoder's vector
// of a message, trained on the corpus in corpus/human-request/ (training.ts,
// `npm run train:human-request`). The weights are in human-request-model.json
// beside this file, with the encoder and the corpus they were trained from.

export interface HumanRequestModel {
  /** The sentence encoder whose vectors the weights read (`encoder.name`). */
  encoder: string;
  dimensions: number;
  weights: Float32Array;
  bias: number;
  /** The logit is divided by it (fitted on the held-out part of the corpus). */
  temperature: number;
  /** The probability from which a message counts as a request. */
  threshold: number;
  /** SHA-256 of the corpus the weights were trained on (see corpus.ts). */
  corpusSha256: string;
}

const finite = (value: unknown, field: string): number => {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new Error(`human-request model: ${field} must be a finite number`);
  return value;
};

/** The model from its JSON, checked field by field (an error names the field). */
export function parseHumanRequestModel(json: unknown): HumanRequestModel {
  if (typeof json !== 'object' || json === null)
    throw new Error('human-request model: expected an object');
  const o = json as Record<string, unknown>;
  if (typeof o.encoder !== 'string' || !o.encoder)
    throw new Error('human-request model: encoder must name the sentence encoder');
  const dimensions = finite(o.dimensions, 'dimensions');
  if (!Array.isArray(o.weights) || o.weights.length !== dimensions)
    throw new Error(`human-request model: weights must be ${dimensions} numbers`);
  const weights = Float32Array.from(o.weights, (w, i) => finite(w, `weights[${i}]`));
  const temperature = finite(o.temperature, 'temperature');
  if (temperature <= 0) throw new Error('human-request model: temperature must be positive');
  const threshold = finite(o.threshold, 'threshold');
  if (threshold <= 0 || threshold >= 1)
    throw new Error('human-request model: threshold must be between 0 and 1');
  const corpus = o.corpus as Record<string, unknown> | undefined;
  if (typeof corpus?.sha256 !== 'string')
    throw new Error('human-request model: corpus.sha256 must be the hash of the corpus');
  return {
    encoder: o.encoder,
    dimensions,
    weights,
    bias: finite(o.bias, 'bias'),
    temperature,
    threshold,
    corpusSha256: corpus.sha256,
  };
}

/** P(the message asks for a person | its sentence vector). */
export function requestProbability(model: HumanRequestModel, embedding: ArrayLike<number>): number {
  if (embedding.length !== model.dimensions)
    throw new Error(
      `human-request model: a vector of ${embedding.length} dimensions, the model reads ${model.dimensions}`,
    );
  let z = model.bias;
  for (let i = 0; i < model.dimensions; i++) z += model.weights[i] * embedding[i];
  return 1 / (1 + Math.exp(-z / model.temperature));
}
