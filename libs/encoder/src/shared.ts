// One encoder per model per process.
import {
  DEFAULT_MODEL_ID,
  defaultModelsDir,
  encoderName,
  findModel,
  locateModelFiles,
} from './models.js';
import {
  OnnxSentenceEncoder,
  type EmbedKind,
  type EncoderOptions,
  type SentenceEncoder,
} from './onnx-encoder.js';

const shared = new Map<string, Promise<OnnxSentenceEncoder>>();

/**
 * The process-wide sentence encoder (`ENCODER_MODEL`, else the project's
 * model), loaded on first use; every caller shares it and its batches. A
 * failed load is not kept, so a later call tries again (e.g. after a fetch).
 */
export function sentenceEncoder(
  options: Omit<EncoderOptions, 'modelsDir'> = {},
): Promise<OnnxSentenceEncoder> {
  const id = options.model ?? process.env.ENCODER_MODEL ?? DEFAULT_MODEL_ID;
  let encoder = shared.get(id);
  if (!encoder) {
    encoder = OnnxSentenceEncoder.load({ ...options, model: id });
    shared.set(id, encoder);
    encoder.catch(() => shared.delete(id));
  }
  return encoder;
}

/**
 * The process-wide sentence encoder of `sentenceEncoder`, loaded only when a text must be
 * embedded here. Its name and dimensions are known at once, so a vector made elsewhere by the
 * same model is taken (`vectorOf`) without the model ever being loaded: a service whose texts
 * come with their vectors (ingest embeds every customer message) keeps about 110 MB less. The
 * model's files are looked for at once, so a missing model still fails the start.
 */
export function lazySentenceEncoder(
  options: Omit<EncoderOptions, 'modelsDir'> = {},
): SentenceEncoder & { loaded(): boolean } {
  const id = options.model ?? process.env.ENCODER_MODEL ?? DEFAULT_MODEL_ID;
  const model = findModel(id);
  locateModelFiles(model, defaultModelsDir());
  return {
    name: encoderName(model),
    dimensions: model.dimensions,
    embed: async (texts: string[], kind?: EmbedKind) =>
      (await sentenceEncoder({ ...options, model: id })).embed(texts, kind),
    loaded: () => shared.has(id),
  };
}

/** A text's vector made elsewhere (say, by ingest, carried on the log), and the encoder that made it. */
export interface GivenVector {
  model: string;
  values: ArrayLike<number>;
}

/**
 * A text's query vector: the one given, when this encoder made it (the same model and
 * dimensions), else embedded now.
 */
export async function vectorOf(
  encoder: Pick<SentenceEncoder, 'name' | 'dimensions' | 'embed'>,
  text: string,
  given?: GivenVector,
): Promise<Float32Array> {
  if (given && given.model === encoder.name && given.values.length === encoder.dimensions)
    return Float32Array.from(given.values);
  return (await encoder.embed([text]))[0];
}
