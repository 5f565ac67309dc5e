import MiniSearch from 'minisearch';
import { isStopWord, stem } from '@support/text';
import { languageOf } from './language.js';
import { plainText } from './passages.js';

/** A published passage with what retrieval and answering need of its article. */
export interface IndexedPassage {
  id: string;
  articleId: string;
  title: string;
  heading: string;
  tags: string[];
  productAreas: string[];
  /** The article's page patterns (see pages.ts). */
  pages?: string[];
  locale: string;
  version: number;
  /** Markdown. */
  text: string;
  /** The whole article body, for coverage. */
  body: string;
}

export interface PassageHit {
  passage: IndexedPassage;
  score: number;
}

/** English gets stop words and the light stemmer; other languages are matched on lower-cased words. */
function processTermFor(lang: string) {
  return (term: string): string | null => {
    const t = term.toLowerCase().replace(/['\u2019]/g, '');
    if (!t) return null;
    if (lang !== 'en') return t;
    if (t.length < 2 || isStopWord(t)) return null;
    return stem(t);
  };
}

const BOOST = { title: 3, heading: 2, tags: 2, text: 1 };

/**
 * BM25 search (MiniSearch) over the published passages, one index per
 * language: title, section heading and tags weigh more than the text; long
 * words tolerate a typo.
 */
export class PassageIndex {
  private readonly byLanguage = new Map<string, MiniSearch<IndexedPassage>>();
  private readonly passages = new Map<string, IndexedPassage>();

  constructor(passages: IndexedPassage[]) {
    const groups = new Map<string, IndexedPassage[]>();
    for (const p of passages) {
      this.passages.set(p.id, p);
      const lang = languageOf(p.locale);
      groups.set(lang, [...(groups.get(lang) ?? []), p]);
    }
    for (const [lang, list] of groups) {
      const index = new MiniSearch<IndexedPassage>({
        fields: ['title', 'heading', 'tags', 'text'],
        extractField: (doc, field) => {
          if (field === 'tags') return doc.tags.join(' ').replace(/[_-]/g, ' ');
          if (field === 'text') return plainText(doc.text);
          return String((doc as unknown as Record<string, unknown>)[field] ?? '');
        },
        processTerm: processTermFor(lang),
      });
      index.addAll(list);
      this.byLanguage.set(lang, index);
    }
  }

  get size(): number {
    return this.passages.size;
  }

  has(lang: string): boolean {
    return this.byLanguage.has(lang);
  }

  /** The best passages in one language for the question, best first. */
  search(question: string, lang: string, limit = 40): PassageHit[] {
    const index = this.byLanguage.get(lang);
    if (!index) return [];
    return index
      .search(question, {
        boost: BOOST,
        combineWith: 'OR',
        fuzzy: (term) => (term.length > 5 ? 0.2 : false),
        weights: { fuzzy: 0.3, prefix: 0.3 },
      })
      .slice(0, limit)
      .map((r) => ({ passage: this.passages.get(String(r.id))!, score: r.score }));
  }

  passage(id: string): IndexedPassage | undefined {
    return this.passages.get(id);
  }

  all(): IndexedPassage[] {
    return [...this.passages.values()];
  }
}
