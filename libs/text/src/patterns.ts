// Building blocks of the human-request lexicons: regular expressions whose
// `\b` is a word boundary and `\w` a word character in every alphabet
// (JavaScript's own know only ASCII letters, so "osobą\b" or "\béquipe" never
// match), and the text as the lexicons read it.

const LETTER = '[\\p{L}\\p{N}_]';
/** A Unicode-aware word boundary. */
const BOUNDARY = `(?:(?<=${LETTER})(?!${LETTER})|(?<!${LETTER})(?=${LETTER}))`;

/**
 * A case-insensitive Unicode regular expression from `parts` joined, where
 * `\b` is a word boundary, `\w` a word character and `\W` any other in any
 * alphabet. Parts are joined as they are: a part that needs grouping says so
 * itself.
 */
export function pattern(...parts: string[]): RegExp {
  const source = parts
    .join('')
    .replaceAll('\\b', BOUNDARY)
    .replaceAll('\\w', LETTER)
    .replaceAll('\\W', `[^${LETTER.slice(1, -1)}]`);
  return new RegExp(source, 'iu');
}

/** `(?:a|b|c)` from a list of alternatives (written as regular-expression source). */
export const oneOf = (alternatives: readonly string[]): string => `(?:${alternatives.join('|')})`;

/**
 * Up to `max` characters within one clause (no sentence or clause punctuation),
 * never running over any of the `stops` words: what may stand between a
 * negation and the person it negates ("don't want to TALK TO an agent").
 */
export function within(max: number, stops: readonly string[]): string {
  return `(?:(?!\\b${oneOf(stops)}\\b)[^.!?,;:\\n]){0,${max}}?`;
}

/** The text as the lexicons read it: typographic apostrophes and dashes as ASCII, spaces collapsed. */
export function normalize(text: string): string {
  return text
    .replace(/[\u2018\u2019\u02bc\u00b4`]/g, "'")
    .replace(/[\u2010-\u2015]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}
