import { contentStems, contentWords, sentences, stem, tokens } from './text.js';

/** An article as retrieval returns it, best first. */
export interface RankedArticle {
  id: string;
  title: string;
  body: string;
  tags: string[];
  /** Retrieval score (ts_rank_cd), higher is better, unbounded. */
  score: number;
}

export interface CitationDraft {
  articleId: string;
  title: string;
  snippet: string;
  score: number;
}

/** A grounded answer to one customer message. */
export interface Answer {
  text: string;
  /** 0..1: how sure we are that the text answers the question. */
  confidence: number;
  citations: CitationDraft[];
  /** The best article's first tag, or "unknown". */
  intent: string;
  /** Ids of the articles considered, best first. */
  articlesTried: string[];
}

export const NO_ANSWER_TEXT =
  "I'm sorry, I couldn't find an answer to that in our help center. Let me find someone who can help.";

/** The words to search for: the question's content words, lower-case letters and digits only. */
export function searchTerms(question: string): string[] {
  return contentWords(question).slice(0, 32);
}

/** Fraction of the question's stems that the article (title, tags and body) contains. */
export function coverage(questionStems: Set<string>, article: RankedArticle): number {
  if (questionStems.size === 0) return 0;
  const articleStems = new Set(
    tokens(`${article.title} ${article.tags.join(' ')} ${article.body}`).map(stem),
  );
  let found = 0;
  for (const s of questionStems) if (articleStems.has(s)) found++;
  return found / questionStems.size;
}

/** Below this coverage the confidence falls off steeply: the article answers only part of the question. */
const FULL_COVERAGE = 0.6;

/**
 * Confidence from three signals, multiplied so that any weak one pulls it
 * down: how much of the question the best article covers, how strong its
 * retrieval score is (ts_rank_cd, mapped to 0..1, 0.5 at a score of 1) and
 * how clearly it beats the runner-up.
 */
export function confidenceOf(cover: number, top: number, runnerUp: number | undefined): number {
  if (cover <= 0 || top <= 0) return 0;
  const coverFactor = Math.min(1, cover / FULL_COVERAGE) ** 1.5;
  const strength = top / (top + 1);
  const margin = runnerUp === undefined ? 1 : Math.max(0, (top - runnerUp) / top);
  const value = coverFactor * strength * (0.75 + 0.25 * margin);
  return Math.round(Math.min(1, Math.max(0, value)) * 1000) / 1000;
}

/**
 * An extractive passage of up to `max` sentences: the sentence that shares
 * most words with the question (the earliest on a tie), widened with its
 * neighbours while they share words too (the one before first on a tie), in
 * article order.
 */
export function bestPassage(questionStems: Set<string>, body: string, max = 3): string[] {
  const all = sentences(body);
  const overlap = all.map((text) => {
    const stems = contentStems(text);
    let n = 0;
    for (const s of questionStems) if (stems.has(s)) n++;
    return n;
  });
  if (all.length === 0) return [];
  let best = 0;
  overlap.forEach((n, i) => {
    if (n > overlap[best]) best = i;
  });
  let from = best;
  let to = best;
  while (to - from + 1 < max && overlap[best] > 0) {
    const before = from > 0 ? overlap[from - 1] : 0;
    const after = to < all.length - 1 ? overlap[to + 1] : 0;
    if (before === 0 && after === 0) break;
    if (before >= after) from--;
    else to++;
  }
  // A lone sentence is usually the first step of a procedure: the next one continues it.
  if (from === to && to < all.length - 1 && max > 1) to++;
  return all.slice(from, to + 1);
}

/** Builds an extractive answer from the best article, with its citation and confidence. */
export function answer(question: string, ranked: RankedArticle[]): Answer {
  const articlesTried = ranked.map((a) => a.id);
  const best = ranked[0];
  const questionStems = contentStems(question);
  if (!best || questionStems.size === 0) {
    return { text: NO_ANSWER_TEXT, confidence: 0, citations: [], intent: 'unknown', articlesTried };
  }
  const cover = coverage(questionStems, best);
  const confidence = confidenceOf(cover, best.score, ranked[1]?.score);
  if (confidence === 0) {
    return { text: NO_ANSWER_TEXT, confidence: 0, citations: [], intent: 'unknown', articlesTried };
  }
  const snippet = bestPassage(questionStems, best.body).join(' ');
  return {
    text: `${snippet}\n\n(Source: ${best.title})`,
    confidence,
    citations: [{ articleId: best.id, title: best.title, snippet, score: best.score }],
    intent: best.tags[0] ?? 'unknown',
    articlesTried,
  };
}
