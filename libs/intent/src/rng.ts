// Small, seeded and fully deterministic random numbers (no Math.random anywhere
// in training), so that the same examples and options always give the same model.

/** A uniform generator on [0, 1). */
export type Random = () => number;

/** mulberry32: tiny, fast, good enough for shuffling and splits. */
export function seededRandom(seed: number): Random {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T, A extends { length: number; [i: number]: T }>(
  items: A,
  random: Random,
): A {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/**
 * Seeded stratified split of indices 0..labels.length-1: about `fraction` of each
 * label goes to the held-out part, but never a label's only example, and every
 * label keeps at least one example for training. Both parts keep input order.
 */
export function stratifiedSplit(
  labels: readonly string[],
  fraction: number,
  seed: number,
): { train: number[]; heldOut: number[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`fraction must be in [0, 1)`);
  const byLabel = new Map<string, number[]>();
  labels.forEach((label, i) => {
    const list = byLabel.get(label);
    if (list) list.push(i);
    else byLabel.set(label, [i]);
  });
  const random = seededRandom(seed);
  const held = new Uint8Array(labels.length);
  for (const label of [...byLabel.keys()].sort()) {
    const indices = byLabel.get(label)!;
    const take = Math.min(indices.length - 1, Math.round(indices.length * fraction));
    if (take <= 0) continue;
    shuffleInPlace(indices, random);
    for (let i = 0; i < take; i++) held[indices[i]] = 1;
  }
  const train: number[] = [];
  const heldOut: number[] = [];
  for (let i = 0; i < labels.length; i++) (held[i] ? heldOut : train).push(i);
  return { train, heldOut };
}
