// From the model's token vectors to one sentence vector per text (pure).

export type Pooling = 'mean' | 'cls';

/**
 * Pools a `[batch, length, hidden]` tensor (row-major, as ONNX Runtime returns
 * `last_hidden_state`) into one vector per row: `mean` averages the token
 * vectors the attention mask keeps (padding never counts), `cls` takes the
 * first token's. Vectors are not normalised here.
 */
export function pool(
  hidden: ArrayLike<number>,
  dims: readonly [batch: number, length: number, size: number],
  attentionMask: ArrayLike<number | bigint>,
  mode: Pooling,
): Float32Array[] {
  const [batch, length, size] = dims;
  if (hidden.length !== batch * length * size) {
    throw new Error(`hidden state of ${hidden.length} values is not ${batch}×${length}×${size}`);
  }
  if (attentionMask.length !== batch * length) {
    throw new Error(`attention mask of ${attentionMask.length} values is not ${batch}×${length}`);
  }
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(size);
    const row = b * length * size;
    if (mode === 'cls') {
      for (let h = 0; h < size; h++) v[h] = hidden[row + h];
    } else {
      let kept = 0;
      for (let t = 0; t < length; t++) {
        if (Number(attentionMask[b * length + t]) === 0) continue;
        kept++;
        const at = row + t * size;
        for (let h = 0; h < size; h++) v[h] += hidden[at + h];
      }
      if (kept > 0) for (let h = 0; h < size; h++) v[h] /= kept;
    }
    out.push(v);
  }
  return out;
}
