// Text to model input, with the model's own tokenizer.json read by
// @huggingface/tokenizers (normaliser, pre-tokeniser, WordPiece, the
// [CLS] … [SEP] template); this file only truncates and pads.
import type { Tokenizer } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };

/** One padded batch, row-major `[batch, length]`, as the BERT-style ONNX graphs take it. */
export interface TokenBatch {
  readonly batch: number;
  readonly length: number;
  readonly inputIds: BigInt64Array;
  readonly attentionMask: BigInt64Array;
  readonly tokenTypeIds: BigInt64Array;
}

/**
 * Characters kept before tokenising: a word piece covers a character or more,
 * and words average well under this many characters per piece, so the cut
 * never removes text the token limit would have kept. It bounds the cost of
 * tokenising a huge text of which only the first `maxTokens` pieces count.
 */
const CHARS_PER_TOKEN_BOUND = 16;

export class TextTokenizer {
  readonly padId: number;

  private constructor(
    private readonly tokenizer: Tokenizer,
    tokenizerJson: object,
    readonly maxTokens: number,
  ) {
    const json = tokenizerJson as { padding?: { pad_id?: number } | null };
    this.padId = json.padding?.pad_id ?? this.tokenizer.token_to_id('[PAD]') ?? 0;
  }

  /** A tokenizer from the parsed contents of a `tokenizer.json`. */
  static async fromJson(tokenizerJson: object, maxTokens: number): Promise<TextTokenizer> {
    // The library is an ES module; this package is CommonJS.
    const { Tokenizer } = await import('@huggingface/tokenizers');
    return new TextTokenizer(new Tokenizer(tokenizerJson, {}), tokenizerJson, maxTokens);
  }

  /**
   * Token ids with the special tokens, at most `maxTokens`: a longer text
   * keeps its first pieces and the closing special token (the template ends
   * with exactly one, [SEP]), as the tokenizers library's right truncation does.
   */
  encode(text: string): number[] {
    const ids = this.tokenizer.encode(text.slice(0, this.maxTokens * CHARS_PER_TOKEN_BOUND)).ids;
    if (ids.length <= this.maxTokens) return ids;
    return [...ids.slice(0, this.maxTokens - 1), ids[ids.length - 1]];
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: true });
  }

  /** Right-pads token id lists to the longest into one batch (mask 0 on padding). */
  pad(rows: readonly (readonly number[])[]): TokenBatch {
    const batch = rows.length;
    const length = Math.max(1, ...rows.map((r) => r.length));
    const inputIds = new BigInt64Array(batch * length).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(batch * length);
    rows.forEach((row, b) => {
      row.forEach((id, t) => {
        inputIds[b * length + t] = BigInt(id);
        attentionMask[b * length + t] = 1n;
      });
    });
    return {
      batch,
      length,
      inputIds,
      attentionMask,
      tokenTypeIds: new BigInt64Array(batch * length),
    };
  }
}
