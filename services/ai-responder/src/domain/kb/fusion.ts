import type { RankedArticle } from '../answer.js';

/** A passage found by meaning: the article it belongs to and its cosine with the question. */
export interface VectorHit {
  article: RankedArticle;
  similarity: number;
}

/**
 * How the two rankings weigh in the fused score: the word match (BM25,
 * squashed to 0..1 by BM25_HALF) and the meaning (cosine). Measured on the
 * responder's calibration questions (`npm run eval`), weights from 0.3 to 0.7
 * put the right article first equally often (within one question of 156) and
 * beat either ranking alone by 5 points; reciprocal-rank fusion did as well
 * but buries a passage that only its meaning finds (no shared word) under
 * any passage that both rankings place middling.
 */
export const WORDS_WEIGHT = 0.6;
/** The BM25 score that counts as half a word match. */
export const BM25_HALF = 20;

/** Article ids in order of their best passage's first appearance. */
function articleOrder(ids: string[]): Map<string, number> {
  const order = new Map<string, number>();
  for (const id of ids) if (!order.has(id)) order.set(id, order.size);
  return order;
}

const wordScore = (a: RankedArticle) => (a.score > 0 ? a.score / (a.score + BM25_HALF) : 0);

/**
 * Fuses the word ranking (BM25, passages best first) with the meaning
 * ranking (passage vectors by cosine, best first), per passage:
 * WORDS_WEIGHT × the squashed BM25 score + the rest × the cosine, times the
 * page boost of an article for the customer's page (`pageBoost`, on the
 * passages of either list).
 * `cosineOf` gives the cosine of a passage the meaning ranking did not list
 * (undefined when the passage has no vector). Each passage keeps its BM25
 * score (0 when only its meaning matched) and its cosine, and learns where its
 * article stood in either ranking, so that the confidence can weigh whether
 * both put the same article first.
 */
export function fuseRankings(
  textRanked: RankedArticle[],
  byVector: VectorHit[],
  cosineOf: (passageId: string) => number | undefined = () => undefined,
): RankedArticle[] {
  const fused = new Map<string, RankedArticle>();
  for (const a of textRanked) {
    const similarity = cosineOf(a.passage.id);
    fused.set(a.passage.id, similarity === undefined ? { ...a } : { ...a, similarity });
  }
  for (const { article, similarity } of byVector) {
    const seen = fused.get(article.passage.id);
    fused.set(article.passage.id, { ...(seen ?? { ...article, score: 0 }), similarity });
  }
  const value = (a: RankedArticle) =>
    (a.pageBoost ?? 1) *
    (WORDS_WEIGHT * wordScore(a) + (1 - WORDS_WEIGHT) * Math.max(0, a.similarity ?? 0));
  const byWords = articleOrder(textRanked.map((a) => a.id));
  const byMeaning = articleOrder(byVector.map((h) => h.article.id));
  return [...fused.values()]
    .map((a) => ({ a, v: value(a) }))
    .sort((x, y) => y.v - x.v)
    .map(({ a }) => ({
      ...a,
      ranks: { words: byWords.get(a.id) ?? -1, meaning: byMeaning.get(a.id) ?? -1 },
    }));
}
