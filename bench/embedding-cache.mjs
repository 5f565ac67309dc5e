// Sentence vectors of evaluation and training texts, cached on disk: a file per encoder and
// list of texts in <repo>/.cache/embeddings/ (git-ignored), so that re-running a benchmark or
// a training skips the minutes of encoding. The cache holds vectors only, never the texts.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const cacheDir = join(root, '.cache', 'embeddings');
const MAGIC = 0x31424d45; // 'EMB1'

/** What this process embedded (and how long that took) and what it read from the cache. */
export const embedStats = { computedMs: 0, computed: 0, cached: 0 };

/** Texts per encoder call: the encoder batches within a call; this bounds the memory held. */
const CHUNK = 512;

/**
 * The vectors of `texts` (Float32Arrays, in order) from `encoder` (an `@support/encoder`
 * SentenceEncoder), read from the cache when the same encoder embedded the same texts before.
 * `onProgress(done, total)` is called while encoding.
 */
export async function embedCached(encoder, texts, onProgress = () => {}) {
  if (endianness() !== 'LE') throw new Error('the embedding cache assumes a little-endian machine');
  const hash = createHash('sha256').update(encoder.name).update('\0');
  for (const t of texts) hash.update(String(t.length)).update(':').update(t);
  const file = join(cacheDir, `${hash.digest('hex').slice(0, 32)}.f32`);
  const dim = encoder.dimensions;
  if (existsSync(file)) {
    const buf = readFileSync(file);
    const header = new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 12));
    if (header[0] === MAGIC && header[1] === texts.length && header[2] === dim) {
      const all = new Float32Array(
        buf.buffer.slice(buf.byteOffset + 12, buf.byteOffset + buf.length),
      );
      embedStats.cached += texts.length;
      return texts.map((_, i) => all.subarray(i * dim, (i + 1) * dim));
    }
  }
  const started = performance.now();
  const out = new Float32Array(texts.length * dim);
  for (let start = 0; start < texts.length; start += CHUNK) {
    const vectors = await encoder.embed(texts.slice(start, start + CHUNK));
    vectors.forEach((v, i) => out.set(v, (start + i) * dim));
    onProgress(Math.min(texts.length, start + CHUNK), texts.length);
  }
  embedStats.computedMs += performance.now() - started;
  embedStats.computed += texts.length;
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from(new Uint32Array([MAGIC, texts.length, dim]).buffer),
      Buffer.from(out.buffer),
    ]),
  );
  return texts.map((_, i) => out.subarray(i * dim, (i + 1) * dim));
}
