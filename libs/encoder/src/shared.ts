// One encoder per model per process.
import { DEFAULT_MODEL_ID } from './models.js';
import { OnnxSentenceEncoder, type EncoderOptions } from './onnx-encoder.js';

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
