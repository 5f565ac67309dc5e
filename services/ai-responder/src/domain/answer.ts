import { plainText } from './kb/passages.js';
import { contentStems, sentences, stem, tokens } from '@support/text';

/** An article as retrieval returns it, best first, with its best passage. */
export interface RankedArticle {
  id: string;
  title: string;
  body: string;
  tags: string[];
  productAreas: string[];
  /** The article's page patterns; retrieval prefers it on those pages. */
  pages?: string[];
  version: number;
  /** BM25 score of the best passage, higher is better, unbounded; 0 if found by vector only. */
  score: number;
  /** How many times its score counted in the ranking: more than 1 for an article for the customer's page. */
  pageBoost?: number;
  /** Cosine similarity of the best passage to the question, when embeddings are configured. */
  similarity?: number;
  /**
   * Where the article stood in the word ranking (BM25) and in the meaning
   * ranking (passage vectors), 0 = first, -1 = absent; only with hybrid retrieval.
   */
  ranks?: { words: number; meaning: number };
  passage: { id: string; heading: string; text: string };
  /** The article's other matching passages, best first, with their scores. */
  alternatives?: { id: string; heading: string; text: string; score: number }[];
}

export interface CitationDraft {
  articleId: string;
  title: string;
  snippet: string;
  score: number;
  passageId: string;
  articleVersion: number;
}

/** The evidence a confidence is built from, each 0..1. */
export interface Evidence {
  retrieval: number;
  margin: number;
  coverage: number;
  classifier: number;
  outOfScope: number;
  grounding: number;
  /** Sentence-encoder similarity of the question to the best passage. */
  similarity: number;
  /**
   * 1 when the word ranking and the meaning ranking both put the best article
   * first, 0 when they disagree, 0.5 without hybrid retrieval (unknown).
   */
  agreement: number;
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

/**
 * What the customer asks: the sentences that are questions, when some are
 * ("How do I reset my password? This is ridiculous!" asks the first), else
 * the whole message. Remarks, feelings and context beside a question are not
 * what the answer must cover.
 */
export function askedPart(text: string): string {
  const asked = sentences(text).filter((s) => s.trimEnd().endsWith('?'));
  return asked.length ? asked.join(' ') : text;
}

/** The BM25 score at which retrieval strength is one half. */
const BM25_HALF = 10;

/**
 * The retrieval part of the evidence: score strength, margin over the
 * runner-up, coverage. The strength is the best passage's own score; the
 * margin compares the scores as they ranked (an article for the customer's
 * page counting its boost), so that the page telling two similar articles
 * apart counts as a clear winner.
 */
export function retrievalEvidence(
  question: string,
  ranked: RankedArticle[],
): Pick<Evidence, 'retrieval' | 'margin' | 'coverage' | 'agreement'> {
  const best = ranked[0];
  if (!best) return { retrieval: 0, margin: 0, coverage: 0, agreement: 0 };
  const ranking = (a: RankedArticle) => a.score * (a.pageBoost ?? 1);
  const top = ranking(best);
  const runnerUp = ranked[1] ? ranking(ranked[1]) : undefined;
  const strength =
    best.score > 0
      ? best.score / (best.score + BM25_HALF)
      : Math.max(0, (best.similarity ?? 0) - 0.3) / 0.7;
  const margin = runnerUp === undefined || top <= 0 ? 1 : Math.max(0, (top - runnerUp) / top);
  return {
    retrieval: round(strength),
    margin: round(margin),
    // The whole message, or its questions alone when remarks beside them dilute it.
    coverage: round(
      Math.max(
        coverage(contentStems(question), best),
        coverage(contentStems(askedPart(question)), best),
      ),
    ),
    agreement: best.ranks ? (best.ranks.words === 0 && best.ranks.meaning === 0 ? 1 : 0) : 0.5,
  };
}

type UnitKind = 'heading' | 'item' | 'row' | 'prose';

interface Unit {
  kind: UnitKind;
  text: string;
}

const inline = (md: string) => plainText(md).replace(/\s+/g, ' ').trim();

/** A passage's Markdown as units: headings, list items, table rows and prose sentences. */
export function units(markdown: string): Unit[] {
  const out: Unit[] = [];
  let header: string[] | undefined;
  for (const raw of markdown.split('\n')) {
    const line = raw.trim();
    if (!line) {
      header = undefined;
      continue;
    }
    const heading = /^#{1,6}\s+(.+?)\s*#*$/.exec(line);
    if (heading) out.push({ kind: 'heading', text: `${inline(heading[1])}:` });
    else if (/^\|?\s*:?-{3,}/.test(line)) continue;
    else if (line.startsWith('|')) {
      const cells = line
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((c) => inline(c));
      if (!header) header = cells;
      else
        out.push({
          kind: 'row',
          text: cells.map((c, i) => (i > 0 && header?.[i] ? `${header[i]}: ${c}` : c)).join('; '),
        });
    } else if (/^([-*+]|\d+[.)])\s+/.test(line)) {
      out.push({ kind: 'item', text: inline(line.replace(/^[-*+]\s+/, '- ')) });
    } else {
      for (const sentence of sentences(inline(line))) out.push({ kind: 'prose', text: sentence });
    }
  }
  return out;
}

/** Sentences that only introduce the article ("This article explains...") answer nothing. */
const SIGNPOST = /^(this|the following|in this) (article|section|page|guide)\b/i;

/**
 * An extractive excerpt: the unit that shares most words with the question
 * (never a heading or a signpost; the earliest on a tie), widened with
 * neighbours in its section while they share words too, up to `max` units; a
 * list or table it touches is kept whole (up to 8 entries), since a procedure
 * cut short misleads, and is introduced by its section heading.
 */
export function bestExcerpt(questionStems: Set<string>, passage: string, max = 3): string[] {
  const all = units(passage);
  const candidates = all
    .map((u, i) => ({ u, i }))
    .filter(({ u }) => u.kind !== 'heading' && !SIGNPOST.test(u.text));
  if (candidates.length === 0) return all.map((u) => u.text).slice(0, max);
  const overlap = all.map((u) => {
    if (u.kind === 'heading' || SIGNPOST.test(u.text)) return 0;
    const stems = contentStems(u.text);
    let n = 0;
    for (const s of questionStems) if (stems.has(s)) n++;
    return n;
  });
  let best = candidates[0].i;
  for (const { i } of candidates) if (overlap[i] > overlap[best]) best = i;
  const inSection = (i: number) => i >= 0 && i < all.length && all[i].kind !== 'heading';
  let from = best;
  let to = best;
  while (to - from + 1 < max) {
    const before = inSection(from - 1) ? overlap[from - 1] : -1;
    const after = inSection(to + 1) ? overlap[to + 1] : -1;
    if (before <= 0 && after <= 0) break;
    if (before >= after) from--;
    else to++;
  }
  // A lone sentence is usually the lead-in to what follows: the next one continues it.
  if (from === to && inSection(to + 1)) to++;
  const listy = (i: number) => inSection(i) && (all[i].kind === 'item' || all[i].kind === 'row');
  if (listy(from) || listy(to) || listy(to + 1)) {
    while (listy(from - 1) && to - from < 8) from--;
    while (listy(to + 1) && to - from < 8) to++;
  }
  const excerpt = all.slice(from, to + 1).map((u) => u.text);
  // Steps or rows open with the heading that says what they are for.
  if (listy(from)) {
    let h = from - 1;
    while (h >= 0 && all[h].kind !== 'heading' && !listy(h) && from - h <= 2) h--;
    if (h >= 0 && all[h].kind === 'heading') excerpt.unshift(all[h].text);
  }
  return excerpt;
}

/** The extractive answer: the best passage's most relevant units, with its citation. */
export function extractiveAnswer(
  question: string,
  best: RankedArticle,
): { text: string; citation: CitationDraft } {
  const excerpt = bestExcerpt(contentStems(question), best.passage.text).join('\n');
  return {
    text: `${excerpt}\n\n(Source: ${best.title})`,
    citation: citationOf(best, excerpt),
  };
}

export function citationOf(article: RankedArticle, snippet: string): CitationDraft {
  return {
    articleId: article.id,
    title: article.title,
    snippet,
    score: Math.round(article.score * 1000) / 1000,
    passageId: article.passage.id,
    articleVersion: article.version,
  };
}

/**
 * How much of a generated answer its sources support, 0..1: the mean, over
 * the answer's sentences, of the share of their content words found in the
 * cited passages; a number the sources don't contain halves the result.
 */
export function grounding(answer: string, sources: string[]): number {
  const sourceText = sources.join('\n');
  const sourceStems = new Set(tokens(sourceText).map(stem));
  const parts = sentences(answer.replace(/\n+/g, ' ')).filter((s) => contentStems(s).size > 0);
  if (parts.length === 0) return 0;
  let total = 0;
  for (const s of parts) {
    const stems = contentStems(s);
    let hit = 0;
    for (const w of stems) if (sourceStems.has(w)) hit++;
    total += hit / stems.size;
  }
  let score = total / parts.length;
  const sourceNumbers = new Set(sourceText.match(/\d+(?:[.,]\d+)*/g) ?? []);
  const numbers = answer.match(/\d+(?:[.,]\d+)*/g) ?? [];
  if (numbers.some((n) => !sourceNumbers.has(n))) score /= 2;
  return round(score);
}

function round(x: number): number {
  return Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
}
