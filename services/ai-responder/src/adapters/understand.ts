import type { GivenVector } from '@support/encoder';
import { normalize, removeNegated } from '@support/text';
import type { RankedArticle } from '../domain/answer.js';
import { plainText } from '../domain/kb/passages.js';
import { questionPart } from '../domain/guard.js';
import type { Detail } from '../domain/intake.js';
import { respond, type Classification, type Generator, type Proposal } from '../domain/respond.js';
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
  message: { text: string; locale: string; pageUrl?: string; vector?: GivenVector },
  options: { topK: number; defaultLocale: string; pageBoost?: number },
): Promise<Understood> {
  const classifyTimer = stepSeconds.startTimer({ step: 'classify' });
  const { classification, vector } = await deps.classifier.analyse(message.text, message.vector);
  classifyTimer();
  const retrievalTimer = retrievalSeconds.startTimer();
  const ranked = await deps.kb.search(
    message.text,
    message.locale,
    options.topK,
    options.defaultLocale,
    {
      pageUrl: message.pageUrl,
      pageBoost: options.pageBoost,
      // The message's vector from the classifier, reused when retrieval embeds with the same model.
      vector: { model: `local:${deps.classifier.encoderName}`, values: vector },
    },
  );
  retrievalTimer();
  const best = ranked[0];
  if (!best) return { classification, ranked, similarity: 0 };
  // Which of the best article's matching passages answers: closest in meaning, word matches breaking near-ties.
  const candidates = [
    { ...best.passage, score: best.score },
    ...(best.alternatives ?? []).slice(0, 3),
  ];
  const sims = await deps.classifier.similarity(
    vector,
    candidates.map((p) => ({
      key: `${p.id}@${best.version}`,
      text: `${best.title}. ${plainText(p.text)}`,
    })),
  );
  const top = Math.max(...candidates.map((p) => p.score), 1e-9);
  const merit = (i: number) => sims[i] + 0.1 * (candidates[i].score / top);
  let chosen = 0;
  for (let i = 1; i < candidates.length; i++) if (merit(i) > merit(chosen)) chosen = i;
  const { score: _score, ...passage } = candidates[chosen];
  ranked[0] = { ...best, passage };
  return { classification, ranked, similarity: sims[chosen] };
}

/**
 * Runs the negation lexicon (hundreds of regular expressions in nine languages) twice before the
 * first message: V8 compiles each expression when first run and again when it tiers it up, which
 * would cost the first two customers after a start about a fifth of a second each. Returns the
 * time it took, in milliseconds.
 */
export function warmUpLexicons(): number {
  const started = performance.now();
  for (const text of [
    'No need for a human, how do I export my invoices?',
    'I do not want a refund',
  ])
    removeNegated(normalize(text));
  return performance.now() - started;
}

/**
 * The responder's whole path for one message, as the log consumer, the
 * preview API and the calibration run it: instructions to the AI set aside,
 * the message understood, the reply written and weighed.
 */
export async function proposeReply(
  deps: { kb: KnowledgeBase; classifier: SupportClassifier; generator: Generator },
  message: {
    messageId: string;
    text: string;
    locale: string;
    /** Details collected earlier in the conversation. */
    known: Detail[];
    /** The responder already asked this conversation for details. */
    askedBefore: boolean;
    /** The customer's earlier messages, oldest first (never an agent's lines). */
    earlier?: string[];
    /** The conversation before the message, for the generator (see formatContext). */
    conversation?: string;
    /** The person a draft is for, when a person holds the conversation (see RespondInput.draftFor). */
    draftFor?: string;
    /** The page the customer is on (a path or a URL): articles for it are preferred. */
    pageUrl?: string;
    /** The vector of `text` ingest embedded, if any. */
    vector?: GivenVector;
  },
  options: { topK: number; defaultLocale: string; pageBoost?: number },
): Promise<Proposal> {
  const { question: whole } = questionPart(message.text);
  // "No need for a human, how do I…": the declined person is neither the question nor a request.
  const declined = removeNegated(normalize(whole));
  const question = declined.negations.length && declined.rest ? declined.rest : whole;
  const understood = await understand(
    deps,
    {
      text: question,
      locale: message.locale,
      pageUrl: message.pageUrl,
      // The message's vector is the question's only when the question is the whole message.
      ...(question === message.text && message.vector ? { vector: message.vector } : {}),
    },
    options,
  );
  const generateTimer = stepSeconds.startTimer({ step: 'generate' });
  try {
    return await respond(
      { ...message, question, ...understood, declinedPerson: declined.negations.length > 0 },
      { generator: deps.generator },
    );
  } finally {
    generateTimer();
  }
}
