// A sentence encoder on ONNX Runtime (CPU): tokenizer.json through
// @huggingface/tokenizers, the model's pooling, L2-normalised vectors, and
// concurrent calls coalesced into bounded batches.
import { readFile } from 'node:fs/promises';
import { CoalescingBatcher } from './batcher.js';
import {
  encoderName,
  DEFAULT_MODEL_ID,
  defaultModelsDir,
  findModel,
  locateModelFiles,
  modelText,
  type EncoderModel,
} from './models.js';
import { loadOnThread, type TensorInput, type ThreadSession } from './onnx-thread.js';
import { pool } from './pooling.js';
import { TextTokenizer } from './tokenize.js';
import { l2Normalize } from './vectors.js';

/**
 * What a text is, for models trained with role prefixes (e5): a `query` is a
 * question or a message to classify, a `passage` a piece of a document to be
 * found. Models without prefixes embed both alike.
 */
export type EmbedKind = 'query' | 'passage';

export interface SentenceEncoder {
  /** Identifies the encoder and its weights; models and stored vectors record it. */
  readonly name: string;
  readonly dimensions: number;
  /** One L2-normalised vector per text, in order (`kind` defaults to `query`). */
  embed(texts: string[], kind?: EmbedKind): Promise<Float32Array[]>;
}

export interface EncoderOptions {
  /** A model id from `MODELS` (default `ENCODER_MODEL`, else `DEFAULT_MODEL_ID`). */
  model?: string;
  /** Where the fetched models are (default `ENCODER_MODELS_DIR`, else the repository's cache). */
  modelsDir?: string;
  /** Texts per ONNX run (default 32). */
  maxBatch?: number;
  /**
   * Padded tokens per ONNX run (batch × longest text; default 8192): a batch
   * of long passages is split so that attention's memory stays bounded.
   */
  maxBatchTokens?: number;
  /** ONNX Runtime's intra-op threads (default `ENCODER_THREADS`, else 1). */
  threads?: number;
}

/** Padded tokens per real token a batch may cost. */
const MAX_PADDING = 1.25;

interface Item {
  text: string;
  kind: EmbedKind;
}

export class OnnxSentenceEncoder implements SentenceEncoder {
  readonly name: string;
  readonly dimensions: number;
  private readonly batcher: CoalescingBatcher<Item, Float32Array>;
  private readonly maxBatchTokens: number;

  private constructor(
    readonly model: EncoderModel,
    private readonly session: ThreadSession,
    private readonly tokenizer: TextTokenizer,
    options: EncoderOptions,
  ) {
    this.name = encoderName(model);
    this.dimensions = model.dimensions;
    this.maxBatchTokens = options.maxBatchTokens ?? 8192;
    this.batcher = new CoalescingBatcher((items) => this.runBatch(items), options.maxBatch ?? 32);
  }

  /** Loads the model's files from the models folder (they must have been fetched). */
  static async load(options: EncoderOptions = {}): Promise<OnnxSentenceEncoder> {
    const model = findModel(options.model ?? process.env.ENCODER_MODEL ?? DEFAULT_MODEL_ID);
    const files = locateModelFiles(model, options.modelsDir ?? defaultModelsDir());
    const threads = options.threads ?? envThreads();
    // The model runs on the process's ONNX thread (onnx-thread.ts), started with the first model.
    const [session, tokenizerJson] = await Promise.all([
      loadOnThread(files.onnx, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        interOpNumThreads: 1,
        // Without the arena, memory for a batch of long passages goes back when the run ends.
        enableCpuMemArena: false,
        ...(threads ? { intraOpNumThreads: threads } : {}),
      }),
      readFile(files.tokenizer, 'utf8').then((json) => JSON.parse(json) as object),
    ]);
    const tokenizer = await TextTokenizer.fromJson(tokenizerJson, model.maxTokens);
    return new OnnxSentenceEncoder(model, session, tokenizer, options);
  }

  embed(texts: string[], kind: EmbedKind = 'query'): Promise<Float32Array[]> {
    return this.batcher.submit(texts.map((text) => ({ text, kind })));
  }

  /** Token ids of a text as the model sees it (prefix, truncation, special tokens). */
  tokenize(text: string, kind: EmbedKind = 'query'): number[] {
    return this.tokenizer.encode(modelText(this.model, text, kind));
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  /** One coalesced batch: sorted by length, split by the token budget, one ONNX run per part. */
  private async runBatch(items: Item[]): Promise<Float32Array[]> {
    const rows = items.map((item, index) => ({ index, ids: this.tokenize(item.text, item.kind) }));
    rows.sort((a, b) => a.ids.length - b.ids.length);
    const out = new Array<Float32Array>(items.length);
    let start = 0;
    while (start < rows.length) {
      // Sorted ascending, so a part's padded length is its last row's. A part grows while it
      // stays within the token budget and padding adds at most a quarter to its real tokens
      // (the model's cost grows with padded tokens; a batch saves less than padding wastes).
      let end = start + 1;
      let real = rows[start].ids.length;
      while (end < rows.length) {
        const length = rows[end].ids.length;
        const padded = (end + 1 - start) * length;
        if (padded > this.maxBatchTokens || padded > MAX_PADDING * (real + length)) break;
        real += length;
        end++;
      }
      const part = rows.slice(start, end);
      const vectors = await this.runOnnx(part.map((r) => r.ids));
      part.forEach((r, i) => (out[r.index] = vectors[i]));
      start = end;
    }
    return out;
  }

  private async runOnnx(ids: number[][]): Promise<Float32Array[]> {
    const batch = this.tokenizer.pad(ids);
    const dims = [batch.batch, batch.length];
    const inputs: Record<string, TensorInput> = {
      input_ids: { type: 'int64', data: batch.inputIds, dims },
      attention_mask: { type: 'int64', data: batch.attentionMask, dims },
      token_type_ids: { type: 'int64', data: batch.tokenTypeIds, dims },
    };
    const feeds = Object.fromEntries(this.session.inputNames.map((n) => [n, inputs[n]]));
    const hidden = await this.session.run(feeds, 'last_hidden_state');
    const [b, length, size] = hidden.dims;
    if (size !== this.dimensions) throw new Error(`model returned ${size} dimensions`);
    const pooled = pool(hidden.data, [b, length, size], batch.attentionMask, this.model.pooling);
    return pooled.map(l2Normalize);
  }
}

/**
 * One intra-op thread unless ENCODER_THREADS says otherwise. The services that encode (the AI
 * responder, the scorer, the decider) share the machine's cores: with a thread per core, each
 * process's ONNX Runtime pool spins for work while the others need the cores. Measured with
 * `npm run bench` on two cores: the pipeline's sustained rate went from 10 to 25 msg/s.
 */
function envThreads(): number {
  const raw = process.env.ENCODER_THREADS;
  if (!raw) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`ENCODER_THREADS must be a positive integer, not '${raw}'`);
  }
  return n;
}
