// Helpers shared by the specs (not exported from the package).
import type { Example } from './classifier.js';
import { l2Normalize, type SentenceEncoder } from '@support/encoder';
import { seededRandom } from './rng.js';

/** Deterministic stand-in encoder: hashed bag of words into `dimensions` buckets. */
export function fakeEncoder(name = 'fake-bow', dimensions = 32): SentenceEncoder {
  return {
    name,
    dimensions,
    async embed(texts: string[]) {
      return texts.map((text) => {
        const v = new Float32Array(dimensions);
        for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
          let h = 2166136261;
          for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
          v[(h >>> 0) % dimensions] += 1;
        }
        return l2Normalize(v);
      });
    },
  };
}

const TOPICS: Record<string, string[]> = {
  billing: ['invoice', 'charged', 'refund', 'payment', 'bill', 'overcharged', 'receipt', 'price'],
  delivery: ['parcel', 'shipping', 'courier', 'tracking', 'delivered', 'package', 'arrive', 'late'],
  account: ['password', 'login', 'username', 'locked', 'reset', 'email', 'profile', 'signin'],
  cancel: ['cancel', 'subscription', 'terminate', 'unsubscribe', 'stop', 'close', 'quit', 'end'],
};
const FILLER = [
  'my',
  'the',
  'please',
  'help',
  'i',
  'need',
  'with',
  'a',
  'can',
  'you',
  'about',
  'is',
];

/**
 * A small synthetic intent problem: each label has its own keywords mixed with
 * shared filler words (and a few typos from the character-level point of view).
 */
export function syntheticExamples(perLabel: number, seed: number): Example[] {
  const random = seededRandom(seed);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];
  const out: Example[] = [];
  for (let i = 0; i < perLabel; i++) {
    for (const [label, words] of Object.entries(TOPICS)) {
      const tokens: string[] = [];
      const length = 5 + Math.floor(random() * 5);
      for (let t = 0; t < length; t++) tokens.push(random() < 0.35 ? pick(words) : pick(FILLER));
      if (!tokens.some((t) => words.includes(t))) tokens.push(pick(words));
      out.push({ text: tokens.join(' '), label });
    }
  }
  return out;
}

export const SYNTHETIC_LABELS = Object.keys(TOPICS).sort();
