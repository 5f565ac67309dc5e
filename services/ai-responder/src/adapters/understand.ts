import type { RankedArticle } from '../domain/answer.js';
import { plainText } from '../domain/kb/passages.js';
import type { Classification } from '../domain/respond.js';
import type { SupportClassifier } from './classifier.js';
import type { KnowledgeBase } from './db/knowledge-base.js';
import { retrievalSeconds, stepSeconds } from './metrics.js';

export interface Understood {
  classification: Classification;
  ranked: RankedArticle[];
  /** Sentence-encoder similarity of the message to the best passage (0 when nothing was found). */
  similarity: number;
}

/** What the responder knows about a message before answering: its intent, the best articles, how close the best is. */
export async function understand(
  deps: { kb: KnowledgeBase; classifier: SupportClassifier },
  message: { text: string; locale: string },
  options: { topK: number; defaultLocale: string },
): Promise<Understood> {
  const classifyTimer = stepSeconds.startTimer({ step: 'classify' });
  const classification = await deps.classifier.classify(message.text);
  classifyTimer();
  const retrievalTimer = retrievalSeconds.startTimer();
  const ranked = await deps.kb.search(
    message.text,
    message.locale,
    options.topK,
    options.defaultLocale,
  );
  retrievalTimer();
  const best = ranked[0];
  const [similarity = 0] = best
    ? await deps.classifier.similarity(message.text, [
        `${best.title}. ${plainText(best.passage.text)}`,
      ])
    : [];
  return { classification, ranked, similarity };
}
