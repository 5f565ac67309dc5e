/**
 * Word handling for retrieval and grounding: tokens, stop words and a light
 * stemmer, so that "invoices", "invoice" and "invoicing" meet.
 */

const STOP_WORDS = new Set(
  (
    'a about above after again all am an and any are as at be been before being below between both but by ' +
    'can cannot could did do does doing done down during each either else ever every few for from get gets got ' +
    'had has have having he her here hers him his how i if in into is it its itself just let like me might mine ' +
    'more most must my myself need needs no nor not now of off on once one only or other our ours out over own ' +
    'please same she should so some still such than that the their them then there these they this those through ' +
    'to too under until up us very want wants was we were what when where which while who whom why will with ' +
    'would you your yours yourself hi hello hey thanks thank cheers regards dear ok okay also any anyone ' +
    'someone something tell know way possible help im ive dont doesnt cant whats hows getting keep keeps ' +
    'keeping try tried trying really actually currently since'
  ).split(/\s+/),
);

export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}

/** Lower-case word tokens (letters and digits); apostrophes are dropped ("what's" -> "whats"). */
export function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/['\u2019]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** A light suffix stemmer: plural and verb endings, then a trailing "e". */
export function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) w = w.slice(0, -3) + 'y';
  else if (w.length > 4 && w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  if (w.length > 3 && /([b-df-hj-np-tv-z])\1$/.test(w) && !/(ll|ss|zz)$/.test(w))
    w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

/** The content words of a text: tokens that are not stop words, at least two characters long. */
export function contentWords(text: string): string[] {
  return [...new Set(tokens(text).filter((t) => t.length >= 2 && !STOP_WORDS.has(t)))];
}

/** The distinct stems of a text's content words. */
export function contentStems(text: string): Set<string> {
  return new Set(contentWords(text).map(stem));
}

/** Splits prose into sentences at ".", "!" or "?" followed by a space and a capital letter or digit. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'(])/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * How alike two texts are in what they say: the cosine of their content-stem
 * sets, 0..1 (1 = the same words after stemming, order ignored).
 */
export function stemSimilarity(a: string, b: string): number {
  const x = contentStems(a);
  const y = contentStems(b);
  if (x.size === 0 || y.size === 0) return 0;
  let shared = 0;
  for (const s of x) if (y.has(s)) shared++;
  return shared / Math.sqrt(x.size * y.size);
}

export { normalize, oneOf, pattern, within } from './patterns.js';
export { NEGATION_LEXICON, removeNegated, type Negation, type NegationResult } from './negation.js';
