// Exact, endian-explicit base64 encoding of Float32 arrays for the serialised model.

export function float32ToBase64(values: Float32Array): string {
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i], i * 4);
  return bytes.toString('base64');
}

export function base64ToFloat32(text: string, expectedLength?: number): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new Error('float32 data: byte length is not a multiple of 4');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new Error(`float32 data: expected ${expectedLength} values, got ${out.length}`);
  }
  return out;
}
