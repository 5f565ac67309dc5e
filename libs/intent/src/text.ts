// Text normalisation and n-gram extraction for the sparse (TF-IDF) features.

/**
 * Lower-cases, strips accents, drops apostrophes ("don't" -> "dont"), maps every
 * digit to 0 (amounts and dates differ, their shape matters) and turns any other
 * run of non-letters/non-digits into one space.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['\u2018\u2019`]/g, '')
    .replace(/\p{Nd}/gu, '0')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function tokenize(normalized: string): string[] {
  return normalized.length === 0 ? [] : normalized.split(' ');
}

/** Word n-grams for n in [min, max], joined by a space; bigrams include the sentence edges. */
export function wordNgrams(tokens: readonly string[], min: number, max: number): string[] {
  const out: string[] = [];
  if (min <= 1 && max >= 1) out.push(...tokens);
  if (max >= 2 && tokens.length > 0) {
    const padded = ['<s>', ...tokens, '</s>'];
    for (let n = Math.max(2, min); n <= max; n++) {
      for (let i = 0; i + n <= padded.length; i++) out.push(padded.slice(i, i + n).join(' '));
    }
  }
  return out;
}

/**
 * Character n-grams inside word boundaries (like scikit-learn's `char_wb`): each
 * token is padded with a space on both sides; a padded token shorter than n
 * contributes itself once.
 */
export function charNgrams(tokens: readonly string[], min: number, max: number): string[] {
  const out: string[] = [];
  for (const token of tokens) {
    const padded = ` ${token} `;
    for (let n = min; n <= max; n++) {
      if (padded.length <= n) {
        out.push(padded);
        break;
      }
      for (let i = 0; i + n <= padded.length; i++) out.push(padded.slice(i, i + n));
    }
  }
  return out;
}
