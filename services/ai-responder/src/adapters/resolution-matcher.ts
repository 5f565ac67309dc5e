import { Inject, Injectable, Optional } from '@nestjs/common';
import { cosineSimilarity } from '@support/encoder';
import { CONFIG } from '@support/service-kit';
import type { Config } from '../config.js';
import {
  similarity,
  storedOrEmbedded,
  type SuggestionDraft,
  type SuggestionSourceView,
} from '../domain/kb/suggestion.js';
import { CLASSIFIER, type SupportClassifier } from './classifier.js';
import { KnowledgeBase } from './db/knowledge-base.js';
import type { SuggestionRow } from './db/schema.js';
import type { Embedded } from './db/suggestion-writes.js';
import { EMBEDDER, type Embedder } from './embeddings.js';

/** The text a suggestion's vector is made of: the question and its answer. */
export const vectorText = (s: { title: string; body: string }) =>
  `${s.title}\n${s.body}`.slice(0, 2000);

/**
 * How alike a resolution (or an agent's draft) is to what the knowledge base already holds:
 * the pending suggestions it may be merged into, and the published articles that may already
 * answer it. Meaning by vectors (the configured embeddings provider, else the classifier's
 * sentence encoder), words by the questions and titles (domain/kb/suggestion.ts `similarity`).
 */
@Injectable()
export class ResolutionMatcher {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly kb: KnowledgeBase,
    @Inject(CLASSIFIER) private readonly classifier: SupportClassifier,
    @Optional() @Inject(EMBEDDER) private readonly embedder?: Embedder | null,
  ) {}

  /** Vectors by the configured embeddings provider, else the sentence encoder the classifier uses. */
  async embed(texts: string[]): Promise<{ model: string; vectors: number[][] }> {
    if (this.embedder)
      return { model: this.embedder.model, vectors: await this.embedder.embed(texts) };
    const vectors = await this.classifier.embed(texts);
    return { model: this.classifier.encoderName, vectors: vectors.map((v) => Array.from(v)) };
  }

  /** The draft's vector, by the model that made it. */
  async embedDraft(draft: SuggestionDraft): Promise<Embedded> {
    const { model, vectors } = await this.embed([vectorText(draft)]);
    return { model, vector: vectors[0] };
  }

  /**
   * Each pending suggestion with how alike the draft is to it: meaning of question and answer,
   * words of the draft's title against the suggestion's title and its sources' questions.
   */
  async pending(rows: SuggestionRow[], draft: SuggestionDraft, embedded: Embedded) {
    return Promise.all(
      rows.map(async (row) => {
        const theirs =
          row.vector && row.vectorModel === embedded.model
            ? row.vector
            : (await this.embed([vectorText(row)])).vectors[0];
        const questions = [
          row.title,
          ...(row.sources as SuggestionSourceView[]).map((x) => x.question),
        ];
        const meaning = cosine(embedded.vector, theirs);
        const best = Math.max(
          ...questions.filter(Boolean).map((q) => similarity(meaning, draft.title, q).score),
        );
        return { suggestionId: row.suggestionId, similarity: best, row };
      }),
    );
  }

  /**
   * The published articles retrieval finds for the question, with how alike
   * each is to the resolution: meaning of question and answer against the
   * article's best passage, words of the question against its title.
   */
  async published(
    draft: SuggestionDraft,
    { model, vector }: Embedded,
  ): Promise<{ articleId: string; similarity: number }[]> {
    const ranked = await this.kb.search(
      draft.title,
      draft.locale,
      3,
      this.config.KB_DEFAULT_LOCALE,
    );
    if (ranked.length === 0) return [];
    // The passages' vectors the knowledge base stored with them, when made by the same model; a
    // resolution used to embed its three matches again (the responder's costliest encoder work).
    const vectors = await storedOrEmbedded(
      ranked,
      (r) => this.kb.passageVector(r.passage.id, model),
      async (missing) =>
        (
          await this.embed(
            missing.map((r) =>
              `${r.title}\n${r.passage.heading}\n${r.passage.text}`.slice(0, 2000),
            ),
          )
        ).vectors,
    );
    return ranked.map((r, i) => ({
      articleId: r.id,
      similarity: similarity(cosine(vector, vectors[i]), draft.title, r.title).score,
    }));
  }
}

function cosine(a: number[], b: number[]): number {
  return a.length > 0 && a.length === b.length ? cosineSimilarity(a, b) : 0;
}
