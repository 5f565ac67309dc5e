import { pool } from './pooling.js';

// Two texts of up to three tokens, hidden size 2: row 0 has three real
// tokens, row 1 two and one padding token whose vector must not count.
const hidden = Float32Array.from([
  ...[1, 2],
  ...[3, 4],
  ...[5, 9],
  ...[10, 0],
  ...[0, 10],
  ...[1000, -1000],
]);
const mask = BigInt64Array.from([1n, 1n, 1n, 1n, 1n, 0n]);

describe('pool', () => {
  it('mean: averages the token vectors the attention mask keeps', () => {
    const [a, b] = pool(hidden, [2, 3, 2], mask, 'mean');
    expect(Array.from(a)).toEqual([3, 5]);
    expect(Array.from(b)).toEqual([5, 5]);
  });

  it('cls: takes the first token of each row', () => {
    const [a, b] = pool(hidden, [2, 3, 2], mask, 'cls');
    expect(Array.from(a)).toEqual([1, 2]);
    expect(Array.from(b)).toEqual([10, 0]);
  });

  it('refuses a tensor or mask of the wrong size', () => {
    expect(() => pool(hidden, [2, 3, 3], mask, 'mean')).toThrow(/not 2×3×3/);
    expect(() => pool(hidden, [2, 3, 2], mask.subarray(1), 'mean')).toThrow(/mask/);
  });
});
