/**
 * Detects an explicit request for a person, honoured at once: the decider
 * never argues with it or waits for the AI. Three layers:
 *
 * 1. negations (@support/text, negation.ts), in every language the decider
 *    serves: a clause saying the customer does NOT want a person ("no need for
 *    a human", "kein Mensch nötig") is taken out of the text first;
 * 2. the lexicon (human-request/lexicon.ts), wording per language: cheap,
 *    precise, and the language of the request;
 * 3. for English wording the lexicon misses, the learned classifier
 *    (human-request/classifier.ts) over the sentence encoder's vector of the
 *    text, when the caller has one (the decider's adapter does).
 */
import { requestProbability, type HumanRequestModel } from './human-request/classifier.js';
import { hasPersonCue } from './human-request/cues.js';
import { looksEnglish } from './human-request/language.js';
import { matchLexicon } from './human-request/lexicon.js';
import { normalize, removeNegated, type Negation } from '@support/text';

export interface HumanRequest {
  /** ISO 639-1 code of the language the customer asked in. */
  language: string;
  /** The words that asked (the lexicon's match, or the start of the text the classifier read). */
  phrase: string;
  /** Which layer recognised it. */
  layer: 'lexicon' | 'classifier';
  /** The classifier's probability; 1 for the lexicon. */
  probability: number;
  /** The probability the classifier needs; 1 for the lexicon. */
  threshold: number;
}

/** Whatever finds requests for a person in a message's text. */
export type HumanRequestDetector = (text: string) => Promise<HumanRequest | undefined>;

/** The learned layer: its model and the function that embeds a text with the model's encoder. */
export interface HumanRequestClassifier {
  model: HumanRequestModel;
  embed: (text: string) => Promise<ArrayLike<number>>;
}

const PHRASE_CHARS = 80;

/**
 * What the classifier reads of a message (also what it is trained on): the
 * normalised text without its negated clauses; '' when nothing is left.
 */
export function classifierInput(text: string): string {
  return removeNegated(normalize(text)).rest;
}

/** The negated clauses of a message ("no need for a human"), for explanations and tests. */
export function negationsIn(text: string): Negation[] {
  return removeNegated(normalize(text)).negations;
}

/**
 * Whether the classifier is asked about a text the lexicon does not match:
 * English wording (it was trained on English) that names a person, talking to
 * one, or the bot (human-request/cues.ts).
 */
export function classifierAsked(rest: string): boolean {
  return looksEnglish(rest) && hasPersonCue(rest);
}

/** The lexicon layers alone (negations, then the lexicon): synchronous, no encoder. */
export function detectHumanRequest(text: string): HumanRequest | undefined {
  const match = matchLexicon(classifierInput(text));
  return match && { ...match, layer: 'lexicon', probability: 1, threshold: 1 };
}

/**
 * The layered detector: the lexicon first, then, for English text it does not
 * match, the classifier when one is given. Without a classifier it is the
 * lexicon layers alone.
 */
export function humanRequestDetector(classifier?: HumanRequestClassifier): HumanRequestDetector {
  return async (text) => {
    const rest = classifierInput(text);
    if (!rest) return undefined;
    const match = matchLexicon(rest);
    if (match) return { ...match, layer: 'lexicon', probability: 1, threshold: 1 };
    if (!classifier || !classifierAsked(rest)) return undefined;
    const probability = requestProbability(classifier.model, await classifier.embed(rest));
    if (probability < classifier.model.threshold) return undefined;
    return {
      language: 'en',
      phrase: rest.length > PHRASE_CHARS ? `${rest.slice(0, PHRASE_CHARS - 1)}…` : rest,
      layer: 'classifier',
      probability,
      threshold: classifier.model.threshold,
    };
  };
}

/** The lexicon layers as a detector: what decides when no classifier is wired in. */
export const lexiconDetector: HumanRequestDetector = (text) =>
  Promise.resolve(detectHumanRequest(text));
