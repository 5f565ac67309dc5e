// Sparse TF-IDF features: word n-grams and character n-grams (inside word
// boundaries), each block sublinear-tf × idf, L2-normalised, then scaled by its
// weight. The vocabulary comes from the training texts only, capped by a minimum
// document frequency and a maximum number of features per block.
//
// By default the n-grams outside the vocabulary count in a block's norm (with
// the idf of an n-gram seen once), although they get no column: a text of which
// only one n-gram is known then carries little evidence, instead of having that
// one n-gram scaled up to the full weight of the block. This keeps gibberish and
// unrelated text near the prior, where the out-of-scope threshold can see it.
import { base64ToFloat32, float32ToBase64 } from './codec.js';
import { charNgrams, normalizeText, tokenize, wordNgrams } from './text.js';

export interface NgramOptions {
  /** Weight of the word n-gram block (0 disables it). */
  wordWeight: number;
  /** Weight of the character n-gram block (0 disables it). */
  charWeight: number;
  wordNgramRange: [number, number];
  charNgramRange: [number, number];
  /** An n-gram must occur in at least this many training texts. */
  minDocumentFrequency: number;
  maxWordFeatures: number;
  maxCharFeatures: number;
  /** Count out-of-vocabulary n-grams in each block's L2 norm (see above). */
  unknownInNorm: boolean;
}

/** One sparse row: column indices (unique) and their values. */
export interface SparseRow {
  indices: Int32Array;
  values: Float32Array;
  /**
   * How many of the text's words are in the word vocabulary, or -1 when the
   * vocabulary has no single words (word block disabled or n ≥ 2 only).
   */
  knownWords: number;
}

interface Block {
  vocabulary: string[];
  index: Map<string, number>;
  idf: Float32Array;
  /** Idf given to an n-gram outside the vocabulary (that of an n-gram seen once). */
  unknownIdf: number;
}

export interface SerializedNgramFeaturizer {
  options: NgramOptions;
  words: { vocabulary: string[]; idf: string; unknownIdf: number };
  chars: { vocabulary: string[]; idf: string; unknownIdf: number };
}

function emptyBlock(): Block {
  return { vocabulary: [], index: new Map(), idf: new Float32Array(0), unknownIdf: 0 };
}

function makeBlock(vocabulary: string[], idf: Float32Array, unknownIdf: number): Block {
  return { vocabulary, index: new Map(vocabulary.map((g, i) => [g, i])), idf, unknownIdf };
}

function fitBlock(docs: readonly string[][], minDf: number, maxFeatures: number): Block {
  const df = new Map<string, number>();
  for (const grams of docs) {
    for (const g of new Set(grams)) df.set(g, (df.get(g) ?? 0) + 1);
  }
  const kept = [...df].filter(([, count]) => count >= minDf);
  // Most frequent first; ties broken by the n-gram itself so the order never
  // depends on Map iteration order (and hence on the order of the examples).
  kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const selected = kept.slice(0, Math.max(0, maxFeatures));
  const n = docs.length;
  const idf = new Float32Array(selected.length);
  selected.forEach(([, count], i) => (idf[i] = Math.log((1 + n) / (1 + count)) + 1));
  return makeBlock(
    selected.map(([g]) => g),
    idf,
    Math.fround(Math.log((1 + n) / 2) + 1),
  );
}

/** Appends the block's weighted, L2-normalised TF-IDF entries to the output lists. */
function encodeBlock(
  block: Block,
  grams: readonly string[],
  weight: number,
  offset: number,
  unknownInNorm: boolean,
  outIndices: number[],
  outValues: number[],
): void {
  if (weight === 0 || block.vocabulary.length === 0) return;
  const counts = new Map<number, number>();
  const unknown = new Map<string, number>();
  for (const g of grams) {
    const j = block.index.get(g);
    if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
    else if (unknownInNorm) unknown.set(g, (unknown.get(g) ?? 0) + 1);
  }
  if (counts.size === 0) return;
  const start = outValues.length;
  let norm = 0;
  for (const [j, tf] of counts) {
    const v = (1 + Math.log(tf)) * block.idf[j];
    outIndices.push(offset + j);
    outValues.push(v);
    norm += v * v;
  }
  for (const tf of unknown.values()) norm += ((1 + Math.log(tf)) * block.unknownIdf) ** 2;
  const scale = weight / Math.sqrt(norm);
  for (let i = start; i < outValues.length; i++) outValues[i] *= scale;
}

export class NgramFeaturizer {
  private constructor(
    readonly options: NgramOptions,
    private readonly words: Block,
    private readonly chars: Block,
  ) {}

  static fit(texts: readonly string[], options: NgramOptions): NgramFeaturizer {
    const tokens = texts.map((t) => tokenize(normalizeText(t)));
    const [w1, w2] = options.wordNgramRange;
    const [c1, c2] = options.charNgramRange;
    const words =
      options.wordWeight > 0
        ? fitBlock(
            tokens.map((t) => wordNgrams(t, w1, w2)),
            options.minDocumentFrequency,
            options.maxWordFeatures,
          )
        : emptyBlock();
    const chars =
      options.charWeight > 0
        ? fitBlock(
            tokens.map((t) => charNgrams(t, c1, c2)),
            options.minDocumentFrequency,
            options.maxCharFeatures,
          )
        : emptyBlock();
    return new NgramFeaturizer(options, words, chars);
  }

  get wordFeatures(): number {
    return this.words.vocabulary.length;
  }

  get charFeatures(): number {
    return this.chars.vocabulary.length;
  }

  /** Number of sparse columns: word block first, then the character block. */
  get dimension(): number {
    return this.words.vocabulary.length + this.chars.vocabulary.length;
  }

  transform(text: string): SparseRow {
    const tokens = tokenize(normalizeText(text));
    const indices: number[] = [];
    const values: number[] = [];
    const { wordWeight, charWeight, wordNgramRange, charNgramRange, unknownInNorm } = this.options;
    if (this.words.vocabulary.length > 0) {
      const grams = wordNgrams(tokens, wordNgramRange[0], wordNgramRange[1]);
      encodeBlock(this.words, grams, wordWeight, 0, unknownInNorm, indices, values);
    }
    if (this.chars.vocabulary.length > 0) {
      const grams = charNgrams(tokens, charNgramRange[0], charNgramRange[1]);
      const offset = this.words.vocabulary.length;
      encodeBlock(this.chars, grams, charWeight, offset, unknownInNorm, indices, values);
    }
    let knownWords = -1;
    if (this.words.vocabulary.length > 0 && wordNgramRange[0] === 1) {
      knownWords = 0;
      for (const t of tokens) if (this.words.index.has(t)) knownWords++;
    }
    return { indices: Int32Array.from(indices), values: Float32Array.from(values), knownWords };
  }

  toJSON(): SerializedNgramFeaturizer {
    return {
      options: {
        ...this.options,
        wordNgramRange: [...this.options.wordNgramRange],
        charNgramRange: [...this.options.charNgramRange],
      },
      words: {
        vocabulary: [...this.words.vocabulary],
        idf: float32ToBase64(this.words.idf),
        unknownIdf: this.words.unknownIdf,
      },
      chars: {
        vocabulary: [...this.chars.vocabulary],
        idf: float32ToBase64(this.chars.idf),
        unknownIdf: this.chars.unknownIdf,
      },
    };
  }

  static fromJSON(json: SerializedNgramFeaturizer): NgramFeaturizer {
    const words = makeBlock(
      [...json.words.vocabulary],
      base64ToFloat32(json.words.idf, json.words.vocabulary.length),
      json.words.unknownIdf,
    );
    const chars = makeBlock(
      [...json.chars.vocabulary],
      base64ToFloat32(json.chars.idf, json.chars.vocabulary.length),
      json.chars.unknownIdf,
    );
    return new NgramFeaturizer(
      {
        ...json.options,
        wordNgramRange: [...json.options.wordNgramRange],
        charNgramRange: [...json.options.charNgramRange],
      },
      words,
      chars,
    );
  }
}
